// Archived cell values to column values, by the column's kind. Pure. A value that does not fit its column (a
// formula's {"specialValue": "NaN"} in a number column, say) becomes NULL and is counted, so it is reported.
import type { ColumnKind, TablePlan } from "./mapping.ts";

/** What a row holds: JSON kinds keep the archived value (each target serialises it), the rest are scalars. */
export type CellValue = string | number | boolean | null | object;

export const MISFIT: unique symbol = Symbol("misfit");

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** The column value for an archived cell; undefined and null are NULL; MISFIT when it cannot be one. */
export function cellValue(kind: ColumnKind, value: unknown): CellValue | typeof MISFIT {
  if (value === undefined || value === null) return null;
  switch (kind) {
    case "text":
      return typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
    case "integer":
      return typeof value === "number" && Number.isSafeInteger(value) ? value : MISFIT;
    case "real":
    case "decimal":
      return typeof value === "number" && Number.isFinite(value) ? value : MISFIT;
    case "boolean":
      return typeof value === "boolean" ? value : value === 1 ? true : value === 0 ? false : MISFIT;
    case "date":
      return typeof value === "string" && DATE.test(value) ? value : MISFIT;
    case "timestamp":
      if (typeof value !== "string") return MISFIT;
      if (TIMESTAMP.test(value)) return value;
      return DATE.test(value) ? `${value}T00:00:00.000Z` : MISFIT;
    case "json":
      return value as CellValue;
    case "blob":
      return value instanceof Uint8Array ? value : MISFIT;
  }
}

export interface RecordRows {
  row: CellValue[];
  links: { join: string; rows: CellValue[][] }[];
  attachments: CellValue[][];
}

/** An archived record's row, join-table rows and _attachments rows. `misfits` counts per column index. */
export function recordRows(
  table: TablePlan,
  record: { id: string; createdTime: string; fields: Record<string, unknown> },
  sha256Of: (attachmentId: string) => string | undefined,
  misfits: number[],
): RecordRows {
  const fields = record.fields ?? {};
  const created = cellValue("timestamp", record.createdTime);
  const row: CellValue[] = [record.id, created === MISFIT ? null : created];
  for (const f of table.fields) {
    // Airtable leaves an unticked checkbox out of the record: it is false, not unknown.
    const raw = fields[f.field.name] ?? (f.field.type === "checkbox" ? false : undefined);
    const value = cellValue(f.kind, raw);
    if (value === MISFIT) {
      misfits[f.index] = (misfits[f.index] ?? 0) + 1;
      row.push(null);
    } else row.push(value);
  }
  const links = table.links.map((link) => {
    const ids = fields[link.field.name];
    return {
      join: link.join.name,
      rows: Array.isArray(ids) ? ids.map((linked, position) => [record.id, String(linked), position]) : [],
    };
  });
  const attachments: CellValue[][] = [];
  for (const f of table.attachmentFields) {
    const cell = fields[f.field.name];
    if (!Array.isArray(cell)) continue;
    cell.forEach((a: { id?: unknown; filename?: unknown; type?: unknown; size?: unknown }, position) => {
      const id = typeof a?.id === "string" ? a.id : null;
      attachments.push([
        table.spec.name,
        record.id,
        f.column,
        position,
        id,
        typeof a?.filename === "string" ? a.filename : null,
        typeof a?.type === "string" ? a.type : null,
        typeof a?.size === "number" ? a.size : null,
        id ? (sha256Of(id) ?? null) : null,
      ]);
    });
  }
  return { row, links, attachments };
}
