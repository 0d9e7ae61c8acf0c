// bench/backup: airbackup against the simulator with real limits, beside the baseline most users would
// write with the official `airtable` client; peak memory on a big base; 12 bases at once; a second run
// of a big base reusing its files. Prints figures, asserts nothing.
//   bun bench/backup.ts            every part
//   bun bench/backup.ts --speed    only the rate-limit ceiling comparison (one base)
//   bun bench/backup.ts --memory   only the peak-RSS run
//   bun bench/backup.ts --bases    12 bases at once against the token's ceiling, and one after another
//   bun bench/backup.ts --reuse    the memory case's base backed up twice, beside a --no-attachments run

import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Airtable from "airtable";
import { type AirtableSim, startAirtableSim } from "../test/support/airtable-sim/index.ts";
import { generateBase } from "../test/support/airtable-sim/seeds.ts";
import { BINARY, ensureBinary } from "../test/support/cli.ts";

const TOKEN = "patTEST.secret";
const USER = "usrTEST00000000001";
// Airtable does not document how long a listing's iterator lives; a long one keeps the baseline from
// failing outright when its 429 back-off outlasts the simulator's default (60 s of inactivity).
const ITERATOR_TTL = 600_000;
const parts = ["--speed", "--memory", "--bases", "--reuse"];
const only = process.argv.find((a) => parts.includes(a));

await ensureBinary();
if (!only || only === "--speed") await speed();
if (!only || only === "--memory") await memory();
if (!only || only === "--bases") await manyBases();
if (!only || only === "--reuse") await reuse();

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
    const run = await backup(sim, ["-o", out]);
    const lists = sim.counters.requests.listRecords ?? 0;
    const ceiling = pages / 5;
    console.log(
      `airbackup:        exit ${run.code}, ${run.seconds.toFixed(1)} s wall, ${lists} list requests (${pages} pages needed: ceiling ${ceiling.toFixed(1)} s at 5/s) -> wall/ceiling ${(run.seconds / ceiling).toFixed(3)}; total API calls ${sim.counters.total}, 429s ${sim.counters.rateLimited}, max ${sim.counters.maxRatePerBase[seed.id]} req/s seen; archive ${((await stat(run.paths[0]!)).size / 1e6).toFixed(1)} MB`,
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

/** The memory case's base: 10,000 records of about 8 KB and 300 files of 1 MB. */
function memoryBase() {
  return generateBase({
    id: "appMEMORYMEMORY01",
    name: "Memory",
    tables: 4,
    recordsPerTable: 2500,
    recordBytes: 8000,
    attachments: { count: 300, bytes: 300_000_000 },
  });
}

async function memory(): Promise<void> {
  console.log("== memory: 10,000 records of ~8 KB and 300 attachments (300 MB); no latency, real limits");
  await using sim = await startAirtableSim({ bases: [memoryBase()] });
  const out = await mkdtemp(join(tmpdir(), "bench-backup-"));
  const run = await backup(sim, ["-o", out]);
  const size = run.paths[0] ? (await stat(run.paths[0]!)).size : 0;
  console.log(
    `airbackup:        exit ${run.code}, ${run.seconds.toFixed(1)} s, peak RSS ${run.peakMb.toFixed(0)} MB (VmHWM), archive ${(size / 1e6).toFixed(0)} MB, ${sim.counters.requests.listRecords} list requests, 429s ${sim.counters.rateLimited}`,
  );
  await rm(out, { recursive: true, force: true });
}

async function manyBases(): Promise<void> {
  const seeds = Array.from({ length: 12 }, (_, i) =>
    generateBase({
      id: `appMANYBASES${String(i).padStart(5, "0")}`,
      name: `Base ${i + 1}`,
      tables: 1,
      recordsPerTable: 1500,
      seed: i + 1,
    }),
  );
  const pages = 12 * 15;
  const ceiling = Math.max(15 / 5, pages / 50);
  // Every call the design requires: the list of bases, and each base's schema read at the start and again at the end.
  const required = 1 + 12 * 2 + pages;
  const callCeiling = Math.max((15 + 2) / 5, required / 50);
  console.log(
    `== 12 bases of 1,500 records (15 pages each), 150 ms latency; ceiling max(15/5, ${pages}/50) = ${ceiling.toFixed(1)} s; counting every required call, max((15+2)/5, ${required}/50) = ${callCeiling.toFixed(2)} s`,
  );
  for (const concurrency of [12, 1]) {
    await using sim = await startAirtableSim({ bases: seeds, latencyMs: 150, penaltyMs: 30_000 });
    const dir = await mkdtemp(join(tmpdir(), "bench-bases-"));
    const config = join(dir, "airbackup.yaml");
    await writeFile(config, `concurrency:\n  bases: ${concurrency}\noutput:\n  dir: ${dir}/out\n`);
    const run = await backup(sim, ["-c", config]);
    const calls = sim.counters.total;
    const maxBase = Math.max(...seeds.map((s) => sim.counters.maxRatePerBase[s.id] ?? 0));
    console.log(
      `concurrency.bases ${String(concurrency).padStart(2)}: exit ${run.code}, ${run.paths.length} archives, ${run.seconds.toFixed(2)} s wall -> wall/ceiling ${(run.seconds / ceiling).toFixed(3)}, wall/call ceiling ${(run.seconds / callCeiling).toFixed(3)}; ${calls} API calls in all (${calls - pages} besides the pages: list bases, two schema reads per base; at 50/s they alone take ${(calls / 50).toFixed(1)} s); 429s ${sim.counters.rateLimited}; highest rates seen ${maxBase}/s per base, ${sim.counters.maxRatePerUser[USER]}/s for the token; peak RSS ${run.peakMb.toFixed(0)} MB`,
    );
    await rm(dir, { recursive: true, force: true });
  }
}

async function reuse(): Promise<void> {
  console.log("== reuse: the memory case's base backed up twice (no latency, real limits), and with --no-attachments");
  await using sim = await startAirtableSim({ bases: [memoryBase()] });
  const out = await mkdtemp(join(tmpdir(), "bench-reuse-"));
  const runs: [string, string[]][] = [
    ["first run", []],
    ["second run", []],
    ["--no-attachments", ["--no-attachments"]],
  ];
  for (const [label, extra] of runs) {
    const before = sim.counters.downloadedBytes;
    const run = await backup(sim, ["-o", out, ...extra]);
    console.log(
      `${label.padEnd(17)} exit ${run.code}, ${run.seconds.toFixed(1)} s wall, ${((sim.counters.downloadedBytes - before) / 1e6).toFixed(1)} MB downloaded, peak RSS ${run.peakMb.toFixed(0)} MB`,
    );
    await Bun.sleep(1000); // archive names carry the second
  }
  await rm(out, { recursive: true, force: true });
}

/** Runs the binary's backup against the simulator; peak RSS from /proc (VmHWM). */
async function backup(sim: AirtableSim, args: string[]) {
  const t0 = performance.now();
  const proc = Bun.spawn([BINARY, "backup", ...args], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      AIRTABLE_TOKEN: TOKEN,
      AIRTABLE_API_URL: sim.url,
      AIRTABLE_CONTENT_URL: sim.contentUrl,
    },
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
  const paths = (await new Response(proc.stdout).text()).trim().split("\n").filter(Boolean);
  return { code, seconds, paths, peakMb: peakKb / 1024 };
}
