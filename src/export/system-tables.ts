// The tables every export adds beside the Airtable tables: _attachments, _files, _fields, _meta, _tables.
// Their names and columns are part of the mapping other tools rely on (design.md, Export).
import type { ColumnKind, ExportPlan, TableSpec } from "./mapping.ts";

export function systemTables(relation: (name: string) => string): Omit<ExportPlan, "tables" | "renames"> {
  const table = (name: string, columns: [string, ColumnKind][], primaryKey?: string): TableSpec => ({
    name,
    columns: columns.map(([name, kind]) => ({ name, kind })),
    ...(primaryKey ? { primaryKey } : {}),
    foreignKeys: [],
    indexes: [],
  });
  const attachments = table("_attachments", [
    ["table", "text"],
    ["record_id", "text"],
    ["field", "text"],
    ["position", "integer"],
    ["attachment_id", "text"],
    ["filename", "text"],
    ["type", "text"],
    ["size", "integer"],
    ["sha256", "text"],
  ]);
  attachments.indexes = [
    { column: "record_id", name: relation("_attachments record_id") },
    { column: "sha256", name: relation("_attachments sha256") },
  ];
  return {
    attachments,
    files: table(
      "_files",
      [
        ["sha256", "text"],
        ["data", "blob"],
      ],
      "sha256",
    ),
    fields: table("_fields", [
      ["table", "text"],
      ["table_id", "text"],
      ["field_id", "text"],
      ["name", "text"],
      ["column", "text"],
      ["type", "text"],
      ["options", "json"],
      ["formula", "text"],
    ]),
    meta: table("_meta", [
      ["base_id", "text"],
      ["base_name", "text"],
      ["archive", "text"],
      ["started_at", "timestamp"],
      ["finished_at", "timestamp"],
      ["tool_version", "text"],
      ["exported_at", "timestamp"],
      ["exported_by", "text"],
    ]),
    index: table(
      "_tables",
      [
        ["table", "text"],
        ["kind", "text"],
        ["table_id", "text"],
        ["airtable_name", "text"],
        ["rows", "integer"],
      ],
      "table",
    ),
  };
}
