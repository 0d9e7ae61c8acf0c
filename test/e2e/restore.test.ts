// End to end: the compiled binary backs up the sample base from the simulator, then restores it into an
// empty base; values, links (compared by primary values) and file bytes must come back. Also: refused
// values are isolated, --dry-run writes nothing, and interrupted or ambiguous writes never duplicate.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { noiseBytes } from "../support/airtable-sim/assets.ts";
import {
  type AirtableSim,
  type SimBaseSeed,
  type SimTableState,
  startAirtableSim,
} from "../support/airtable-sim/index.ts";
import { SAMPLE_USERS, sampleBase } from "../support/airtable-sim/sample-base.ts";
import { runCli } from "../support/cli.ts";

const EMPTY = ["appEMPTY000000001", "appEMPTY000000002", "appEMPTY000000003", "appEMPTY000000004", "appEMPTY000000005"];
const BIG = 6 * 1024 * 1024;
const WRITABLE = new Set([
  "singleLineText",
  "email",
  "url",
  "multilineText",
  "phoneNumber",
  "richText",
  "number",
  "percent",
  "currency",
  "duration",
  "rating",
  "checkbox",
  "singleSelect",
  "multipleSelects",
  "date",
  "dateTime",
  "barcode",
]);

let sim: AirtableSim;
let dir: string;
let archive: string;
let env: Record<string, string>;
let seed: SimBaseSeed;

beforeAll(async () => {
  seed = sampleBase();
  const tasks = seed.tables.find((t) => t.name === "Tasks")!;
  const deals = seed.tables.find((t) => t.name === "Deals")!;
  // many-to-many: one task on two deals; a file over 5 MB; a rating over the field's max (refused on restore)
  tasks.records[2]!.fields.Deal = [deals.records[0]!.id, deals.records[1]!.id];
  tasks.records[7]!.fields.Files = [
    { filename: "big.bin", type: "application/octet-stream", data: () => noiseBytes(7, BIG), size: BIG },
  ];
  tasks.records[6]!.fields.Priority = 9;
  sim = await startAirtableSim({
    bases: [seed, ...EMPTY.map((id) => ({ id, name: "Empty", tables: [] }))],
    users: SAMPLE_USERS,
    penaltyMs: 1000,
  });
  dir = await mkdtemp(join(tmpdir(), "airbackup-restore-"));
  env = { AIRTABLE_TOKEN: "patTEST.secret", AIRTABLE_API_URL: sim.url, AIRTABLE_CONTENT_URL: sim.contentUrl };
  const backup = await runCli(["backup", "-o", dir, "--base", seed.id], { env });
  expect(backup.code).toBe(0);
  archive = backup.stdout.trim();
}, 120_000);

afterAll(async () => {
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("airbackup restore", () => {
  test("--dry-run prints the plan and the simulator sees no write", async () => {
    const before = sim.counters.writes;
    const run = await runCli(["restore", archive, "--base", EMPTY[0]!, "--dry-run"], { env });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("create table Companies: 5 records to restore");
    expect(run.stderr).toContain("Contacts.Label (formula): formula field: {Name}");
    expect(sim.counters.writes).toBe(before);
    expect(sim.base(EMPTY[0]!).tables).toHaveLength(0);
  });

  test("restores tables, values, links and files into an empty base; reports what it skipped", async () => {
    const run = await runCli(["restore", archive, "--base", EMPTY[1]!, "--json"], { env });
    expect(run.stderr).not.toContain("unexpected error");
    expect(run.code).toBe(3);
    const report = JSON.parse(run.stdout);
    const tasksReport = report.tables.find((t: { name: string }) => t.name === "Tasks");
    expect(tasksReport.records).toEqual({ archived: 8, restored: 8 });
    expect(tasksReport.skippedValues).toEqual([
      { record: seed.tables[3]!.records[6]!.id, field: "Priority", reason: expect.stringContaining("422") },
    ]);
    expect(tasksReport.attachments.skipped).toEqual([
      expect.objectContaining({ field: "Files", reason: expect.stringContaining("S3 staging") }),
    ]);
    expect(report.manualSteps.map((m: { field: string }) => m.field)).toContain("Total deal value");
    await compareBases(sim.base(seed.id).tables, sim.base(EMPTY[1]!).tables, {
      refused: "Priority",
      bigFile: "big.bin",
    });
  }, 120_000);

  test("dropped connections on writes are reconciled: no duplicates", async () => {
    sim.setFaults({ seed: 42, dropRate: 0.25, routes: ["write", "upload"] });
    const run = await runCli(["restore", archive, "--base", EMPTY[2]!], { env });
    sim.setFaults(undefined);
    expect(run.stderr).not.toContain("unexpected error");
    expect(run.code).toBe(3);
    await compareBases(sim.base(seed.id).tables, sim.base(EMPTY[2]!).tables, {
      refused: "Priority",
      bigFile: "big.bin",
    });
    // the faults did hit creates: some batches were sent more than once (reconciled, not duplicated)
    const journal = await readFile(`${archive}.restore-${EMPTY[2]}.journal.jsonl`, "utf8");
    const pending = journal.split("\n").filter((l) => l.includes('"t":"pending"')).length;
    expect(pending).toBeGreaterThan(4 + 1 + 4); // 4 tables: 1+1+1+1 batches, plus the refusal's bisection
  }, 180_000);

  test("an interrupted restore resumes from its journal without duplicating", async () => {
    const first = await runCli(["restore", archive, "--base", EMPTY[3]!, "--verbose"], {
      env,
      interrupt: { signal: "SIGINT", when: (stderr) => stderr.includes("Contacts: ") },
    });
    expect(first.code).toBe(130);
    const partial = sim.base(EMPTY[3]!).tables.reduce((n, t) => n + t.records.length, 0);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(27);
    // A new process cannot know the last one's requests: let the base's 1 s window drain first, as a
    // person re-running the command would (otherwise the first burst may draw a 429 and a 30 s wait).
    await Bun.sleep(1100);
    const second = await runCli(["restore", archive, "--base", EMPTY[3]!], { env });
    expect(second.code).toBe(3);
    await compareBases(sim.base(seed.id).tables, sim.base(EMPTY[3]!).tables, {
      refused: "Priority",
      bigFile: "big.bin",
    });
    const journal = await readFile(`${archive}.restore-${EMPTY[3]}.journal.jsonl`, "utf8");
    expect(journal.trim().split("\n").at(-1)).toContain('"t":"done"');
    expect(existsSync(`${archive}.restore-${EMPTY[3]}.journal.jsonl.lock`)).toBe(false); // removed at the end
  }, 120_000);

  test("a damaged archive is refused before anything is written", async () => {
    const damaged = join(dir, "damaged.zip");
    const bytes = new Uint8Array(await Bun.file(archive).arrayBuffer());
    bytes[200] = bytes[200]! ^ 0xff; // inside the first entry's data
    await Bun.write(damaged, bytes);
    const writes = sim.counters.writes;
    const run = await runCli(["restore", damaged, "--base", EMPTY[4]!], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("damaged.zip");
    expect(sim.counters.writes).toBe(writes);
    expect(sim.base(EMPTY[4]!).tables).toEqual([]);
  });

  test("a second restore into a base while another runs exits 1 with one line and writes nothing", async () => {
    const lock = `${archive}.restore-${EMPTY[4]}.journal.jsonl.lock`;
    // A live process of this host (the test runner) holds the lock.
    await Bun.write(lock, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString() }));
    const writes = sim.counters.writes;
    try {
      const run = await runCli(["restore", archive, "--base", EMPTY[4]!], { env });
      expect(run.code).toBe(1);
      const lines = run.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain("another restore into this base is running");
      expect(sim.counters.writes).toBe(writes);
      expect(existsSync(lock)).toBe(true); // not ours to remove
    } finally {
      await rm(lock, { force: true });
    }
  });

  test("a table of the target that holds records is refused without --append; s3 staging without s3: is a usage error", async () => {
    const copy = join(dir, "copy.zip");
    await Bun.write(copy, Bun.file(archive)); // another archive path: no journal, so not a resume
    const writes = sim.counters.writes;
    const run = await runCli(["restore", copy, "--base", EMPTY[1]!, "-t", "Tasks"], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("table Tasks of base appEMPTY000000002 already holds records");
    expect(sim.counters.writes).toBe(writes);
    const s3 = await runCli(["restore", copy, "--base", EMPTY[1]!, "--attachments", "s3"], { env });
    expect(s3.code).toBe(2);
    expect(s3.stderr).toContain("--attachments s3 needs `s3:` in the config");
    expect(sim.base(EMPTY[1]!).tables.find((t) => t.name === "Tasks")!.records).toHaveLength(8);
  }, 60_000);

  test("--workspace creates a new base named after the archive; -t restores only some tables", async () => {
    const run = await runCli(
      ["restore", archive, "--workspace", "wspTEST0000000001", "-t", "Companies", "-t", "Contacts", "--json"],
      { env },
    );
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    const base = sim.base(report.baseId);
    expect(base.name).toBe(`Sample CRM (restored ${new Date().toISOString().slice(0, 10)})`);
    expect(base.tables.map((t) => t.name)).toEqual(["Companies", "Contacts"]);
    expect(base.tables.map((t) => t.records.length)).toEqual([5, 8]);
    // the links to Deals are reported as not restorable, the Contacts<->Companies pair is made once
    expect(
      base.tables[0]!.fields.filter((f) => f.type === "multipleRecordLinks")
        .map((f) => f.name)
        .sort(),
    ).toEqual(["Contacts", "Parent company"]);
    expect(base.tables[1]!.fields.filter((f) => f.type === "multipleRecordLinks").map((f) => f.name)).toEqual([
      "Company",
    ]);
  }, 60_000);
});

// --- internal ---

/** Every writable value, every link (by primary value) and every file's bytes must match. */
async function compareBases(
  source: SimTableState[],
  target: SimTableState[],
  expected: { refused: string; bigFile: string },
): Promise<void> {
  for (const table of source) {
    const restored = target.find((t) => t.name === table.name);
    expect(restored).toBeDefined();
    expect(restored!.records).toHaveLength(table.records.length); // no duplicates, none missing
    const primary = (t: SimTableState) => t.fields.find((f) => f.id === t.primaryFieldId)!.name;
    const key = (t: SimTableState, r: { fields: Record<string, unknown>; id: string }) =>
      JSON.stringify(r.fields[primary(t)] ?? null);
    const byKey = new Map(restored!.records.map((r) => [key(restored!, r), r]));
    for (const record of table.records) {
      const copy = byKey.get(key(table, record));
      expect(copy).toBeDefined();
      for (const field of table.fields) {
        const want = record.fields[field.name];
        const got = copy!.fields[field.name];
        if (WRITABLE.has(field.type)) {
          if (field.name === expected.refused && want === 9) expect(got).toBeUndefined();
          else expect(got).toEqual(want);
        } else if (field.type === "singleCollaborator") {
          expect((got as { id?: string } | undefined)?.id).toEqual((want as { id?: string } | undefined)?.id);
        } else if (field.type === "multipleCollaborators") {
          expect(((got as { id: string }[] | undefined) ?? []).map((c) => c.id)).toEqual(
            ((want as { id: string }[] | undefined) ?? []).map((c) => c.id),
          );
        } else if (field.type === "multipleRecordLinks") {
          const linked = source.find((t) => t.id === (field.options as { linkedTableId: string }).linkedTableId)!;
          const linkedCopy = target.find((t) => t.name === linked.name)!;
          const names = (ids: unknown, t: SimTableState) =>
            ((ids as string[] | undefined) ?? []).map((id) => key(t, t.records.find((r) => r.id === id)!)).sort();
          expect(names(got, linkedCopy)).toEqual(names(want, linked));
        } else if (field.type === "multipleAttachments") {
          const files = ((want as { filename: string; url: string }[] | undefined) ?? []).filter(
            (a) => a.filename !== expected.bigFile,
          );
          const copies = (got as { filename: string; url: string }[] | undefined) ?? [];
          expect(copies.map((a) => a.filename)).toEqual(files.map((a) => a.filename));
          for (let i = 0; i < files.length; i++) {
            const [a, b] = await Promise.all(
              [fetch(files[i]!.url), fetch(copies[i]!.url)].map(
                async (p) => new Uint8Array(await (await p).arrayBuffer()),
              ),
            );
            expect(Buffer.compare(Buffer.from(a!), Buffer.from(b!))).toBe(0);
          }
        }
      }
    }
  }
}
