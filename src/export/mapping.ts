// The export mapping (design.md, Export): Airtable tables and fields to SQL tables and typed columns, link
// fields to join tables, plus the _attachments, _files, _fields, _meta and _tables tables. Pure: no I/O, so
// every target (SQLite, PostgreSQL, CSV, NDJSON) gets the same names and kinds, and it is tested on its own.
import { createNamer } from "./names.ts";
import { systemTables } from "./system-tables.ts";

/** A column's kind; each target turns it into its own type (sqliteType, postgresType). */
export type ColumnKind = "text" | "integer" | "real" | "decimal" | "boolean" | "date" | "timestamp" | "json" | "blob";

export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
}

export interface ForeignKey {
  column: string;
  /** The referenced table (its `id` column). */
  table: string;
}

export interface TableSpec {
  name: string;
  columns: ColumnSpec[];
  primaryKey?: string;
  foreignKeys: ForeignKey[];
  /** Single-column indexes: the indexed column and the index's (unique) name. */
  indexes: { column: string; name: string }[];
}

/** The part of schema.json's tables the mapping reads. */
export interface SchemaTable {
  id: string;
  name: string;
  fields: SchemaField[];
}

export interface SchemaField {
  id: string;
  name: string;
  type: string;
  options?: Record<string, unknown> | null;
}

export interface FieldColumn {
  field: SchemaField;
  column: string;
  kind: ColumnKind;
  /** Position in the table's row (after id and createdTime). */
  index: number;
}

export interface LinkPlan {
  field: SchemaField;
  /** The join table: record_id, linked_id, position. */
  join: TableSpec;
  /** The linked table's SQL name when it is exported too (then linked_id gets a foreign key). */
  linkedTable?: string;
}

export interface TablePlan {
  tableId: string;
  airtableName: string;
  spec: TableSpec;
  fields: FieldColumn[];
  links: LinkPlan[];
  attachmentFields: FieldColumn[];
}

export interface ExportPlan {
  tables: TablePlan[];
  attachments: TableSpec;
  files: TableSpec;
  fields: TableSpec;
  meta: TableSpec;
  /** `_tables`: every table the export made (drives --replace). */
  index: TableSpec;
  /** "Deals.id -> id (2)": names changed to stay unique (case-insensitively, and within maxIdentifierBytes). */
  renames: string[];
}

export interface PlanOptions {
  /** PostgreSQL's identifier limit is 63 bytes; SQLite has none. */
  maxIdentifierBytes?: number;
  /** Build join tables (SQL targets); CSV and NDJSON keep links as the JSON array only. */
  joinTables?: boolean;
}

export const SYSTEM_TABLES = ["_attachments", "_files", "_fields", "_meta", "_tables"] as const;

/** Field types whose values are record ids of another table. */
export const LINK_TYPE = "multipleRecordLinks";
export const ATTACHMENT_TYPE = "multipleAttachments";

export function planExport(tables: readonly SchemaTable[], options: PlanOptions = {}): ExportPlan {
  const max = options.maxIdentifierBytes ?? Number.POSITIVE_INFINITY;
  const renames: string[] = [];
  // Tables and indexes share one namespace (PostgreSQL: per schema; SQLite: per database). System names first,
  // so `_meta` always means ours and an Airtable table called `_meta` is the one renamed.
  const relation = createNamer(max, (wanted, got) => renames.push(`table ${wanted} -> ${got}`));
  for (const name of SYSTEM_TABLES) relation(name);
  const planned = tables.map((table) => {
    const sqlName = relation(table.name);
    const column = createNamer(max, (wanted, got) => renames.push(`${sqlName}.${wanted} -> ${got}`));
    column("id");
    column("createdTime");
    const fields = table.fields.map((field, i) => ({
      field,
      column: column(field.name),
      kind: kindOfField(field),
      index: i + 2,
    }));
    return { table, sqlName, fields };
  });
  const sqlNameOf = new Map(planned.map((p) => [p.table.id, p.sqlName]));
  const result: TablePlan[] = planned.map(({ table, sqlName, fields }) => {
    const links: LinkPlan[] = [];
    if (options.joinTables !== false) {
      for (const f of fields.filter((f) => f.field.type === LINK_TYPE)) {
        const linkedTable = sqlNameOf.get(String(f.field.options?.linkedTableId ?? ""));
        const name = relation(`${sqlName}__${f.column}`);
        const join: TableSpec = {
          name,
          columns: [
            { name: "record_id", kind: "text" },
            { name: "linked_id", kind: "text" },
            { name: "position", kind: "integer" },
          ],
          foreignKeys: [
            { column: "record_id", table: sqlName },
            ...(linkedTable ? [{ column: "linked_id", table: linkedTable }] : []),
          ],
          indexes: [
            { column: "record_id", name: relation(`${name} record_id`) },
            { column: "linked_id", name: relation(`${name} linked_id`) },
          ],
        };
        links.push({ field: f.field, join, ...(linkedTable ? { linkedTable } : {}) });
      }
    }
    return {
      tableId: table.id,
      airtableName: table.name,
      spec: {
        name: sqlName,
        columns: [
          { name: "id", kind: "text" },
          { name: "createdTime", kind: "timestamp" },
          ...fields.map((f) => ({ name: f.column, kind: f.kind })),
        ],
        primaryKey: "id",
        foreignKeys: [],
        indexes: [],
      },
      fields,
      links,
      attachmentFields: fields.filter((f) => f.field.type === ATTACHMENT_TYPE),
    };
  });
  return { tables: result, ...systemTables(relation), renames };
}

/** The kind of a field's column: computed fields (formula, rollup) by their result type. */
export function kindOfField(field: { type: string; options?: Record<string, unknown> | null }): ColumnKind {
  const options = field.options ?? {};
  switch (field.type) {
    case "number":
      return options.precision === 0 ? "integer" : "real";
    case "currency":
      return "decimal";
    case "percent": // a fraction: 0.5 is 50%
    case "duration":
      return "real";
    case "rating":
    case "count":
    case "autoNumber":
      return "integer";
    case "checkbox":
      return "boolean";
    case "date":
      return "date";
    case "dateTime":
      return "timestamp";
    case "createdTime":
    case "lastModifiedTime":
      return resultOf(options)?.type === "date" ? "date" : "timestamp";
    case "singleLineText":
    case "multilineText":
    case "richText":
    case "email":
    case "url":
    case "phoneNumber":
    case "singleSelect":
      return "text";
    case "formula":
    case "rollup": {
      const result = resultOf(options);
      return result && result.type !== "formula" && result.type !== "rollup" ? kindOfField(result) : "json";
    }
    default: // multiple selects, collaborators, links, attachments, lookups (always arrays), barcode, button, AI text...
      return "json";
  }
}

/** SQLite column types: dates are ISO 8601 text, booleans 0/1, structures JSON text. */
export function sqliteType(kind: ColumnKind): string {
  const types: Record<ColumnKind, string> = {
    text: "TEXT",
    integer: "INTEGER",
    real: "REAL",
    decimal: "REAL",
    boolean: "INTEGER",
    date: "TEXT",
    timestamp: "TEXT",
    json: "TEXT",
    blob: "BLOB",
  };
  return types[kind];
}

export function postgresType(kind: ColumnKind): string {
  const types: Record<ColumnKind, string> = {
    text: "text",
    integer: "bigint",
    real: "double precision",
    decimal: "numeric",
    boolean: "boolean",
    date: "date",
    timestamp: "timestamptz",
    json: "jsonb",
    blob: "bytea",
  };
  return types[kind];
}

// --- internal ---

function resultOf(options: Record<string, unknown>): { type: string; options?: Record<string, unknown> } | undefined {
  const result = options.result as { type?: unknown; options?: Record<string, unknown> } | null | undefined;
  return result && typeof result.type === "string" ? { type: result.type, options: result.options } : undefined;
}
