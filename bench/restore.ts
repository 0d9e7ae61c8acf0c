// Restore benchmark: a 4-table base of 6,000 records with links and attachments in the simulator (150 ms
// latency, real limits: 5 requests/s per base, 30 s penalty), backed up and then restored with the
// compiled binary. Figure: wall time / ceiling, where the ceiling is the write requests at 5 per second.
// Run: bun bench/restore.ts
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateBase } from "../test/support/airtable-sim/generate-base.ts";
import { startAirtableSim } from "../test/support/airtable-sim/index.ts";
import { runCli } from "../test/support/cli.ts";

const TARGET = "appBENCHTARGET001";
const seed = generateBase({ id: "appBENCHSOURCE001", name: "Bench", tables: 4, recordsPerTable: 1500, attachments: { count: 60, bytes: 12 * 1024 * 1024 }, seed: 7 });
await using sim = await startAirtableSim({ bases: [seed, { id: TARGET, name: "Target", tables: [] }], latencyMs: 150 });
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
  console.log(`restored ${records} records in ${seconds.toFixed(1)} s: ${writes} write requests (${requests} requests in all, ${sim.counters.rateLimited - limitedBefore} answered 429)`);
  console.log(`ceiling (write requests / 5 per s): ${ceiling.toFixed(1)} s; all requests / 5 per s: ${(requests / 5).toFixed(1)} s`);
  console.log(`wall time / ceiling: ${(seconds / ceiling).toFixed(2)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
