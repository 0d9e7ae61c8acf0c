// For the export tests: archives made by the compiled binary from the simulator (the sample CRM with a few
// awkward names added, and the 2022 "every field type" capture), read back with `unzip -p` (not our reader),
// and what design.md's mapping says each archived cell becomes, written out here independently of src/.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixtureBase } from "./airtable-sim/fixture-base.ts";
import { startAirtableSim } from "./airtable-sim/index.ts";
import { SAMPLE_USERS, sampleBase } from "./airtable-sim/sample-base.ts";
import type { SimBaseSeed } from "./airtable-sim/types.ts";
import { runCli } from "./cli.ts";

export interface ArchivedField {
  id: string;
  name: string;
  type: string;
  options?: Record<string, unknown>;
}

export interface ArchiveContents {
  manifest: { base: { id: string; name: string }; tables: { id: string; name: string; records: number }[] };
  tables: { id: string; name: string; fields: ArchivedField[] }[];
  records: Map<string, { id: string; createdTime: string; fields: Record<string, unknown> }[]>;
  attachments: { id: string; sha256: string }[];
}

export interface ExportArchives {
  dir: string;
  /** The sample CRM plus: a table with 0 records, a field called "id", one that needs quoting, unicode names. */
  sample: string;
  /** The 2022 capture: every field type, emoji table names, a table with no records. */
  capture: string;
  cleanup(): Promise<void>;
}

const LONG = "Un nom de champ très, très long, qui dépasse les 63 octets de PostgreSQL";
export const AWKWARD = {
  emptyTable: "Événements ✓ 2024",
  quoted: 'Say "hi"; DROP TABLE x --',
  idField: "id",
  /** Two names alike in their first 63 bytes (PostgreSQL's limit). */
  longA: `${LONG} (A)`,
  longB: `${LONG} (B)`,
};

export async function makeExportArchives(): Promise<ExportArchives> {
  const sample = sampleBase();
  const tasks = sample.tables.find((t) => t.name === "Tasks")!;
  tasks.fields.push(
    { id: "fldAWKWARDID00001", name: AWKWARD.idField, type: "singleLineText" },
    { id: "fldAWKWARDQUOTE01", name: AWKWARD.quoted, type: "multilineText" },
    { id: "fldAWKWARDLONGA01", name: AWKWARD.longA, type: "singleLineText" },
    { id: "fldAWKWARDLONGB01", name: AWKWARD.longB, type: "number", options: { precision: 1 } },
  );
  tasks.records[2]!.fields[AWKWARD.longA] = "long A";
  tasks.records[2]!.fields[AWKWARD.longB] = 2.5;
  tasks.records[0]!.fields[AWKWARD.idField] = "T-1";
  tasks.records[1]!.fields[AWKWARD.quoted] = 'line one\nline two, with a "quote" and a tab\there';
  sample.tables.push({
    id: "tblAWKWARDEMPTY01",
    name: AWKWARD.emptyTable,
    fields: [{ id: "fldAWKWARDNAME001", name: "Nom ✓", type: "singleLineText" }],
    records: [],
  });
  const capture: SimBaseSeed = fixtureBase();
  const sim = await startAirtableSim({ bases: [sample, capture], users: SAMPLE_USERS });
  const dir = await mkdtemp(join(tmpdir(), "airbackup-export-"));
  try {
    const env = { AIRTABLE_TOKEN: "patTEST.secret", AIRTABLE_API_URL: sim.url, AIRTABLE_CONTENT_URL: sim.contentUrl };
    const paths: string[] = [];
    for (const base of [sample, capture]) {
      const run = await runCli(["backup", "-o", dir, "--base", base.id], { env });
      if (run.code !== 0) throw new Error(`backup of ${base.name} exited ${run.code}: ${run.stderr}`);
      paths.push(run.stdout.trim());
    }
    return {
      dir,
      sample: paths[0]!,
      capture: paths[1]!,
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  } finally {
    await sim.stop();
  }
}

/** The archive's manifest, schema, records and attachment index, through Info-ZIP's `unzip -p`. */
export async function readArchive(path: string): Promise<ArchiveContents> {
  const manifest = JSON.parse(await unzipText(path, "manifest.json"));
  const schema = JSON.parse(await unzipText(path, "schema.json"));
  const records = new Map<string, ArchiveContents["records"] extends Map<string, infer R> ? R : never>();
  for (const t of manifest.tables as { id: string }[])
    records.set(t.id, jsonl(await unzipText(path, `tables/${t.id}.jsonl`)));
  const attachments = jsonl(await unzipText(path, "attachments.jsonl").catch(() => "")) as {
    id: string;
    sha256: string;
  }[];
  return { manifest, tables: schema.tables, records, attachments };
}

export async function unzipText(path: string, entry: string): Promise<string> {
  const proc = Bun.spawn(["unzip", "-p", path, entry], { stdout: "pipe", stderr: "pipe" });
  const text = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`unzip -p ${entry} failed`);
  return text;
}

export type Expected =
  | { kind: "integer" | "real"; value: number | null }
  | { kind: "boolean"; value: boolean }
  | { kind: "text"; value: string | null }
  | { kind: "json"; value: unknown };

/** What a cell becomes, per design.md's Export table (computed fields by their result type). */
export function expectedCell(field: { type: string; options?: Record<string, unknown> }, value: unknown): Expected {
  const type = field.type;
  const options = field.options ?? {};
  const result = options.result as { type: string; options?: Record<string, unknown> } | undefined;
  if ((type === "formula" || type === "rollup") && result) return expectedCell(result, value);
  const v = value === undefined ? null : value;
  if (["rating", "count", "autoNumber"].includes(type) || (type === "number" && options.precision === 0))
    return { kind: "integer", value: v as number | null };
  if (["number", "currency", "percent", "duration"].includes(type)) return { kind: "real", value: v as number | null };
  if (type === "checkbox") return { kind: "boolean", value: v === true };
  const text = ["singleLineText", "multilineText", "richText", "email", "url", "phoneNumber", "singleSelect"];
  const dates = ["date", "dateTime", "createdTime", "lastModifiedTime"];
  if (text.includes(type) || dates.includes(type)) return { kind: "text", value: v as string | null };
  return { kind: "json", value: v };
}

// --- internal ---

function jsonl(text: string): any[] {
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}
