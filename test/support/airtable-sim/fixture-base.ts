// fixtureBase(): the real 2022 base schema (grouparoo capture) with the real "every field type"
// records in its "All" table, for shape tests. Linked records missing from the capture become
// stubs; attachments get generated PNGs of the recorded dimensions.
import { pngImage } from "./assets.ts";
import listRecords from "./fixtures/grouparoo/list-records-all-field-types.json" with { type: "json" };
import baseSchema from "./fixtures/grouparoo/meta-base-schema-2022.json" with { type: "json" };
import { stableId } from "./ids.ts";
import type { FieldSchema, SeedAttachment, SimBaseSeed, SimRecordSeed, SimTableSeed, ViewSchema } from "./types.ts";

export const FIXTURE_BASE_ID = "appA1Qak1T4cGoiP7";

interface CapturedRecord {
  id: string;
  createdTime: string;
  fields: Record<string, unknown>;
}

export function fixtureBase(): SimBaseSeed {
  const tables: SimTableSeed[] = baseSchema.response.body.tables.map((t) => ({
    id: t.id,
    name: t.name,
    primaryFieldId: t.primaryFieldId,
    fields: structuredClone(t.fields) as FieldSchema[],
    views: structuredClone(t.views) as ViewSchema[],
    records: [],
  }));
  const all = tables.find((t) => t.name === "All")!;
  const captured = listRecords.response.body.records as CapturedRecord[];
  for (const record of captured) {
    const fields: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(record.fields)) {
      const field = all.fields.find((f) => f.name === name);
      if (!field) continue;
      fields[name] = field.type === "multipleAttachments" ? (value as CapturedAttachment[]).map(seedAttachment) : value;
      if (field.type === "multipleRecordLinks") addStubs(tables, field, value as string[]);
    }
    all.records.push({ id: record.id, createdTime: record.createdTime, fields });
  }
  return { id: FIXTURE_BASE_ID, name: "[CI Test] Marketing Campaign Tracking", permissionLevel: "create", tables };
}

// --- internal ---

interface CapturedAttachment {
  filename: string;
  type: string;
  width?: number;
  height?: number;
}

function seedAttachment(a: CapturedAttachment): SeedAttachment {
  const width = a.width ?? 16;
  const height = a.height ?? 16;
  return { filename: a.filename, type: a.type, data: pngImage(width, height, 90), width, height };
}

function addStubs(tables: SimTableSeed[], field: FieldSchema, ids: string[]): void {
  const linked = tables.find((t) => t.id === (field.options as { linkedTableId?: string } | undefined)?.linkedTableId);
  if (!linked) return;
  const primary = linked.fields.find((f) => f.id === linked.primaryFieldId) ?? linked.fields[0]!;
  for (const id of ids) {
    if (linked.records.some((r) => r.id === id)) continue;
    const stub: SimRecordSeed = {
      id,
      createdTime: "2021-12-28T19:00:00.000Z",
      fields: { [primary.name]: `Linked ${stableId("", id).slice(0, 4)}` },
    };
    linked.records.push(stub);
  }
}
