// The route table: which host, method and path go to which handler, with the scope, base role
// and fault category each needs. Paths match with or without a trailing slash.
import type { RouteContext } from "./core.ts";
import type { Base, SimState } from "./model.ts";
import { uploadAttachment } from "./routes-content.ts";
import {
  createBase,
  createField,
  createTable,
  getSchema,
  listBases,
  updateField,
  updateTable,
  whoami,
} from "./routes-meta.ts";
import { getRecord, listComments, listRecords } from "./routes-read.ts";
import { createComment, createRecords, updateRecords } from "./routes-write.ts";
import type { FaultRoute, PermissionLevel } from "./types.ts";

export type Host = "api" | "content";

export interface Route {
  name: string; // as in counters.requests
  host: Host;
  methods: string[];
  pattern: string[]; // ":param" segments match anything
  scope?: string;
  /** minimum permission level on the base named by :baseId (none for routes without a base) */
  role?: PermissionLevel;
  fault: FaultRoute | undefined;
  handler: (ctx: RouteContext, base: Base) => Promise<Response>;
}

const r = (
  name: string,
  host: Host,
  methods: string[],
  path: string,
  scope: string | undefined,
  role: PermissionLevel | undefined,
  fault: FaultRoute | undefined,
  handler: Route["handler"],
): Route => ({
  name,
  host,
  methods,
  pattern: path.split("/").filter(Boolean),
  scope,
  role,
  fault,
  handler,
});

// Order matters: the meta routes come before /v0/:baseId/:table.
export const ROUTES: Route[] = [
  r("whoami", "api", ["GET"], "/v0/meta/whoami", undefined, undefined, "meta", whoami),
  r("listBases", "api", ["GET"], "/v0/meta/bases", "schema.bases:read", undefined, "meta", listBases),
  r("createBase", "api", ["POST"], "/v0/meta/bases", "schema.bases:write", undefined, "write", createBase),
  r("getSchema", "api", ["GET"], "/v0/meta/bases/:baseId/tables", "schema.bases:read", "read", "meta", getSchema),
  r(
    "createTable",
    "api",
    ["POST"],
    "/v0/meta/bases/:baseId/tables",
    "schema.bases:write",
    "create",
    "write",
    createTable,
  ),
  r(
    "updateTable",
    "api",
    ["PATCH"],
    "/v0/meta/bases/:baseId/tables/:tableId",
    "schema.bases:write",
    "create",
    "write",
    updateTable,
  ),
  r(
    "createField",
    "api",
    ["POST"],
    "/v0/meta/bases/:baseId/tables/:tableId/fields",
    "schema.bases:write",
    "create",
    "write",
    createField,
  ),
  r(
    "updateField",
    "api",
    ["PATCH"],
    "/v0/meta/bases/:baseId/tables/:tableId/fields/:fieldId",
    "schema.bases:write",
    "create",
    "write",
    updateField,
  ),
  r("listRecords", "api", ["GET"], "/v0/:baseId/:table", "data.records:read", "read", "list", listRecords),
  r("listRecords", "api", ["POST"], "/v0/:baseId/:table/listRecords", "data.records:read", "read", "list", listRecords),
  r("createRecords", "api", ["POST"], "/v0/:baseId/:table", "data.records:write", "edit", "write", createRecords),
  r(
    "updateRecords",
    "api",
    ["PATCH", "PUT"],
    "/v0/:baseId/:table",
    "data.records:write",
    "edit",
    "write",
    updateRecords,
  ),
  r("getRecord", "api", ["GET"], "/v0/:baseId/:table/:recordId", "data.records:read", "read", "list", getRecord),
  r(
    "updateRecords",
    "api",
    ["PATCH", "PUT"],
    "/v0/:baseId/:table/:recordId",
    "data.records:write",
    "edit",
    "write",
    updateRecords,
  ),
  r(
    "listComments",
    "api",
    ["GET"],
    "/v0/:baseId/:table/:recordId/comments",
    "data.recordComments:read",
    "read",
    "list",
    listComments,
  ),
  r(
    "createComment",
    "api",
    ["POST"],
    "/v0/:baseId/:table/:recordId/comments",
    "data.recordComments:write",
    "comment",
    "write",
    createComment,
  ),
  r(
    "uploadAttachment",
    "content",
    ["POST"],
    "/v0/:baseId/:recordId/:field/uploadAttachment",
    "data.records:write",
    "edit",
    "upload",
    uploadAttachment,
  ),
];

const LEVELS: PermissionLevel[] = ["none", "read", "comment", "edit", "create"];

export function hasRole(level: PermissionLevel, needed: PermissionLevel): boolean {
  return LEVELS.indexOf(level) >= LEVELS.indexOf(needed);
}

/** Finds the route for a request. Segments are percent-decoded, `+` read as a space (airtable.js). */
export function matchRoute(
  host: Host,
  method: string,
  pathname: string,
): { route: Route; params: Record<string, string> } | undefined {
  const segments = pathname.split("/").filter(Boolean);
  for (const route of ROUTES) {
    if (route.host !== host || !route.methods.includes(method) || route.pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const ok = route.pattern.every((p, i) => {
      const segment = decodeSegment(segments[i]!);
      if (p.startsWith(":")) params[p.slice(1)] = segment;
      return p.startsWith(":") || p === segment;
    });
    if (ok) return { route, params };
  }
  return undefined;
}

/** The base named by :baseId, if it exists. */
export function baseOf(state: SimState, params: Record<string, string>): Base | undefined {
  return params.baseId ? state.bases.get(params.baseId) : undefined;
}

// --- internal ---

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment.replace(/\+/g, " "));
  } catch {
    return segment;
  }
}
