// The restore plan against the shapes of real Meta API schemas (pyairtable's field samples).
import { describe, expect, test } from "bun:test";
import type { ArchivedTable } from "../../src/archive/contents.ts";
import { planRestore } from "../../src/restore/plan.ts";

// Copied from pyairtable's field_schema samples (real Meta API shapes).
const SAMPLES: Record<string, ArchivedTable["fields"][number]> = {
  CurrencyFieldSchema: {
    type: "currency",
    options: { precision: 2, symbol: "$" },
    id: "fldotSLYreNpZ1oD3",
    name: "Dollars",
  },
  DurationFieldSchema: {
    type: "duration",
    options: { durationFormat: "h:mm:ss.S" },
    id: "fldiHUj34Rtni86oW",
    name: "Duration (h:mm:ss.s)",
  },
  DateFieldSchema: {
    type: "date",
    options: { dateFormat: { name: "local", format: "l" } },
    id: "fldgstMCbpPNgbXBN",
    name: "Date",
  },
  DateTimeFieldSchema: {
    type: "dateTime",
    options: {
      dateFormat: { name: "local", format: "l" },
      timeFormat: { name: "12hour", format: "h:mma" },
      timeZone: "client",
    },
    id: "fldVK2DrQVUZDYfvu",
    name: "DateTime",
  },
  FormulaFieldSchema: {
    type: "formula",
    options: {
      formula: '{fldgstMCbpPNgbXBN} + "FOO"',
      isValid: true,
      referencedFieldIds: ["fldgstMCbpPNgbXBN"],
      result: { type: "number", options: { precision: 0 } },
    },
    id: "fldBeqw3negrW9MMK",
    name: "Formula NaN",
  },
  AutoNumberFieldSchema: { type: "autoNumber", id: "fldIbDLEAaZTbedTy", name: "Autonumber" },
  RatingFieldSchema: { id: "fldR", name: "R", type: "rating", options: { icon: "heart", color: "redBright", max: 3 } },
};
const sample = async (name: string) => structuredClone(SAMPLES[name]!);

function table(id: string, name: string, fields: ArchivedTable["fields"]): ArchivedTable {
  return { id, name, primaryFieldId: fields[0]!.id, fields };
}

describe("planRestore", () => {
  test("creatable options are kept without ids; select choices lose their ids", async () => {
    const select = {
      id: "fldS",
      name: "Stage",
      type: "singleSelect",
      options: {
        choices: [
          { id: "selA", name: "Won", color: "greenBright" },
          { id: "selB", name: "Lost" },
        ],
      },
    };
    const plan = planRestore(
      [
        table("tblA", "A", [
          { id: "fldN", name: "Name", type: "singleLineText" },
          select,
          await sample("CurrencyFieldSchema"),
          await sample("RatingFieldSchema"),
          await sample("DurationFieldSchema"),
          await sample("DateTimeFieldSchema"),
        ]),
      ],
      [],
    );
    const bodies = plan.tables[0]!.fields.map((f) => f.body);
    expect(bodies[1]).toEqual({
      name: "Stage",
      type: "singleSelect",
      options: { choices: [{ name: "Won", color: "greenBright" }, { name: "Lost" }] },
    });
    expect(bodies[2]!.options).toEqual({ precision: 2, symbol: "$" });
    expect(bodies[3]!.options).toEqual({ icon: "heart", color: "redBright", max: 3 });
    expect(bodies[4]!.options).toEqual({ durationFormat: "h:mm:ss.S" });
    expect(bodies[5]!.options).toEqual({
      dateFormat: { name: "local", format: "l" },
      timeFormat: { name: "12hour", format: "h:mma" },
      timeZone: "client",
    });
    expect(plan.tables[0]!.fields.every((f) => f.action === "with-table")).toBe(true);
  });

  test("computed fields become manual steps with what is needed to rebuild them", async () => {
    const formula = await sample("FormulaFieldSchema");
    const date = await sample("DateFieldSchema");
    const plan = planRestore(
      [
        table("tblA", "A", [
          { id: "fldN", name: "Name", type: "singleLineText" },
          date,
          formula,
          await sample("AutoNumberFieldSchema"),
          { id: "fldX", name: "Mystery", type: "somethingNew" },
        ]),
      ],
      [],
    );
    expect(plan.tables[0]!.fields.filter((f) => f.action === "manual").map((f) => f.source.name)).toEqual([
      "Formula NaN",
      "Autonumber",
      "Mystery",
    ]);
    expect(plan.manual[0]).toEqual({
      table: "A",
      field: "Formula NaN",
      type: "formula",
      howTo: 'formula field: {Date} + "FOO"; result type number',
    });
    expect(plan.manual[2]!.howTo).toContain("somethingNew");
  });

  test("a computed primary becomes a single line text primary, and the plan says so", async () => {
    const plan = planRestore(
      [table("tblA", "A", [await sample("FormulaFieldSchema"), { id: "fldN", name: "Name", type: "singleLineText" }])],
      [],
    );
    const primary = plan.tables[0]!.fields[0]!;
    expect(primary).toMatchObject({
      action: "with-table",
      primaryAsText: true,
      body: { name: "Formula NaN", type: "singleLineText" },
    });
    expect(plan.notes[0]).toContain("restored as single line text");
  });

  test("a link pair is created from one side; the other side is the renamed inverse; self-links stand alone", () => {
    const a = table("tblA", "A", [
      { id: "fldAN", name: "Name", type: "singleLineText" },
      {
        id: "fldAB",
        name: "Bs",
        type: "multipleRecordLinks",
        options: { linkedTableId: "tblB", inverseLinkFieldId: "fldBA" },
      },
      { id: "fldAA", name: "Parent", type: "multipleRecordLinks", options: { linkedTableId: "tblA" } },
    ]);
    const b = table("tblB", "B", [
      { id: "fldBN", name: "Name", type: "singleLineText" },
      {
        id: "fldBA",
        name: "The A",
        type: "multipleRecordLinks",
        options: { linkedTableId: "tblA", inverseLinkFieldId: "fldAB" },
      },
    ]);
    const plan = planRestore([a, b], []);
    const byId = new Map(plan.tables.flatMap((t) => t.fields).map((f) => [f.source.id, f]));
    expect(byId.get("fldAB")).toMatchObject({
      action: "link",
      pairedFieldId: "fldBA",
      body: { options: { linkedTableId: "tblB" } },
    });
    expect(byId.get("fldBA")).toMatchObject({ action: "inverse", pairedFieldId: "fldAB" });
    expect(byId.get("fldAA")).toMatchObject({ action: "link", linkedTableId: "tblA" });
    // only B restored: its link has no table to point at
    const onlyB = planRestore([a, b], [], ["B"]);
    expect(onlyB.tables.map((t) => t.source.name)).toEqual(["B"]);
    expect(onlyB.tables[0]!.fields[1]).toMatchObject({
      action: "skip",
      note: "links to table A, which is not restored",
    });
  });

  test("existing tables and fields are matched by name (case-insensitively); missing fields are created", () => {
    const a = table("tblA", "Contacts", [
      { id: "fldN", name: "Name", type: "singleLineText" },
      { id: "fldE", name: "Email", type: "email" },
      { id: "fldP", name: "Phone", type: "phoneNumber" },
    ]);
    const plan = planRestore(
      [a],
      [
        {
          id: "tblT",
          name: "contacts",
          fields: [
            { id: "fldT1", name: "name", type: "singleLineText" },
            { id: "fldT2", name: "Email", type: "number" },
          ],
        },
      ],
    );
    const t = plan.tables[0]!;
    expect(t).toMatchObject({ action: "existing", targetId: "tblT" });
    expect(t.fields.map((f) => f.action)).toEqual(["existing", "existing", "create"]);
    expect(t.fields[1]!.note).toContain("exists in the target as number");
  });

  test("an unknown --table is refused", () => {
    expect(() =>
      planRestore([table("tblA", "A", [{ id: "fldN", name: "Name", type: "singleLineText" }])], [], ["Nope"]),
    ).toThrow("not in the archive: Nope");
  });
});
