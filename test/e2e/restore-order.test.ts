// End to end with the compiled binary: three tables linked in a cycle (A -> B -> C -> A, each link with
// its inverse) plus a self-link, a computed primary field, files and comments. Links come back in the
// first pass (only the self-link is written by updates), several creates are in flight at once under
// Airtable-like latency without a 429, comments come back oldest first with their author and date, and
// a kill -9 while batches are in flight, then a resume, gives zero duplicates and the whole report.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { noiseBytes } from "../support/airtable-sim/assets.ts";
import { generateBase } from "../support/airtable-sim/generate-base.ts";
import { type AirtableSim, type SimBaseSeed, startAirtableSim } from "../support/airtable-sim/index.ts";
import { runCli } from "../support/cli.ts";

const TARGETS = ["appORDERTARGET001", "appORDERTARGET002"];
const RECORDS = 60;
let sim: AirtableSim;
let dir: string;
let archive: string;
let env: Record<string, string>;
let seed: SimBaseSeed;

beforeAll(async () => {
  seed = generateBase({ id: "appORDERSOURCE001", name: "Order", tables: 3, recordsPerTable: RECORDS, seed: 3 });
  const [a, b, c] = seed.tables as [SimBaseSeed["tables"][0], SimBaseSeed["tables"][0], SimBaseSeed["tables"][0]];
  // A self-link pair in A: each record's Parent is the one before it (Children is its inverse).
  a.fields.push(
    { id: "fldORDERPARENT001", name: "Parent", type: "multipleRecordLinks", options: selfLink("fldORDERCHILDRN01") },
    { id: "fldORDERCHILDRN01", name: "Children", type: "multipleRecordLinks", options: selfLink("fldORDERPARENT001") },
  );
  for (let i = 1; i < RECORDS; i++) a.records[i]!.fields.Parent = [a.records[i - 1]!.id];
  // C's primary field is a formula: restored as text, and named among the manual steps.
  c.fields.unshift({
    id: "fldORDERCODE00001",
    name: "Code",
    type: "formula",
    options: { formula: "UPPER({Name})", isValid: true, referencedFieldIds: [], result: { type: "singleLineText" } },
  });
  c.primaryFieldId = "fldORDERCODE00001";
  for (const r of c.records) r.fields.Code = String(r.fields.Name).toUpperCase();
  a.records[0]!.fields.Files = [{ filename: "small.txt", type: "text/plain", data: noiseBytes(1, 1024) }];
  b.records[1]!.fields.Files = [
    { filename: "four.bin", type: "application/octet-stream", data: noiseBytes(2, 4 << 20) },
  ];
  const ada = { id: "usrORDERADA000001", email: "ada@example.com", name: "Ada Lovelace" };
  a.records[2]!.comments = [
    { id: "comORDERFIRST0001", author: ada, text: "first", createdTime: "2024-03-30T10:00:00.000Z" },
    { author: ada, text: "second", createdTime: "2024-03-30T11:30:00.000Z", parentCommentId: "comORDERFIRST0001" },
  ];
  sim = await startAirtableSim({
    bases: [seed, ...TARGETS.map((id) => ({ id, name: "Target", tables: [] }))],
    users: [ada],
    latencyMs: 20,
    writeLatencyMs: 300,
    penaltyMs: 30_000,
  });
  dir = await mkdtemp(join(tmpdir(), "airbackup-restore-order-"));
  env = { AIRTABLE_TOKEN: "patTEST.secret", AIRTABLE_API_URL: sim.url, AIRTABLE_CONTENT_URL: sim.contentUrl };
  await Bun.write(join(dir, "airbackup.yaml"), "comments: true\n");
  const backup = await runCli(["backup", "-c", join(dir, "airbackup.yaml"), "-o", dir, "--base", seed.id], { env });
  expect(backup.code).toBe(0);
  archive = backup.stdout.trim();
  await Bun.sleep(1100); // the backup's requests leave the simulator's 1-second window
}, 120_000);

afterAll(async () => {
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

test("links in the first pass, creates in flight together, no 429; comments and files back", async () => {
  let inFlight = 0;
  let most = 0;
  sim.onRequest((info) => {
    if (info.route === "createRecords") most = Math.max(most, ++inFlight);
  });
  sim.onResponse((info) => {
    if (info.route === "createRecords") inFlight--;
    return undefined;
  });
  const limited = sim.counters.rateLimited;
  const before = { ...sim.counters.requests };
  const run = await runCli(["restore", archive, "--base", TARGETS[0]!, "--json"], { env });
  expect(run.stderr).not.toContain("unexpected error");
  expect(run.code).toBe(0);
  expect(sim.counters.rateLimited).toBe(limited);
  expect(most).toBeGreaterThanOrEqual(2);
  const made = (route: string) => (sim.counters.requests[route] ?? 0) - (before[route] ?? 0);
  expect(made("createRecords")).toBe(3 * Math.ceil(RECORDS / 10));
  expect(made("updateRecords")).toBe(Math.ceil((RECORDS - 1) / 10)); // the self-link only
  const report = JSON.parse(run.stdout);
  expect(report.requests.byKind.create).toBe(3 * Math.ceil(RECORDS / 10));
  expect(report.requests.byKind.comments).toBe(2);
  expect(report.requests.ceilingSeconds).toBeCloseTo(report.requests.total / 5, 5);
  expect(report.manualSteps.map((m: { field: string }) => m.field)).toEqual(["Code"]);
  compare(TARGETS[0]!);
}, 120_000);

test("kill -9 with several creates in flight, then resume: zero duplicates, and the report still names the manual steps", async () => {
  await Bun.sleep(1100);
  let inFlight = 0;
  let kill: (signal: NodeJS.Signals) => void = () => {};
  const killed = new Promise<NodeJS.Signals>((resolve) => (kill = resolve));
  let creates = 0;
  sim.onRequest((info) => {
    if (info.route !== "createRecords") return;
    inFlight++;
    if (++creates > 8 && inFlight >= 2) kill("SIGKILL"); // in B or C, two batches sent and unanswered
  });
  sim.onResponse((info) => {
    if (info.route === "createRecords") inFlight--;
    return undefined;
  });
  const first = await runCli(["restore", archive, "--base", TARGETS[1]!], { env, signalOn: killed });
  expect(first.code).not.toBe(0); // killed
  const journalPath = `${archive}.restore-${TARGETS[1]}.journal.jsonl`;
  const lines = (await readFile(journalPath, "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const settled = new Set(
    lines.flatMap((e) => (e.t === "created" ? (e.batches ?? []) : e.t === "refused" ? [e.batch] : [])),
  );
  const open = lines.filter((e) => e.t === "pending" && !settled.has(e.batch));
  expect(open.length).toBeGreaterThanOrEqual(2); // several batches were in flight when it died
  await Bun.sleep(1500); // the dead run's writes land; its requests leave the 1-second window

  const second = await runCli(["restore", archive, "--base", TARGETS[1]!, "--json"], { env });
  expect(second.stderr).not.toContain("unexpected error");
  expect(second.code).toBe(0);
  const report = JSON.parse(second.stdout);
  expect(report.manualSteps.map((m: { field: string }) => m.field)).toEqual(["Code"]);
  expect(report.notes.join("\n")).toContain("Code");
  compare(TARGETS[1]!);
}, 120_000);

function selfLink(inverse: string) {
  return {
    linkedTableId: seed.tables[0]!.id,
    isReversed: false,
    prefersSingleRecordLink: false,
    inverseLinkFieldId: inverse,
  };
}

/** Every record exactly once, with its values, links (by Name), files (bytes) and comments. */
function compare(target: string): void {
  const source = sim.base(seed.id).tables;
  const restored = sim.base(target).tables;
  const nameOf = new Map(
    [...source, ...restored].flatMap((t) => t.records.map((r) => [r.id, String(r.fields.Name)] as const)),
  );
  for (const table of source) {
    const back = restored.find((t) => t.name === table.name)!;
    expect(back.records.map((r) => r.fields.Name).sort()).toEqual(table.records.map((r) => r.fields.Name).sort());
    const byName = new Map(back.records.map((r) => [String(r.fields.Name), r]));
    for (const record of table.records) {
      const got = byName.get(String(record.fields.Name))!;
      for (const field of ["Notes", "Amount", "Status", "Due", "Done", "Code"])
        expect([table.name, field, got.fields[field]]).toEqual([table.name, field, record.fields[field]]);
      for (const field of ["Next", "Previous", "Parent", "Children"]) {
        const names = (r: typeof record) =>
          ((r.fields[field] as string[] | undefined) ?? []).map((id) => nameOf.get(id)).sort();
        expect([table.name, field, names(got)]).toEqual([table.name, field, names(record)]);
      }
      const files = (r: typeof record) =>
        ((r.fields.Files as { filename: string; size: number }[] | undefined) ?? []).map((f) => [f.filename, f.size]);
      expect(files(got)).toEqual(files(record));
    }
  }
  const sourceComments = source[0]!.records[2]!.comments ?? [];
  const back = restored
    .find((t) => t.name === source[0]!.name)!
    .records.find((r) => r.fields.Name === source[0]!.records[2]!.fields.Name)!;
  expect(back.comments.map((c) => c.text)).toEqual([
    "[Ada Lovelace, 2024-03-30 10:00 UTC] first",
    "[Ada Lovelace, 2024-03-30 11:30 UTC] second",
  ]);
  expect(back.comments[1]!.parentCommentId).toBe(back.comments[0]!.id);
  expect(sourceComments).toHaveLength(2);
}
