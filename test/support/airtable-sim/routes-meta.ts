// Meta API routes: whoami, list bases, base schema, create base/table/field, update table/field.
import type { RouteContext } from "./core.ts";
import { apiError, forbidden, invalidRequest, json, readJson } from "./http.ts";
import { type Base, findField, findTable, type Table } from "./model.ts";
import { assertPrimaryType, buildField, tableSchema } from "./schema.ts";
import type { FieldSchema } from "./types.ts";

const BASES_PAGE_SIZE = 1000;

export async function whoami(ctx: RouteContext): Promise<Response> {
  return json({ id: ctx.userId, scopes: ctx.grant.scopes ?? [] });
}

/** GET /v0/meta/bases: the bases this token may see, 1000 per page, offset `itr…/app…`. */
export async function listBases(ctx: RouteContext): Promise<Response> {
  const visible = [...ctx.core.state.bases.values()].filter(
    (b) => b.permissionLevel !== "none" && (!ctx.grant.bases || ctx.grant.bases.includes(b.id)),
  );
  const offset = ctx.url.searchParams.get("offset");
  let start = 0;
  if (offset) {
    start = visible.findIndex((b) => b.id === offset.split("/")[1]);
    if (start < 0) throw apiError(422, "LIST_BASES_ITERATOR_NOT_AVAILABLE"); // type name: ours (UNCERTAIN)
  }
  const page = visible.slice(start, start + BASES_PAGE_SIZE);
  const next = visible[start + BASES_PAGE_SIZE];
  return json({
    bases: page.map((b) => ({ id: b.id, name: b.name, permissionLevel: b.permissionLevel })),
    ...(next ? { offset: `${ctx.core.state.newId("itr")}/${next.id}` } : {}),
  });
}

export async function getSchema(ctx: RouteContext, base: Base): Promise<Response> {
  const include = ctx.url.searchParams.getAll("include").concat(ctx.url.searchParams.getAll("include[]"));
  return json({ tables: base.tables.map((t) => tableSchema(t, include.includes("visibleFieldIds"))) });
}

/** POST /v0/meta/bases {name, workspaceId, tables} -> {id, tables}. The new base joins the token's bases. */
export async function createBase(ctx: RouteContext): Promise<Response> {
  const body = await readJson(ctx.req);
  if (typeof body.name !== "string" || body.name === "" || !Array.isArray(body.tables) || body.tables.length === 0)
    throw invalidRequest();
  if (typeof body.workspaceId !== "string" || !body.workspaceId.startsWith("wsp")) throw forbidden();
  const { state } = ctx.core;
  const base: Base = { id: state.newId("app"), name: body.name, permissionLevel: "create", tables: [] };
  for (const input of body.tables as Record<string, unknown>[]) {
    // A primaryFieldId key here is refused (pyairtable#410).
    if ("primaryFieldId" in input) throw invalidRequest();
    addTable(base, buildTable(ctx, base, input));
  }
  state.bases.set(base.id, base);
  ctx.grant.bases?.push(base.id);
  ctx.wrote = true;
  return json({ id: base.id, tables: base.tables.map((t) => tableSchema(t)) });
}

export async function createTable(ctx: RouteContext, base: Base): Promise<Response> {
  const built = buildTable(ctx, base, await readJson(ctx.req));
  addTable(base, built);
  ctx.wrote = true;
  return json(tableSchema(built.table));
}

export async function updateTable(ctx: RouteContext, base: Base): Promise<Response> {
  const table = findTable(base, ctx.params.tableId!);
  if (!table) throw forbidden();
  const body = await readJson(ctx.req);
  if (body.name === undefined && body.description === undefined) throw invalidRequest();
  if (body.name !== undefined) {
    if (typeof body.name !== "string" || body.name === "") throw invalidRequest();
    if (base.tables.some((t) => t !== table && t.name.toLowerCase() === (body.name as string).toLowerCase()))
      throw duplicateTable(body.name);
    table.name = body.name;
  }
  if (typeof body.description === "string") table.description = body.description;
  ctx.wrote = true;
  return json(tableSchema(table));
}

/** POST …/tables/{tableId}/fields. A link field also gets its inverse in the linked table. */
export async function createField(ctx: RouteContext, base: Base): Promise<Response> {
  const table = findTable(base, ctx.params.tableId!);
  if (!table) throw forbidden();
  const { field, inverse } = buildField(ctx.core.state, base, table, await readJson(ctx.req));
  table.fields.push(field);
  if (inverse) inverse.table.fields.push(inverse.field);
  ctx.wrote = true;
  return json(field);
}

/** PATCH …/fields/{fieldId}: name and description only (the type can never change). */
export async function updateField(ctx: RouteContext, base: Base): Promise<Response> {
  const table = findTable(base, ctx.params.tableId!);
  const field = table?.fields.find((f) => f.id === ctx.params.fieldId);
  if (!table || !field) throw forbidden();
  const body = await readJson(ctx.req);
  if (body.name === undefined && body.description === undefined && body.options === undefined) throw invalidRequest();
  // options are only updatable for formula fields (options.formula); the sim evaluates no formulas.
  if (body.options !== undefined && field.type !== "formula")
    throw invalidRequest("Field options cannot be updated for this field type");
  if ("type" in body && body.type !== field.type) throw invalidRequest("Field type cannot be changed");
  if (body.name !== undefined) {
    if (typeof body.name !== "string" || body.name.trim() === "")
      throw apiError(422, "DUPLICATE_OR_EMPTY_FIELD_NAME", "Field name cannot be empty");
    const clash = findField(table, body.name);
    if (
      table.fields.some((f) => f !== field && f.name.toLowerCase() === (body.name as string).toLowerCase()) ||
      (clash && clash !== field)
    ) {
      throw apiError(422, "DUPLICATE_OR_EMPTY_FIELD_NAME", `Field name "${body.name}" is already used in this table`);
    }
    field.name = body.name;
  }
  if (typeof body.description === "string") field.description = body.description;
  if (body.options !== undefined) field.options = { ...(field.options ?? {}), ...(body.options as object) };
  ctx.wrote = true;
  return json(field);
}

// --- internal ---

interface BuiltTable {
  table: Table;
  inverses: { table: Table; field: FieldSchema }[];
}

function buildTable(ctx: RouteContext, base: Base, input: Record<string, unknown>): BuiltTable {
  const { state } = ctx.core;
  const { name, description, fields } = input;
  if (typeof name !== "string" || name.trim() === "") throw invalidRequest("Table name cannot be empty");
  // Table names are unique in a base; whether case-insensitively is UNCERTAIN: we say yes.
  if (base.tables.some((t) => t.name.toLowerCase() === name.toLowerCase())) throw duplicateTable(name);
  if (!Array.isArray(fields) || fields.length === 0) throw invalidRequest("A table needs at least one field");
  const table: Table = { id: state.newId("tbl"), name, primaryFieldId: "", fields: [], views: [], rows: new Map() };
  if (typeof description === "string" && description !== "") table.description = description;
  const inverses: BuiltTable["inverses"] = [];
  for (const input of fields) {
    const { field, inverse } = buildField(state, base, table, input);
    table.fields.push(field);
    if (inverse) inverses.push(inverse);
  }
  assertPrimaryType(table.fields[0]!);
  table.primaryFieldId = table.fields[0]!.id;
  table.views.push({ id: state.newId("viw"), name: "Grid view", type: "grid" });
  return { table, inverses };
}

function addTable(base: Base, built: BuiltTable): void {
  base.tables.push(built.table);
  for (const inverse of built.inverses) inverse.table.fields.push(inverse.field);
}

function duplicateTable(name: string) {
  return apiError(422, "DUPLICATE_TABLE_NAME", `A table named "${name}" already exists in this base`);
}
