// generateBase(): big synthetic bases for benchmarks. Deterministic for a given seed. Attachment
// bytes are produced on demand by a function (never held), so 300 MB of files costs no memory.
import { noiseBytes } from "./assets.ts";
import { mulberry32, stableId } from "./ids.ts";
import type { FieldSchema, SimBaseSeed, SimRecordSeed, SimTableSeed } from "./types.ts";

export interface GenerateBaseOptions {
  id?: string;
  name?: string;
  tables?: number; // default 4
  recordsPerTable: number;
  /** approximate JSON size of a record's fields (padded with a long-text "Notes" cell); default ~300 */
  recordBytes?: number;
  /** `count` attachments whose sizes add up to `bytes` IN TOTAL, spread round-robin over records */
  attachments?: { count: number; bytes: number };
  seed?: number;
}

const STATUSES = ["Todo", "In progress", "Done", "Blocked"];
const WORDS =
  "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua".split(
    " ",
  );

export function generateBase(opts: GenerateBaseOptions): SimBaseSeed {
  const seed = opts.seed ?? 1;
  const tableCount = Math.max(1, opts.tables ?? 4);
  const random = mulberry32(seed);
  const key = `${seed}-${opts.id ?? ""}`;
  const tableIds = Array.from({ length: tableCount }, (_, i) => stableId("tbl", `${key}-table-${i}`));
  const fieldId = (t: number, name: string) => stableId("fld", `${key}-${t}-${name}`);
  const recordId = (t: number, r: number) => stableId("rec", `${key}-${t}-${r}`);

  const tables: SimTableSeed[] = tableIds.map((id, t) => {
    const next = (t + 1) % tableCount;
    const prev = (t - 1 + tableCount) % tableCount;
    const fields: FieldSchema[] = [
      { id: fieldId(t, "Name"), name: "Name", type: "singleLineText" },
      { id: fieldId(t, "Notes"), name: "Notes", type: "multilineText" },
      { id: fieldId(t, "Amount"), name: "Amount", type: "number", options: { precision: 2 } },
      {
        id: fieldId(t, "Status"),
        name: "Status",
        type: "singleSelect",
        options: {
          choices: STATUSES.map((name) => ({ id: stableId("sel", `${key}-${t}-${name}`), name, color: "blueLight2" })),
        },
      },
      {
        id: fieldId(t, "Due"),
        name: "Due",
        type: "date",
        options: { dateFormat: { name: "iso", format: "YYYY-MM-DD" } },
      },
      { id: fieldId(t, "Done"), name: "Done", type: "checkbox", options: { icon: "check", color: "greenBright" } },
      { id: fieldId(t, "Files"), name: "Files", type: "multipleAttachments", options: { isReversed: false } },
    ];
    if (tableCount > 1) {
      fields.push(
        {
          id: fieldId(t, "Next"),
          name: "Next",
          type: "multipleRecordLinks",
          options: {
            linkedTableId: tableIds[next],
            isReversed: false,
            prefersSingleRecordLink: false,
            inverseLinkFieldId: fieldId(next, "Previous"),
          },
        },
        {
          id: fieldId(t, "Previous"),
          name: "Previous",
          type: "multipleRecordLinks",
          options: {
            linkedTableId: tableIds[prev],
            isReversed: false,
            prefersSingleRecordLink: false,
            inverseLinkFieldId: fieldId(prev, "Next"),
          },
        },
      );
    }
    const records: SimRecordSeed[] = [];
    for (let r = 0; r < opts.recordsPerTable; r++) {
      const fields: Record<string, unknown> = {
        Name: `Item ${t + 1}-${r + 1}`,
        Notes: filler(random, Math.max(0, (opts.recordBytes ?? 300) - 220)),
        Amount: Math.round(random() * 1_000_000) / 100,
        Status: STATUSES[Math.floor(random() * STATUSES.length)],
        Due: new Date(Date.UTC(2024, 0, 1) + Math.floor(random() * 365) * 86_400_000).toISOString().slice(0, 10),
        Done: random() < 0.5,
      };
      if (tableCount > 1) fields.Next = [recordId(next, r)]; // the inverse ("Previous") is derived on load
      records.push({
        id: recordId(t, r),
        createdTime: new Date(Date.UTC(2024, 0, 1) + r * 1000).toISOString(),
        fields,
      });
    }
    return { id, name: `Table ${t + 1}`, fields, records };
  });

  const { count = 0, bytes = 0 } = opts.attachments ?? {};
  const totalRecords = tableCount * opts.recordsPerTable;
  for (let k = 0; k < count && totalRecords > 0; k++) {
    const size = Math.floor(bytes / count) + (k < bytes % count ? 1 : 0);
    const slot = k % totalRecords;
    const record = tables[slot % tableCount]!.records[Math.floor(slot / tableCount)]!;
    const cell = ((record.fields.Files as unknown[] | undefined) ?? []) as unknown[];
    cell.push({
      filename: `file-${k + 1}.bin`,
      type: "application/octet-stream",
      size,
      data: () => noiseBytes(seed * 100_003 + k, size),
    });
    record.fields.Files = cell;
  }

  return {
    id: opts.id ?? stableId("app", `generated-${key}`),
    name: opts.name ?? "Generated base",
    permissionLevel: "create",
    tables,
  };
}

// --- internal ---

function filler(random: () => number, length: number): string {
  let text = "";
  while (text.length < length) text += `${WORDS[Math.floor(random() * WORDS.length)]}${random() < 0.1 ? "\n" : " "}`;
  return text.slice(0, length);
}
