// `airbackup list` and `airbackup prune`, end to end with the compiled binary over a real output
// directory: archives made by the archive writer at chosen times, foreign files, leftovers of killed runs.
import { describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readdir, truncate, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { createArchive } from "../../src/archive/archive-writer.ts";
import { archiveName } from "../../src/storage/archive-names.ts";
import { runCli } from "../support/cli.ts";

const A = "appAAAAAAAAAAAAAA";
const B = "appBBBBBBBBBBBBBB";
const C = "appCCCCCCCCCCCCCC";
const DAY = 24 * 3600 * 1000;

/** A real, intact format-1 archive of `baseId` started at `iso`, in `dir`; returns its file name. */
async function archiveAt(dir: string, baseId: string, baseName: string, iso: string): Promise<string> {
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

async function damagedAt(dir: string, baseId: string, baseName: string, iso: string): Promise<string> {
  const name = await archiveAt(dir, baseId, baseName, iso);
  await truncate(join(dir, name), 100); // the central directory and manifest are gone
  return name;
}

/** Sets a file's or directory's modification time `days` ago. */
async function age(path: string, days: number): Promise<void> {
  const when = new Date(Date.now() - days * DAY);
  await utimes(path, when, when);
}

async function setup(keep: string): Promise<{ dir: string; out: string; config: string }> {
  const dir = await mkdtemp(join(tmpdir(), "airbackup-retention-"));
  const out = join(dir, "backups");
  await mkdir(out);
  const config = join(dir, "airbackup.yaml");
  await writeFile(config, `output:\n  dir: ${out}\n  keep: ${keep}\n`);
  return { dir, out, config };
}

async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** The stdout table as rows of cells (columns are separated by two or more spaces). */
function rows(stdout: string): string[][] {
  return stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split(/ {2,}/));
}

describe("airbackup prune", () => {
  test("--dry-run lists what would go and why each kept archive stays, and touches nothing; then prune does it", async () => {
    const { out, config } = await setup("{ last: 2, daily: 3, weekly: 2 }");
    const crm: string[] = [];
    for (let day = 1; day <= 10; day++)
      crm.push(await archiveAt(out, A, "CRM", `2026-11-${String(day).padStart(2, "0")}T03:00:00Z`));
    crm.push(await archiveAt(out, A, "CRM", "2026-11-10T15:00:00Z"));
    // Not archives, or not finished ones: the foreign file and fresh leftovers stay whatever their age.
    await writeFile(join(out, "notes.zip"), "mine");
    await age(join(out, "notes.zip"), 30);
    const freshPartial = `${archiveName("CRM", A, new Date())}.partial`;
    await writeFile(join(out, freshPartial), "in progress");
    const oldPartial = `${archiveName("CRM", A, new Date(Date.now() - 2 * DAY))}.partial`;
    await writeFile(join(out, oldPartial), "killed");
    await age(join(out, oldPartial), 2);
    const oldTemp = `.airbackup-${A}-abc123`;
    await mkdir(join(out, oldTemp));
    await writeFile(join(out, oldTemp, "table-x.jsonl"), "{}\n");
    await age(join(out, oldTemp, "table-x.jsonl"), 3);
    await age(join(out, oldTemp), 3);
    const busyTemp = `.airbackup-${A}-def456`; // old directory, but something in it was written just now
    await mkdir(join(out, busyTemp));
    await writeFile(join(out, busyTemp, "download-1"), "x");
    await age(join(out, busyTemp), 3);
    // Base B is being backed up right now (a live process holds its lock): its leftovers stay.
    const bPartial = `${archiveName("Ops", B, new Date(Date.now() - 2 * DAY))}.partial`;
    await writeFile(join(out, bPartial), "running");
    await age(join(out, bPartial), 2);
    const bLock = `.airbackup-${B}.lock`;
    await writeFile(
      join(out, bLock),
      JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString() }),
    );
    const before = await filesIn(out);

    const dry = await runCli(["prune", "-c", config, "--dry-run"]);
    expect(dry.stderr).toBe("");
    expect(dry.code).toBe(0);
    expect(rows(dry.stdout)).toEqual([
      ["keep", "local", crm[10]!, "last 1/2, daily 2026-11-10, weekly 2026-W46, newest intact archive"],
      ["keep", "local", crm[9]!, "last 2/2"],
      ["keep", "local", crm[8]!, "daily 2026-11-09"],
      ["keep", "local", crm[7]!, "daily 2026-11-08, weekly 2026-W45"],
      ...crm
        .slice(0, 7)
        .reverse()
        .map((name) => ["would remove", "local", name]),
      ["would remove", "local", oldPartial, "partial left by a killed run, 48 hours old"],
      ["would remove", "local", `${oldTemp}/`, "temporary directory left by a killed run, 72 hours old"],
    ]);
    expect(await filesIn(out)).toEqual(before);

    const real = await runCli(["prune", "-c", config]);
    expect(real.stderr).toBe("");
    expect(real.code).toBe(0);
    expect(rows(real.stdout).map((r) => r[0])).toEqual([...Array(4).fill("keep"), ...Array(9).fill("removed")]);
    expect(await filesIn(out)).toEqual([...crm.slice(7), "notes.zip", freshPartial, busyTemp, bPartial, bLock].sort());
  });

  test("the newest intact archive of a base is never removed; damaged ones are named", async () => {
    const { out, config } = await setup("{ last: 1 }");
    const damaged = await damagedAt(out, B, "Ops", "2026-11-06T03:00:00Z");
    const intact = await archiveAt(out, B, "Ops", "2026-11-05T03:00:00Z");
    const older = await archiveAt(out, B, "Ops", "2026-11-04T03:00:00Z");
    const r = await runCli(["prune", "-c", config]);
    expect(r.code).toBe(0);
    expect(rows(r.stdout)).toEqual([
      ["keep", "local", damaged, "last 1/1"],
      ["keep", "local", intact, "newest intact archive"],
      ["removed", "local", older],
    ]);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toStartWith(`airbackup: warning: damaged archive: ${out}/${damaged}: truncated`);
    expect(await filesIn(out)).toEqual([damaged, intact].sort());
  });

  test("--base prunes only that base", async () => {
    const { out, config } = await setup("{ last: 1 }");
    const a = [
      await archiveAt(out, A, "CRM", "2026-11-01T03:00:00Z"),
      await archiveAt(out, A, "CRM", "2026-11-02T03:00:00Z"),
    ];
    const b = [
      await archiveAt(out, B, "Ops", "2026-11-01T03:00:00Z"),
      await archiveAt(out, B, "Ops", "2026-11-02T03:00:00Z"),
    ];
    const r = await runCli(["prune", "-c", config, "--base", B]);
    expect(r.code).toBe(0);
    expect(rows(r.stdout)).toEqual([
      ["keep", "local", b[1]!, "last 1/1, newest intact archive"],
      ["removed", "local", b[0]!],
    ]);
    expect(await filesIn(out)).toEqual([...a, b[1]!].sort());
  });

  test("a base with no intact archive loses nothing (exit 1)", async () => {
    const { out, config } = await setup("{ last: 1 }");
    const names = [
      await damagedAt(out, C, "Broken", "2026-11-06T03:00:00Z"),
      await damagedAt(out, C, "Broken", "2026-11-05T03:00:00Z"),
    ];
    const r = await runCli(["prune", "-c", config, "--json"]);
    expect(r.code).toBe(1);
    // --json: log lines are JSON objects on stderr.
    const logged = r.stderr
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(logged.map((l) => l.level)).toEqual(["warn", "warn", "error"]);
    expect(logged[0].message).toStartWith(`damaged archive: ${out}/${names[0]}: truncated`);
    expect(logged[1].message).toStartWith(`damaged archive: ${out}/${names[1]}: truncated`);
    expect(logged[2].message).toBe(`${out}: no intact archive of ${C} found; nothing of it was removed`);
    const [report] = JSON.parse(r.stdout);
    expect(report.unprotected).toEqual([C]);
    expect(report.archives.map((a: any) => a.keep)).toEqual([true, true]);
    expect(await filesIn(out)).toEqual(names.sort());
  });

  test.each([
    ["{ last: 0, daily: 0 }", "output.keep: expected a policy that keeps something"],
    ["{}", "output.keep: expected a policy that keeps something"],
  ])("a policy that keeps nothing (%s) is refused: exit 2, nothing removed", async (keep, message) => {
    const { out, config } = await setup(keep);
    const name = await archiveAt(out, A, "CRM", "2026-11-01T03:00:00Z");
    const r = await runCli(["prune", "-c", config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(await filesIn(out)).toEqual([name]);
  });

  test("no policy at all: exit 2 with a hint", async () => {
    const dir = await mkdtemp(join(tmpdir(), "airbackup-retention-"));
    const r = await runCli(["prune", "-o", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no retention policy");
    expect(r.stderr).toContain("hint:");
  });
});

describe("airbackup list", () => {
  test("newest first with base, name, time, size and place; --base and --json", async () => {
    const { out, config } = await setup("{ last: 1 }");
    const a1 = await archiveAt(out, A, "CRM", "2026-11-01T03:00:00Z");
    const b1 = await archiveAt(out, B, "Ops Team", "2026-11-02T03:00:00Z");
    const a2 = await archiveAt(out, A, "CRM", "2026-11-03T03:00:00Z");
    await writeFile(join(out, "notes.zip"), "not an archive");
    await writeFile(join(out, `${a2}.partial`), "not finished");

    const r = await runCli(["list", "-c", config]);
    expect(r.code).toBe(0);
    const table = rows(r.stdout);
    expect(table.map((row) => [row[0], row[1], row[2], row[4], row[5]])).toEqual([
      [A, "crm", "2026-11-03T03:00:00Z", "local", a2],
      [B, "ops-team", "2026-11-02T03:00:00Z", "local", b1],
      [A, "crm", "2026-11-01T03:00:00Z", "local", a1],
    ]);
    expect(table[0]![3]).toMatch(/^\d+(\.\d)? (B|KB)$/);

    const only = await runCli(["list", "-c", config, "--base", B]);
    expect(rows(only.stdout).map((row) => row[5])).toEqual([b1]);

    const json = await runCli(["list", "-o", out, "--json"]);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.map((a: any) => a.name)).toEqual([a2, b1, a1]);
    expect(parsed[0]).toMatchObject({ baseId: A, slug: "crm", at: "2026-11-03T03:00:00.000Z", where: ["local"] });
    expect(parsed[0].size).toBe(Bun.file(join(out, a2)).size);
  });

  test("--base with something that is not a base id is a usage error", async () => {
    const r = await runCli(["list", "--base", "../etc"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--base ../etc: expected a base id");
  });
});
