// What surrounds a backup, end to end with the compiled binary against the Airtable simulator: the lock
// per base (cron overlap, a dead run's lock), leftovers of killed runs, `--prune` only after success, and
// Ctrl-C during the final verify.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { createArchive } from "../../src/archive/archive-writer.ts";
import { archiveName } from "../../src/storage/archive-names.ts";
import { type AirtableSim, startAirtableSim } from "../support/airtable-sim/index.ts";
import { generateBase } from "../support/airtable-sim/seeds.ts";
import { runCli } from "../support/cli.ts";

const TOKEN = "patTEST.secret";
const DAY = 24 * 3600 * 1000;

function envFor(sim: AirtableSim): Record<string, string> {
  return { AIRTABLE_TOKEN: TOKEN, AIRTABLE_API_URL: sim.url, AIRTABLE_CONTENT_URL: sim.contentUrl };
}

async function outDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "airbackup-e2e-"));
}

async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** An intact archive of `baseId` started at `iso` (as an earlier backup would have left it). */
async function earlierArchive(dir: string, baseId: string, baseName: string, iso: string): Promise<string> {
  const at = new Date(iso);
  const name = archiveName(baseName, baseId, at);
  const writer = await createArchive(join(dir, name), {
    tool: { name: "airbackup", version: "test" },
    base: { id: baseId, name: baseName },
    startedAt: at,
  });
  await writer.writeSchema({ tables: [] });
  await writer.finish({ warnings: [], finishedAt: at });
  return name;
}

async function aged(path: string, days: number): Promise<void> {
  const when = new Date(Date.now() - days * DAY);
  await utimes(path, when, when);
}

/** A pid that ran on this host and no longer does. */
async function deadPid(): Promise<number> {
  const proc = Bun.spawn(["true"]);
  await proc.exited;
  return proc.pid;
}

describe("backup: one run per base and output directory", () => {
  test("a second backup of the same base while one runs exits 1 at once with one line naming it", async () => {
    const seed = generateBase({ id: "appLOCKLOCKLOCK01", name: "Locked", tables: 2, recordsPerTable: 300 });
    await using sim = await startAirtableSim({ bases: [seed], latencyMs: 150 });
    const out = await outDir();
    const lock = join(out, `.airbackup-${seed.id}.lock`);
    let firstDone = false;
    const first = runCli(["backup", "-o", out, "--base", seed.id], { env: envFor(sim) }).finally(
      () => (firstDone = true),
    );
    while (!existsSync(lock)) await Bun.sleep(20);
    const owner = JSON.parse(await readFile(lock, "utf8"));

    const second = await runCli(["backup", "-o", out, "--base", seed.id], { env: envFor(sim) });
    expect(firstDone).toBe(false); // it did not wait for the first
    expect(second.code).toBe(1);
    expect(second.stdout).toBe("");
    const lines = second.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`another backup of ${seed.id} into this directory is running`);
    expect(lines[0]).toContain(`process ${owner.pid} on ${hostname()} (started ${owner.startedAt})`);

    const done = await first;
    expect(done.code).toBe(0);
    expect(await filesIn(out)).toEqual([done.stdout.trim().slice(out.length + 1)]); // the lock is gone too
  }, 60_000);

  test("a lock left by a dead process on this host is taken over, with a notice even under cron", async () => {
    const seed = generateBase({ id: "appSTALESTALE0001", name: "Stale", tables: 1, recordsPerTable: 5 });
    await using sim = await startAirtableSim({ bases: [seed] });
    const out = await outDir();
    const pid = await deadPid();
    await writeFile(
      join(out, `.airbackup-${seed.id}.lock`),
      JSON.stringify({ pid, host: hostname(), startedAt: "2026-11-30T03:00:00.000Z" }),
    );
    const r = await runCli(["backup", "-o", out], { env: envFor(sim) });
    expect(r.code).toBe(0);
    expect(r.stderr.trim().split("\n")).toEqual([
      expect.stringContaining(
        `airbackup: warning: taking over the backup lock of ${seed.id} ${join(out, `.airbackup-${seed.id}.lock`)}: process ${pid} on ${hostname()} (started 2026-11-30T03:00:00.000Z) no longer runs`,
      ),
    ]);
    expect(await filesIn(out)).toEqual([r.stdout.trim().slice(out.length + 1)]);
  });

  test("leftovers of the base's killed runs older than a day go at start; fresh ones and other bases' stay", async () => {
    const seed = generateBase({ id: "appLEFTLEFTLEFT01", name: "Left", tables: 1, recordsPerTable: 5 });
    await using sim = await startAirtableSim({ bases: [seed] });
    const out = await outDir();
    const oldPartial = `${archiveName("Left", seed.id, new Date(Date.now() - 3 * DAY))}.partial`;
    const freshPartial = `${archiveName("Left", seed.id, new Date(Date.now() - 3600_000))}.partial`;
    const otherPartial = `${archiveName("Other", "appOTHEROTHER0001", new Date(Date.now() - 3 * DAY))}.partial`;
    const oldTemp = `.airbackup-${seed.id}-k1ll3d`;
    for (const name of [oldPartial, freshPartial, otherPartial]) await writeFile(join(out, name), "x");
    await mkdir(join(out, oldTemp));
    await writeFile(join(out, oldTemp, "table-a.jsonl"), "{}\n");
    for (const name of [oldPartial, otherPartial, join(oldTemp, "table-a.jsonl"), oldTemp])
      await aged(join(out, name), 3);

    const r = await runCli(["backup", "-o", out], { env: envFor(sim) });
    expect(r.code).toBe(0);
    const notices = r.stderr.trim().split("\n");
    expect(notices).toHaveLength(2);
    expect(notices.join("\n")).toContain(`removed ${oldPartial}, a partial left by a run killed 72 hours ago`);
    expect(notices.join("\n")).toContain(`removed ${oldTemp}, a temporary directory left by a run killed 72 hours ago`);
    expect(await filesIn(out)).toEqual([r.stdout.trim().slice(out.length + 1), freshPartial, otherPartial].sort());
  });
});

describe("backup --prune", () => {
  test("prunes the base right after its backup succeeded, in cron silence", async () => {
    const seed = generateBase({ id: "appPRUNEPRUNEPR01", name: "Pruned", tables: 1, recordsPerTable: 5 });
    await using sim = await startAirtableSim({ bases: [seed] });
    const out = await outDir();
    const old1 = await earlierArchive(out, seed.id, "Pruned", "2026-11-01T03:00:00Z");
    const old2 = await earlierArchive(out, seed.id, "Pruned", "2026-11-02T03:00:00Z");
    const other = await earlierArchive(out, "appOTHEROTHER0001", "Other", "2026-11-01T03:00:00Z");
    const config = join(out, "airbackup.yaml");
    await writeFile(config, "output:\n  keep: { last: 2 }\n");
    const r = await runCli(["backup", "-c", config, "-o", out, "--prune"], { env: envFor(sim) });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const made = r.stdout.trim().slice(out.length + 1);
    expect(await filesIn(out)).toEqual(["airbackup.yaml", made, old2, other].sort());
    expect(old1 < old2 && old2 < made).toBe(true);
  });

  test("never after a failed backup: every earlier archive stays", async () => {
    const seed = generateBase({ id: "appFAILFAILFAIL01", name: "Failing", tables: 1, recordsPerTable: 5 });
    await using sim = await startAirtableSim({ bases: [seed] });
    // The base fails late: every table is read, then the schema check at the end is refused.
    sim.onRequest(({ route, n }) =>
      route === "getSchema" && n === 2
        ? Response.json({ error: { type: "NOT_FOUND", message: "gone" } }, { status: 404 })
        : undefined,
    );
    const out = await outDir();
    const old1 = await earlierArchive(out, seed.id, "Failing", "2026-11-01T03:00:00Z");
    const old2 = await earlierArchive(out, seed.id, "Failing", "2026-11-02T03:00:00Z");
    const config = join(out, "airbackup.yaml");
    await writeFile(config, "output:\n  keep: { last: 1 }\nprune: true\n");
    const r = await runCli(["backup", "-c", config, "-o", out], { env: envFor(sim) });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(sim.counters.requests.listRecords).toBeGreaterThan(0);
    expect(await filesIn(out)).toEqual(["airbackup.yaml", old1, old2].sort());
  });

  test("--prune without a policy is a usage error before anything runs", async () => {
    const out = await outDir();
    const r = await runCli(["backup", "-o", out, "--prune"], { env: { AIRTABLE_TOKEN: TOKEN } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--prune needs a retention policy");
    expect(await filesIn(out)).toEqual([]);
  });
});

describe("backup: Ctrl-C during the final verify", () => {
  test("exit 130, and the archive is not moved into place", async () => {
    // Enough attachment bytes that the verify (CRC-32 and sha256 of every byte) takes a moment.
    const seed = generateBase({
      id: "appVERIFYVERIFY01",
      name: "Verify",
      tables: 1,
      recordsPerTable: 40,
      attachments: { count: 30, bytes: 150_000_000 },
    });
    await using sim = await startAirtableSim({ bases: [seed] });
    const out = await outDir();
    const r = await runCli(["backup", "-o", out, "--verbose"], {
      env: envFor(sim),
      interrupt: { signal: "SIGINT", when: (stderr) => stderr.includes("verifying ") },
    });
    expect(r.stderr).toContain("verifying ");
    expect(r.code).toBe(130);
    expect(r.stdout).toBe("");
    expect(await filesIn(out)).toEqual([]);
  }, 120_000);
});
