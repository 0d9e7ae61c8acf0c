// The simulator's in-memory data model and seed loading. Cells are stored by field id so renames
// are free; links, collaborators and attachments are stored as ids and expanded when read.
import type { IdFactory } from "./ids.ts";
import type {
  FieldSchema,
  PermissionLevel,
  SeedAttachment,
  SimBaseSeed,
  SimComment,
  SimUser,
  ViewSchema,
} from "./types.ts";

export interface Row {
  id: string;
  createdTime: string;
  cells: Map<string, unknown>; // field id -> stored value (never empty)
  comments: SimComment[]; // oldest first
}

export interface Table {
  id: string;
  name: string;
  description?: string;
  primaryFieldId: string;
  fields: FieldSchema[];
  views: ViewSchema[];
  rows: Map<string, Row>; // insertion order = creation order = default list order
}

export interface Base {
  id: string;
  name: string;
  permissionLevel: PermissionLevel;
  tables: Table[];
}

export interface StoredAttachment {
  id: string;
  filename: string;
  type: string;
  size: number;
  width?: number;
  height?: number;
  bytes: () => Uint8Array;
}

export interface SimState {
  bases: Map<string, Base>;
  attachments: Map<string, StoredAttachment>;
  users: Map<string, SimUser>;
  newId: IdFactory;
}

/** Field types whose values Airtable computes; writes to them are refused. */
export const COMPUTED_TYPES = new Set([
  "formula",
  "rollup",
  "count",
  "multipleLookupValues",
  "lookup",
  "autoNumber",
  "createdTime",
  "lastModifiedTime",
  "createdBy",
  "lastModifiedBy",
  "button",
  "aiText",
  "externalSyncSource",
  "manualSort",
]);

export function findTable(base: Base, idOrName: string): Table | undefined {
  return base.tables.find((t) => t.id === idOrName) ?? base.tables.find((t) => t.name === idOrName);
}

export function findField(table: Table, idOrName: string): FieldSchema | undefined {
  return table.fields.find((f) => f.id === idOrName) ?? table.fields.find((f) => f.name === idOrName);
}

export function linkOptions(field: FieldSchema): { linkedTableId: string; inverseLinkFieldId?: string } {
  return field.options as { linkedTableId: string; inverseLinkFieldId?: string };
}

/** "" / [] / false / null / undefined are never stored: Airtable omits empty cells. 0 is kept. */
export function isEmptyCell(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    value === "" ||
    value === false ||
    (Array.isArray(value) && value.length === 0)
  );
}

export function registerUser(state: SimState, user: { id: string; email?: string; name?: string }): string {
  const known = state.users.get(user.id);
  if (!known)
    state.users.set(user.id, {
      id: user.id,
      email: user.email ?? `${user.id.toLowerCase()}@example.com`,
      ...(user.name ? { name: user.name } : {}),
    });
  return user.id;
}

export function registerAttachment(state: SimState, seed: SeedAttachment): string {
  const id = state.newId("att");
  const bytes = typeof seed.data === "function" ? seed.data : constant(seed.data);
  const sample =
    seed.size === undefined || (seed.type.startsWith("image/") && seed.width === undefined) ? bytes() : undefined;
  const size = seed.size ?? sample?.byteLength ?? 0;
  const stored: StoredAttachment = { id, filename: seed.filename, type: seed.type, size, bytes };
  if (seed.type.startsWith("image/")) {
    const dims =
      seed.width !== undefined && seed.height !== undefined
        ? { width: seed.width, height: seed.height }
        : imageSize(sample);
    stored.width = dims.width;
    stored.height = dims.height;
  }
  state.attachments.set(id, stored);
  return id;
}

/** Builds a base from its seed and adds it to the state. */
export function loadBase(state: SimState, seed: SimBaseSeed): Base {
  const base: Base = { id: seed.id, name: seed.name, permissionLevel: seed.permissionLevel ?? "create", tables: [] };
  for (const t of seed.tables) {
    const fields = t.fields.map((f) => structuredClone(f));
    const table: Table = {
      id: t.id,
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      primaryFieldId: t.primaryFieldId ?? fields[0]?.id ?? "",
      fields,
      views: t.views ? structuredClone(t.views) : [{ id: state.newId("viw"), name: "Grid view", type: "grid" }],
      rows: new Map(),
    };
    for (const r of t.records) {
      const row: Row = { id: r.id, createdTime: r.createdTime, cells: new Map(), comments: [] };
      for (const [name, value] of Object.entries(r.fields)) {
        const field = findField(table, name);
        if (!field) throw new Error(`seed ${seed.id}/${t.name}/${r.id}: unknown field ${name}`);
        const stored = storeSeedValue(state, field, value);
        if (!isEmptyCell(stored)) row.cells.set(field.id, stored);
      }
      for (const c of r.comments ?? []) {
        registerUser(state, c.author);
        row.comments.push({ ...c, id: c.id ?? state.newId("com"), lastUpdatedTime: c.lastUpdatedTime ?? null });
      }
      table.rows.set(row.id, row);
    }
    base.tables.push(table);
  }
  reconcileInverseLinks(base);
  state.bases.set(base.id, base);
  return base;
}

/** Makes every link appear on both sides, so seeds may give only one side of a link. */
export function reconcileInverseLinks(base: Base): void {
  for (const table of base.tables) {
    for (const field of table.fields) {
      if (field.type !== "multipleRecordLinks") continue;
      const { linkedTableId, inverseLinkFieldId } = linkOptions(field);
      const other = base.tables.find((t) => t.id === linkedTableId);
      if (!other || !inverseLinkFieldId) continue;
      for (const row of table.rows.values()) {
        for (const targetId of (row.cells.get(field.id) as string[] | undefined) ?? []) {
          const target = other.rows.get(targetId);
          if (!target) continue;
          const back = (target.cells.get(inverseLinkFieldId) as string[] | undefined) ?? [];
          if (!back.includes(row.id)) target.cells.set(inverseLinkFieldId, [...back, row.id]);
        }
      }
    }
  }
}

// --- internal ---

function storeSeedValue(state: SimState, field: FieldSchema, value: unknown): unknown {
  switch (field.type) {
    case "multipleAttachments":
      return (value as SeedAttachment[]).map((a) => registerAttachment(state, a));
    case "singleCollaborator":
    case "createdBy":
    case "lastModifiedBy":
      return value ? registerUser(state, value as SimUser) : undefined;
    case "multipleCollaborators":
      return (value as SimUser[]).map((u) => registerUser(state, u));
    default:
      return structuredClone(value);
  }
}

function constant(data: Uint8Array): () => Uint8Array {
  return () => data;
}

/** Width and height from a PNG's IHDR chunk; other images get a nominal 64×64. */
function imageSize(bytes: Uint8Array | undefined): { width: number; height: number } {
  if (bytes && bytes.byteLength >= 24 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  return { width: 64, height: 64 };
}
