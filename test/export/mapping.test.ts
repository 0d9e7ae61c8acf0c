// The export mapping on its own: field types to column kinds (design.md's table), unique names, cell values.
import { describe, expect, test } from "bun:test";
import { cellValue, MISFIT, recordRows } from "../../src/export/cells.ts";
import { kindOfField, planExport, postgresType, sqliteType } from "../../src/export/mapping.ts";
import { createNamer, truncateUtf8 } from "../../src/export/names.ts";
import baseSchema from "../support/airtable-sim/fixtures/grouparoo/meta-base-schema-2022.json" with { type: "json" };
import { sampleBase } from "../support/airtable-sim/sample-base.ts";

const RESULT = (type: string, options?: object) => ({ result: { type, ...(options ? { options } : {}) } });

describe("field types to columns (design.md, Export)", () => {
  test.each([
    ["number", { precision: 2 }, "REAL", "double precision"],
    ["number", { precision: 0 }, "INTEGER", "bigint"],
    ["currency", { precision: 2, symbol: "$" }, "REAL", "numeric"],
    ["percent", { precision: 0 }, "REAL", "double precision"],
    ["duration", { durationFormat: "h:mm" }, "REAL", "double precision"],
    ["rating", { max: 5 }, "INTEGER", "bigint"],
    ["count", {}, "INTEGER", "bigint"],
    ["autoNumber", undefined, "INTEGER", "bigint"],
    ["checkbox", {}, "INTEGER", "boolean"],
    ["date", {}, "TEXT", "date"],
    ["dateTime", {}, "TEXT", "timestamptz"],
    ["createdTime", RESULT("dateTime"), "TEXT", "timestamptz"],
    ["lastModifiedTime", RESULT("date"), "TEXT", "date"],
    ["singleLineText", undefined, "TEXT", "text"],
    ["multilineText", undefined, "TEXT", "text"],
    ["richText", undefined, "TEXT", "text"],
    ["email", undefined, "TEXT", "text"],
    ["url", undefined, "TEXT", "text"],
    ["phoneNumber", undefined, "TEXT", "text"],
    ["singleSelect", {}, "TEXT", "text"],
    ["multipleSelects", {}, "TEXT", "jsonb"],
    ["singleCollaborator", {}, "TEXT", "jsonb"],
    ["multipleCollaborators", {}, "TEXT", "jsonb"],
    ["createdBy", undefined, "TEXT", "jsonb"],
    ["barcode", undefined, "TEXT", "jsonb"],
    ["button", undefined, "TEXT", "jsonb"],
    ["aiText", undefined, "TEXT", "jsonb"],
    ["multipleRecordLinks", {}, "TEXT", "jsonb"],
    ["multipleAttachments", {}, "TEXT", "jsonb"],
    ["multipleLookupValues", RESULT("number"), "TEXT", "jsonb"], // lookups are arrays
    ["formula", RESULT("number", { precision: 0 }), "INTEGER", "bigint"],
    ["formula", RESULT("currency"), "REAL", "numeric"],
    ["formula", RESULT("singleLineText"), "TEXT", "text"],
    ["formula", RESULT("checkbox"), "INTEGER", "boolean"],
    ["formula", {}, "TEXT", "jsonb"], // no result type recorded: JSON
    ["rollup", RESULT("dateTime"), "TEXT", "timestamptz"],
    ["somethingNew", {}, "TEXT", "jsonb"],
  ])("%s %j -> SQLite %s, PostgreSQL %s", (type, options, sqlite, pg) => {
    const kind = kindOfField({ type, options: options as Record<string, unknown> | undefined });
    expect(sqliteType(kind)).toBe(sqlite);
    expect(postgresType(kind)).toBe(pg);
  });

  test("every field of the sample base and the 2022 capture gets a column", () => {
    const schemas = [
      sampleBase().tables.map((t) => ({ id: t.id, name: t.name, fields: t.fields })),
      baseSchema.response.body.tables as {
        id: string;
        name: string;
        fields: { id: string; name: string; type: string }[];
      }[],
    ];
    for (const tables of schemas) {
      const plan = planExport(tables);
      for (const [i, table] of plan.tables.entries()) {
        expect(table.spec.columns.map((c) => c.name)).toEqual([
          "id",
          "createdTime",
          ...tables[i]!.fields.map((f) => f.name),
        ]);
        const links = tables[i]!.fields.filter((f) => f.type === "multipleRecordLinks");
        expect(table.links.map((l) => l.join.name)).toEqual(links.map((f) => `${table.spec.name}__${f.name}`));
      }
      expect(plan.renames).toEqual([]);
    }
  });
});

describe("names", () => {
  test("kept exactly, unicode and quotes included; collisions get a suffix and are reported", () => {
    const plan = planExport([
      {
        id: "tbl1",
        name: '📣 Campaigns "2024"',
        fields: [
          { id: "f1", name: "id", type: "singleLineText" },
          { id: "f2", name: "CreatedTime", type: "dateTime" },
          { id: "f3", name: 'Notes "quoted"; DROP TABLE x', type: "multilineText" },
          { id: "f4", name: "Ünïcödé ✓", type: "singleLineText" },
        ],
      },
      { id: "tbl2", name: "_meta", fields: [] },
      { id: "tbl3", name: "_META", fields: [] },
    ]);
    const [t1, t2, t3] = plan.tables;
    expect(t1!.spec.name).toBe('📣 Campaigns "2024"');
    expect(t1!.spec.columns.map((c) => c.name)).toEqual([
      "id",
      "createdTime",
      "id (2)",
      "CreatedTime (2)",
      'Notes "quoted"; DROP TABLE x',
      "Ünïcödé ✓",
    ]);
    expect(t2!.spec.name).toBe("_meta (2)");
    expect(t3!.spec.name).toBe("_META (3)");
    expect(plan.meta.name).toBe("_meta");
    expect(plan.renames).toEqual([
      '📣 Campaigns "2024".id -> id (2)',
      '📣 Campaigns "2024".CreatedTime -> CreatedTime (2)',
      "table _meta -> _meta (2)",
      "table _META -> _META (3)",
    ]);
  });

  test("PostgreSQL's 63 bytes: names cut at a character boundary, and made unique when the cut collides", () => {
    const long = `${"é".repeat(40)} A`; // 80 bytes + 2
    const other = `${"é".repeat(40)} B`;
    const plan = planExport(
      [
        {
          id: "tbl1",
          name: "T",
          fields: [
            { id: "f1", name: long, type: "singleLineText" },
            { id: "f2", name: other, type: "singleLineText" },
          ],
        },
      ],
      { maxIdentifierBytes: 63 },
    );
    const [a, b] = plan.tables[0]!.fields.map((f) => f.column);
    expect(Buffer.byteLength(a!)).toBeLessThanOrEqual(63);
    expect(Buffer.byteLength(b!)).toBeLessThanOrEqual(63);
    expect(a).toBe("é".repeat(31));
    expect(b).toBe(`${"é".repeat(29)} (2)`);
    expect(plan.renames).toHaveLength(2);
    // SQLite has no limit: the same names are kept whole
    expect(
      planExport(plan.tables.map(() => ({ id: "t", name: "T", fields: [{ id: "f", name: long, type: "url" }] })))
        .tables[0]!.fields[0]!.column,
    ).toBe(long);
  });

  test("truncateUtf8 never splits a character; the namer folds ASCII case only", () => {
    expect(truncateUtf8("a😀b", 4)).toBe("a");
    expect(truncateUtf8("a😀b", 5)).toBe("a😀");
    const name = createNamer(Number.POSITIVE_INFINITY);
    expect([name("Name"), name("NAME"), name("Émile"), name("émile")]).toEqual(["Name", "NAME (2)", "Émile", "émile"]);
  });

  test("join tables and indexes share the table namespace", () => {
    const plan = planExport([
      {
        id: "tblA",
        name: "A",
        fields: [{ id: "f", name: "B", type: "multipleRecordLinks", options: { linkedTableId: "tblB" } }],
      },
      { id: "tblB", name: "A__B", fields: [] },
    ]);
    expect(plan.tables[1]!.spec.name).toBe("A__B");
    const link = plan.tables[0]!.links[0]!;
    expect(link.join.name).toBe("A__B (2)");
    expect(link.linkedTable).toBe("A__B");
    expect(link.join.foreignKeys).toEqual([
      { column: "record_id", table: "A" },
      { column: "linked_id", table: "A__B" },
    ]);
    expect(link.join.indexes.map((i) => i.column)).toEqual(["record_id", "linked_id"]);
  });

  test("a link to a table that is not exported has no foreign key on its linked side", () => {
    const plan = planExport([
      {
        id: "tblA",
        name: "A",
        fields: [{ id: "f", name: "L", type: "multipleRecordLinks", options: { linkedTableId: "tblZ" } }],
      },
    ]);
    expect(plan.tables[0]!.links[0]!.join.foreignKeys).toEqual([{ column: "record_id", table: "A" }]);
  });
});

describe("cell values", () => {
  test.each([
    ["integer", 5, 5],
    ["integer", 1.5, MISFIT],
    ["integer", { specialValue: "NaN" }, MISFIT],
    ["real", 0.25, 0.25],
    ["real", "12", MISFIT],
    ["decimal", 12500000.5, 12500000.5],
    ["boolean", true, true],
    ["boolean", 0, false],
    ["boolean", "yes", MISFIT],
    ["date", "2024-03-31", "2024-03-31"],
    ["date", "2024-03-31T10:00:00.000Z", MISFIT],
    ["timestamp", "2024-03-01T14:30:00.000Z", "2024-03-01T14:30:00.000Z"],
    ["timestamp", "2024-03-01", "2024-03-01T00:00:00.000Z"],
    ["timestamp", "soon", MISFIT],
    ["text", "héllo", "héllo"],
    ["text", 42, "42"],
    ["text", ["a", "b"], '["a","b"]'],
    ["json", ["VIP"], ["VIP"]],
    ["json", "plain", "plain"],
    ["integer", undefined, null],
    ["json", null, null],
  ] as const)("%s %j -> %j", (kind, value, expected) => {
    expect(cellValue(kind, value)).toEqual(expected);
  });

  test("a record's row, join rows and _attachments rows; an unticked checkbox is false; misfits counted", () => {
    const plan = planExport([
      {
        id: "tblT",
        name: "T",
        fields: [
          { id: "f1", name: "Done", type: "checkbox" },
          { id: "f2", name: "N", type: "number", options: { precision: 0 } },
          { id: "f3", name: "Links", type: "multipleRecordLinks", options: { linkedTableId: "tblT" } },
          { id: "f4", name: "Files", type: "multipleAttachments" },
        ],
      },
    ]);
    const misfits: number[] = [];
    const files = [
      { id: "att1", filename: "a.png", type: "image/png", size: 3 },
      { id: "att2", filename: "b.txt", type: "text/plain", size: 1 },
    ];
    const rows = recordRows(
      plan.tables[0]!,
      {
        id: "rec1",
        createdTime: "2024-01-01T00:00:00.000Z",
        fields: { N: 2.5, Links: ["rec2", "rec3"], Files: files },
      },
      (id) => (id === "att1" ? "a".repeat(64) : undefined),
      misfits,
    );
    expect(rows.row).toEqual(["rec1", "2024-01-01T00:00:00.000Z", false, null, ["rec2", "rec3"], files]);
    expect(misfits[3]).toBe(1);
    expect(rows.links).toEqual([
      {
        join: "T__Links",
        rows: [
          ["rec1", "rec2", 0],
          ["rec1", "rec3", 1],
        ],
      },
    ]);
    expect(rows.attachments).toEqual([
      ["T", "rec1", "Files", 0, "att1", "a.png", "image/png", 3, "a".repeat(64)],
      ["T", "rec1", "Files", 1, "att2", "b.txt", "text/plain", 1, null],
    ]);
  });
});
