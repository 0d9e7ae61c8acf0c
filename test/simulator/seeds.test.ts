import { describe, expect, test } from "bun:test";
import { startAirtableSim } from "../support/airtable-sim/index.ts";
import { generateBase, sampleBase } from "../support/airtable-sim/seeds.ts";
import type { SeedAttachment, SimBaseSeed } from "../support/airtable-sim/types.ts";
import { listAll } from "./helpers.ts";

const ID = /^[a-z]{3}[A-Za-z0-9]{14}$/;

function attachmentsOf(seed: SimBaseSeed): SeedAttachment[] {
  return seed.tables.flatMap((t) => {
    const fields = t.fields.filter((f) => f.type === "multipleAttachments").map((f) => f.name);
    return t.records.flatMap((r) => fields.flatMap((name) => (r.fields[name] as SeedAttachment[] | undefined) ?? []));
  });
}

describe("sampleBase", () => {
  const seed = sampleBase();

  test("is deterministic and uses Airtable-shaped ids", () => {
    expect(sampleBase()).toEqual(seed);
    const ids = [
      seed.id,
      ...seed.tables.flatMap((t) => [t.id, ...t.fields.map((f) => f.id), ...t.records.map((r) => r.id)]),
    ];
    for (const id of ids) expect(id).toMatch(ID);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("covers the field types a backup must handle", () => {
    const types = new Set(seed.tables.flatMap((t) => t.fields.map((f) => f.type)));
    const wanted = [
      "singleLineText",
      "multilineText",
      "richText",
      "number",
      "currency",
      "percent",
      "date",
      "dateTime",
      "checkbox",
      "singleSelect",
      "multipleSelects",
      "rating",
      "duration",
      "email",
      "url",
      "phoneNumber",
      "barcode",
      "singleCollaborator",
      "multipleCollaborators",
      "multipleRecordLinks",
      "multipleAttachments",
      "multipleLookupValues",
      "rollup",
      "formula",
      "count",
      "autoNumber",
      "createdTime",
      "createdBy",
      "lastModifiedTime",
    ];
    for (const type of wanted) expect(types).toContain(type);
  });

  test("has PNG, PDF, CSV and text attachments, some shared between records", () => {
    const atts = attachmentsOf(seed);
    expect(new Set(atts.map((a) => a.type))).toEqual(
      new Set(["image/png", "application/pdf", "text/csv", "text/plain"]),
    );
    expect(new Set(atts.map((a) => a.data)).size).toBeLessThan(atts.length);
    const pdf = new TextDecoder().decode(atts.find((a) => a.type === "application/pdf")!.data as Uint8Array);
    expect(pdf.startsWith("%PDF-1.4")).toBe(true);
    expect(pdf.trimEnd().endsWith("%%EOF")).toBe(true);
  });

  test("links appear on both sides once loaded", async () => {
    await using sim = await startAirtableSim({ bases: [seed], perBaseRps: 1000 });
    const tables = sim.base(seed.id).tables;
    const companies = tables[0]!.records;
    const contacts = tables[1]!.records;
    for (const c of contacts) {
      for (const companyId of (c.fields.Company as string[] | undefined) ?? []) {
        expect(companies.find((x) => x.id === companyId)!.fields.Contacts).toContain(c.id);
      }
    }
  });
});

describe("generateBase", () => {
  test("makes tables × records, with attachments adding up to the requested bytes, generated on demand", () => {
    const seed = generateBase({
      tables: 3,
      recordsPerTable: 40,
      recordBytes: 2000,
      attachments: { count: 7, bytes: 70_001 },
      seed: 9,
    });
    expect(seed.tables).toHaveLength(3);
    expect(seed.tables.every((t) => t.records.length === 40)).toBe(true);
    const atts = attachmentsOf(seed);
    expect(atts).toHaveLength(7);
    expect(atts.reduce((n, a) => n + a.size!, 0)).toBe(70_001);
    const first = atts[0]!.data as () => Uint8Array;
    expect(typeof first).toBe("function");
    expect(first()).toEqual(first());
    expect(first().byteLength).toBe(atts[0]!.size!);
    const record = JSON.stringify(seed.tables[0]!.records[0]!.fields);
    expect(record.length).toBeGreaterThan(1700);
    expect(record.length).toBeLessThan(2300);
    expect(generateBase({ tables: 3, recordsPerTable: 40, seed: 9 }).tables[1]!.records[5]).toEqual(
      generateBase({ tables: 3, recordsPerTable: 40, seed: 9 }).tables[1]!.records[5]!,
    );
  });

  test("4 tables × 1,500 records load and list fully, links consistent", async () => {
    const seed = generateBase({ id: "appBENCH000000001", recordsPerTable: 1500 });
    await using sim = await startAirtableSim({ bases: [seed], perBaseRps: 10_000, perUserRps: 10_000 });
    const records = await listAll(sim, seed.id, "Table 2");
    expect(records).toHaveLength(1500);
    expect(records[0].fields.Previous).toEqual([seed.tables[0]!.records[0]!.id]);
    expect(sim.counters.requests.listRecords).toBe(15);
  });

  test("attachment bytes are served from the generator", async () => {
    const seed = generateBase({
      id: "appFILES000000001",
      tables: 1,
      recordsPerTable: 2,
      attachments: { count: 2, bytes: 2_000_000 },
    });
    await using sim = await startAirtableSim({ bases: [seed] });
    const [record] = await listAll(sim, seed.id, "Table 1");
    const file = record.fields.Files[0];
    const bytes: Uint8Array = new Uint8Array(await (await fetch(file.url)).arrayBuffer());
    expect(bytes.byteLength).toBe(1_000_000);
    expect(bytes).toEqual((attachmentsOf(seed)[0]!.data as () => Uint8Array)());
  });
});
