// bench/backup: airbackup against the simulator with real limits, beside the baseline most users would
// write with the official `airtable` client; then peak memory on a big base. Prints figures, asserts nothing.
//   bun bench/backup.ts            both parts
//   bun bench/backup.ts --speed    only the rate-limit ceiling comparison
//   bun bench/backup.ts --memory   only the peak-RSS run

import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Airtable from "airtable";
import { startAirtableSim } from "../test/support/airtable-sim/index.ts";
import { generateBase } from "../test/support/airtable-sim/seeds.ts";
import { BINARY, ensureBinary } from "../test/support/cli.ts";

const TOKEN = "patTEST.secret";
// Airtable does not document how long a listing's iterator lives; a long one keeps the baseline from
// failing outright when its 429 back-off outlasts the simulator's default (60 s of inactivity).
const ITERATOR_TTL = 600_000;
const only = process.argv.find((a) => a === "--speed" || a === "--memory");

await ensureBinary();
if (only !== "--memory") await speed();
if (only !== "--speed") await memory();

async function speed(): Promise<void> {
  const seed = generateBase({
    id: "appBENCHBENCHBEN1",
    name: "Bench",
    tables: 4,
    recordsPerTable: 1500,
    attachments: { count: 200, bytes: 20_000_000 },
  });
  const pages = seed.tables.reduce((n, t) => n + Math.ceil(t.records.length / 100), 0);
  console.log(
    "== speed: 4 tables x 1,500 records, 200 attachments (20 MB); simulator: 150 ms latency, 5 req/s per base, 30 s penalty",
  );

  {
    await using sim = await startAirtableSim({
      bases: [seed],
      latencyMs: 150,
      penaltyMs: 30_000,
      iteratorTtlMs: ITERATOR_TTL,
    });
    const out = await mkdtemp(join(tmpdir(), "bench-backup-"));
    const t0 = performance.now();
    const proc = Bun.spawn([BINARY, "backup", "-o", out], {
      env: envFor(sim.url, sim.contentUrl),
      stdout: "pipe",
      stderr: "inherit",
    });
    const code = await proc.exited;
    const seconds = (performance.now() - t0) / 1000;
    const lists = sim.counters.requests.listRecords ?? 0;
    const ceiling = pages / 5;
    const archive = (await new Response(proc.stdout).text()).trim();
    console.log(
      `airbackup:        exit ${code}, ${seconds.toFixed(1)} s wall, ${lists} list requests (${pages} pages needed: ceiling ${ceiling.toFixed(1)} s at 5/s) -> wall/ceiling ${(seconds / ceiling).toFixed(3)}; total API calls ${sim.counters.total}, 429s ${sim.counters.rateLimited}, max ${sim.counters.maxRatePerBase[seed.id]} req/s seen; archive ${((await stat(archive)).size / 1e6).toFixed(1)} MB`,
    );
    await rm(out, { recursive: true, force: true });
  }

  {
    // The baseline as the airtable README shows it: select().all() per table, then fetch each attachment.
    await using sim = await startAirtableSim({
      bases: [seed],
      latencyMs: 150,
      penaltyMs: 30_000,
      iteratorTtlMs: ITERATOR_TTL,
    });
    Airtable.configure({ apiKey: TOKEN, endpointUrl: sim.url });
    const base = Airtable.base(seed.id);
    const t0 = performance.now();
    let records = 0;
    let bytes = 0;
    let failure = "";
    try {
      for (const table of seed.tables) {
        const rows = await base(table.name).select().all();
        records += rows.length;
        for (const row of rows) {
          for (const file of (row.get("Files") as { url: string }[] | undefined) ?? []) {
            bytes += (await (await fetch(file.url)).arrayBuffer()).byteLength;
          }
        }
      }
    } catch (error) {
      failure = ` FAILED (${(error as { error?: string }).error ?? String(error)})`;
    }
    const seconds = (performance.now() - t0) / 1000;
    const lists = sim.counters.requests.listRecords ?? 0;
    console.log(
      `airtable.js:      ${seconds.toFixed(1)} s wall${failure}, ${records} records, ${(bytes / 1e6).toFixed(1)} MB files, ${lists} list requests -> wall/ceiling ${(seconds / (pages / 5)).toFixed(3)}; 429s ${sim.counters.rateLimited}, max ${sim.counters.maxRatePerBase[seed.id]} req/s seen`,
    );
  }
}

async function memory(): Promise<void> {
  const seed = generateBase({
    id: "appMEMORYMEMORY01",
    name: "Memory",
    tables: 4,
    recordsPerTable: 2500,
    recordBytes: 8000,
    attachments: { count: 300, bytes: 300_000_000 },
  });
  console.log("== memory: 10,000 records of ~8 KB and 300 attachments (300 MB); no latency, real limits");
  await using sim = await startAirtableSim({ bases: [seed] });
  const out = await mkdtemp(join(tmpdir(), "bench-backup-"));
  const t0 = performance.now();
  const proc = Bun.spawn([BINARY, "backup", "-o", out], {
    env: envFor(sim.url, sim.contentUrl),
    stdout: "pipe",
    stderr: "inherit",
  });
  let peakKb = 0;
  const poll = setInterval(async () => {
    const status = await Bun.file(`/proc/${proc.pid}/status`)
      .text()
      .catch(() => "");
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
  }, 50);
  const code = await proc.exited;
  clearInterval(poll);
  const seconds = (performance.now() - t0) / 1000;
  const archive = (await new Response(proc.stdout).text()).trim();
  const size = archive ? (await stat(archive)).size : 0;
  console.log(
    `airbackup:        exit ${code}, ${seconds.toFixed(1)} s, peak RSS ${(peakKb / 1024).toFixed(0)} MB (VmHWM), archive ${(size / 1e6).toFixed(0)} MB, ${sim.counters.requests.listRecords} list requests, 429s ${sim.counters.rateLimited}`,
  );
  await rm(out, { recursive: true, force: true });
}

function envFor(apiUrl: string, contentUrl: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    AIRTABLE_TOKEN: TOKEN,
    AIRTABLE_API_URL: apiUrl,
    AIRTABLE_CONTENT_URL: contentUrl,
  };
}
