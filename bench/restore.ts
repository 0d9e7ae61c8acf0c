// Restore benchmark: a 4-table base of 6,000 records with links and attachments in the simulator (150 ms
// latency, real limits: 5 requests/s per base, 30 s penalty), backed up and then restored with the
// compiled binary. Figure: wall time / ceiling, where the ceiling is the write requests at 5 per second.
// Run: bun bench/restore.ts
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateBase } from "../test/support/airtable-sim/generate-base.ts";
import { type SimTableState, startAirtableSim } from "../test/support/airtable-sim/index.ts";
import { runCli } from "../test/support/cli.ts";

const TARGET = "appBENCHTARGET001";
// --quick: a small base without latency or limits, to check completeness fast (its timing means nothing).
const quick = process.argv.includes("--quick");
const seed = generateBase({
  id: "appBENCHSOURCE001",
  name: "Bench",
  tables: 4,
  recordsPerTable: quick ? 150 : 1500,
  attachments: { count: 60, bytes: 12 * 1024 * 1024 },
  seed: 7,
});
await using sim = await startAirtableSim({
  bases: [seed, { id: TARGET, name: "Target", tables: [] }],
  ...(quick ? { perBaseRps: 1000, perUserRps: 1000 } : { latencyMs: 150 }),
});
const dir = await mkdtemp(join(tmpdir(), "airbackup-bench-restore-"));
try {
  const env = { AIRTABLE_TOKEN: "patTEST.secret", AIRTABLE_API_URL: sim.url, AIRTABLE_CONTENT_URL: sim.contentUrl };
  const backup = await runCli(["backup", "-o", dir, "--base", seed.id], { env });
  if (backup.code !== 0) throw new Error(`backup failed (${backup.code}): ${backup.stderr}`);
  const archive = backup.stdout.trim();
  await Bun.sleep(1500); // let the backup's requests leave the simulator's 1-second window
  const writesBefore = sim.counters.writes;
  const totalBefore = sim.counters.total;
  const limitedBefore = sim.counters.rateLimited;
  const started = performance.now();
  const restore = await runCli(["restore", archive, "--base", TARGET, "--json"], { env });
  const seconds = (performance.now() - started) / 1000;
  if (restore.code !== 0 && restore.code !== 3) throw new Error(`restore failed (${restore.code}): ${restore.stderr}`);
  const writes = sim.counters.writes - writesBefore;
  const requests = sim.counters.total - totalBefore;
  const ceiling = writes / 5;
  const records = sim.base(TARGET).tables.reduce((n, t) => n + t.records.length, 0);
  console.log(
    `restored ${records} records in ${seconds.toFixed(1)} s: ${writes} write requests (${requests} requests in all, ${sim.counters.rateLimited - limitedBefore} answered 429)`,
  );
  console.log(
    `ceiling (write requests / 5 per s): ${ceiling.toFixed(1)} s; all requests / 5 per s: ${(requests / 5).toFixed(1)} s`,
  );
  console.log(`wall time / ceiling: ${(seconds / ceiling).toFixed(2)}`);
  console.log(completeness(sim.base(seed.id).tables, sim.base(TARGET).tables));
} finally {
  await rm(dir, { recursive: true, force: true });
}

/** Links and files of the source that came back in the target, compared by primary value ("Name"). */
function completeness(source: SimTableState[], target: SimTableState[]): string {
  let links = 0;
  let linksBack = 0;
  let files = 0;
  let filesBack = 0;
  const names = (tables: SimTableState[]) =>
    new Map(tables.flatMap((t) => t.records.map((r) => [r.id, String(r.fields.Name)] as const)));
  const [sourceNames, targetNames] = [names(source), names(target)];
  for (const table of source) {
    const restored = new Map(
      target.find((t) => t.name === table.name)?.records.map((r) => [String(r.fields.Name), r]) ?? [],
    );
    for (const record of table.records) {
      const back = restored.get(String(record.fields.Name));
      for (const field of ["Next", "Previous"]) {
        const want = ((record.fields[field] as string[] | undefined) ?? []).map((id) => sourceNames.get(id)).sort();
        const got = new Set(((back?.fields[field] as string[] | undefined) ?? []).map((id) => targetNames.get(id)));
        links += want.length;
        linksBack += want.filter((name) => got.has(name)).length;
      }
      const wantFiles = (record.fields.Files as unknown[] | undefined)?.length ?? 0;
      files += wantFiles;
      filesBack += Math.min(wantFiles, (back?.fields.Files as unknown[] | undefined)?.length ?? 0);
    }
  }
  return `completeness: links ${linksBack}/${links}, attachments ${filesBack}/${files} (files over 5 MB are skipped by design)`;
}
