// Reading: stored cells -> API cell values (cellFormat=json). Empty cells are omitted, 0 is kept.
// count and lookup fields are computed live from links; formula/rollup/button/aiText values are
// whatever the seed gave (the sim does not evaluate formulas), so new records have none.
import {
  type Base,
  findTable,
  isEmptyCell,
  type Row,
  type SimState,
  type StoredAttachment,
  type Table,
} from "./model.ts";
import type { FieldSchema, SimUser } from "./types.ts";

export interface RenderContext {
  state: SimState;
  base: Base;
  /** Builds an attachment object with freshly signed URLs. */
  attachment: (att: StoredAttachment) => Record<string, unknown>;
}

export interface RenderOptions {
  byId?: boolean;
  only?: Set<string>; // field ids to include
  commentCount?: boolean;
}

/** A record as the API returns it. Key order: id, createdTime, fields (, commentCount). */
export function renderRecord(
  ctx: RenderContext,
  table: Table,
  row: Row,
  opts: RenderOptions = {},
): Record<string, unknown> {
  const record: Record<string, unknown> = {
    id: row.id,
    createdTime: row.createdTime,
    fields: renderFields(ctx, table, row, opts),
  };
  if (opts.commentCount) record.commentCount = row.comments.length;
  return record;
}

export function renderFields(
  ctx: RenderContext,
  table: Table,
  row: Row,
  opts: RenderOptions = {},
): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const field of table.fields) {
    if (opts.only && !opts.only.has(field.id)) continue;
    const value = renderCell(ctx, table, field, row, 0);
    if (!isEmptyCell(value)) fields[opts.byId ? field.id : field.name] = value;
  }
  return fields;
}

export function renderCell(ctx: RenderContext, table: Table, field: FieldSchema, row: Row, depth: number): unknown {
  const stored = row.cells.get(field.id);
  const options = (field.options ?? {}) as Record<string, unknown>;
  switch (field.type) {
    case "createdTime":
      return row.createdTime;
    case "count":
      if (typeof options.recordLinkFieldId !== "string") return stored ?? 0; // a count is never empty
      return ((row.cells.get(options.recordLinkFieldId) as string[] | undefined) ?? []).length;
    case "multipleLookupValues":
    case "lookup":
      if (typeof options.recordLinkFieldId !== "string" || depth > 3) return stored;
      return lookupValues(ctx, table, row, options.recordLinkFieldId, String(options.fieldIdInLinkedTable), depth);
    case "multipleAttachments":
      return (stored as string[] | undefined)?.flatMap((id) => {
        const att = ctx.state.attachments.get(id);
        return att ? [ctx.attachment(att)] : [];
      });
    case "singleCollaborator":
    case "createdBy":
    case "lastModifiedBy":
      return stored === undefined ? undefined : user(ctx, stored as string);
    case "multipleCollaborators":
      return (stored as string[] | undefined)?.map((id) => user(ctx, id));
    default:
      return structuredClone(stored);
  }
}

// --- internal ---

function user(ctx: RenderContext, id: string): SimUser {
  return structuredClone(ctx.state.users.get(id) ?? { id, email: `${id.toLowerCase()}@example.com` });
}

function lookupValues(
  ctx: RenderContext,
  table: Table,
  row: Row,
  linkFieldId: string,
  targetFieldId: string,
  depth: number,
): unknown[] {
  const linkField = table.fields.find((f) => f.id === linkFieldId);
  const linkedTableId = (linkField?.options as { linkedTableId?: string } | undefined)?.linkedTableId;
  const other = linkedTableId ? findTable(ctx.base, linkedTableId) : undefined;
  const target = other?.fields.find((f) => f.id === targetFieldId);
  if (!other || !target) return [];
  const values: unknown[] = [];
  for (const id of (row.cells.get(linkFieldId) as string[] | undefined) ?? []) {
    const linked = other.rows.get(id);
    const value = linked ? renderCell(ctx, other, target, linked, depth + 1) : undefined;
    if (Array.isArray(value)) values.push(...value);
    else if (!isEmptyCell(value)) values.push(value);
  }
  return values;
}
