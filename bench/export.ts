// Export throughput: a 100,000-record archive (4 tables linked in a ring, every common field type) exported
// by airbackup into SQLite and PostgreSQL, next to the same rows loaded by `sqlite-utils insert --nl` (the
// tool behind the best-known Airtable exporter) and by psql's `\copy` of a CSV (PostgreSQL's bulk path).
// Each run is its own process, timed with GNU time for its peak RSS. Also, with --memory: the 10,000 x 8 KB
// records + 300 MB of files archive exported with --files, for peak RSS.
// Usage: bun bench/export.ts [--records 100000] [--memory]
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgres } from "../test/support/postgres.ts";
import { SYNTHETIC_TABLES, writeSyntheticArchive } from "../test/support/synthetic-archive.ts";

const args = process.argv.slice(2);
const records = Number(args[args.indexOf("--records") + 1]) || 100_000;
const CLI = [process.execPath, join(import.meta.dir, "../src/cli.ts")];
const dir = mkdtempSync(join(tmpdir(), "airbackup-bench-export-"));
const pg = await startPostgres();
try {
  const archive = join(dir, "synthetic-appSYNTHETIC00001-20261130T030000Z.zip");
  await writeSyntheticArchive(archive, { records });
  // the references get the same rows: NDJSON and CSV as airbackup writes them (not timed)
  await must([...CLI, "export", archive, "-o", join(dir, "ndjson"), "--format", "ndjson"]);
  await must([...CLI, "export", archive, "-o", join(dir, "csv"), "--format", "csv"]);
  const rows: string[][] = [];
  const add = (target: string, tool: string, r: { seconds: number; maxRss: number }) =>
    rows.push([target, tool, fmt(records / r.seconds, 0), fmt(r.seconds, 2), fmt(r.maxRss / 1e6, 0)]);

  add("SQLite", "airbackup export", await timed([...CLI, "export", archive, "-o", join(dir, "out.db")]));
  if (Bun.which("sqlite-utils")) {
    const script = SYNTHETIC_TABLES.map(
      (t) => `sqlite-utils insert '${join(dir, "ref.db")}' '${t}' '${join(dir, "ndjson", `${t}.ndjson`)}' --nl`,
    ).join(" && ");
    add("SQLite", "sqlite-utils insert --nl", await timed(["sh", "-c", script]));
  } else console.error("sqlite-utils not installed (apt-get install sqlite-utils): its row is missing");

  // PostgreSQL: two runs each in mirrored order (airbackup, \copy, \copy, airbackup), each into a fresh
  // schema, the faster of each pair reported: the first load into a new cluster pays for its warm-up.
  const ours: Timed[] = [];
  const theirs: Timed[] = [];
  const exportInto = async (schema: string) =>
    ours.push(await timed([...CLI, "export", archive, "-o", pg.url, "--schema", schema]));
  const copyInto = async (schema: string) => {
    await pg.psql(
      `CREATE SCHEMA ${schema}; ${SYNTHETIC_TABLES.map((t) => `CREATE TABLE ${schema}."${t}" (LIKE bench1."${t}" INCLUDING ALL)`).join("; ")}`,
    );
    const copy = SYNTHETIC_TABLES.map(
      (t) => `\\copy ${schema}."${t}" FROM '${join(dir, "csv", `${t}.csv`)}' CSV HEADER`,
    );
    theirs.push(await timed(pg.psqlCommand(copy)));
  };
  await exportInto("bench1");
  await copyInto("ref1");
  await copyInto("ref2");
  await exportInto("bench2");
  add("PostgreSQL", "airbackup export", fastest(ours));
  add("PostgreSQL", "psql \\copy (CSV)", fastest(theirs));
  const other = (runs: Timed[]) => runs.map((r) => fmt(records / r.seconds, 0)).join(" and ");
  console.log(`PostgreSQL, both runs (records/s): airbackup ${other(ours)}; psql \\copy ${other(theirs)}`);

  printTable(
    ["target", "tool", "records/s", "seconds", "peak RSS MB"],
    rows,
    `${records} records (4 tables); PostgreSQL: the faster of two runs each`,
  );
  const rate = (r: Timed) => records / r.seconds;
  console.log(`PostgreSQL: airbackup / psql \\copy = ${(rate(fastest(ours)) / rate(fastest(theirs))).toFixed(2)}x`);
  if (args.includes("--memory")) await memory();
} finally {
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}

async function memory(): Promise<void> {
  const archive = join(dir, "memory-appSYNTHETIC00001-20261130T030000Z.zip");
  await writeSyntheticArchive(archive, { records: 10_000, recordBytes: 8_000, files: 300, fileBytes: 1_000_000 });
  const size = Bun.file(archive).size;
  const rows: string[][] = [];
  for (const [label, target] of [
    ["SQLite --files", ["-o", join(dir, "files.db")]],
    ["PostgreSQL --files", ["-o", pg.url, "--schema", "files"]],
    ["CSV --files", ["-o", join(dir, "files-csv"), "--format", "csv"]],
  ] as const) {
    const r = await timed([...CLI, "export", archive, ...target, "--files"]);
    rows.push([label, fmt(r.seconds, 1), fmt(r.maxRss / 1e6, 0)]);
  }
  printTable(
    ["export", "seconds", "peak RSS MB"],
    rows,
    `10,000 records of ~8 KB + 300 files (archive ${fmt(size / 1e6, 0)} MB)`,
  );
  console.log(`files exported to CSV: ${readdirSync(join(dir, "files-csv", "attachments")).length}`);
}

// --- internal ---

async function must(command: string[]): Promise<void> {
  const r = await timed(command);
  if (r.code !== 0) throw new Error(`${command.join(" ")} failed`);
}

type Timed = { seconds: number; maxRss: number; code: number };

/** The faster run's time, with the highest peak RSS of all the runs. */
function fastest(runs: Timed[]): Timed {
  const best = runs.reduce((a, b) => (a.seconds <= b.seconds ? a : b));
  return { ...best, maxRss: Math.max(...runs.map((r) => r.maxRss)) };
}

/** Wall time and peak RSS (GNU time, so that the child's own pages are measured, not ours). */
async function timed(command: string[]): Promise<Timed> {
  const gnuTime = Bun.which("time", { PATH: "/usr/bin:/bin" });
  const start = performance.now();
  const proc = Bun.spawn(gnuTime ? [gnuTime, "-f", "maxrss-kb=%M", ...command] : command, {
    stdout: "ignore",
    stderr: "pipe",
  });
  const stderr = await new Response(proc.stderr).text();
  const code = await proc.exited;
  const seconds = (performance.now() - start) / 1000;
  if (code !== 0) console.error(`${command.join(" ")} exited ${code}: ${stderr}`);
  const kb = /maxrss-kb=(\d+)/.exec(stderr)?.[1];
  return { seconds, maxRss: kb ? Number(kb) * 1024 : 0, code };
}

function fmt(n: number, digits: number): string {
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function printTable(head: string[], rows: string[][], note: string): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  console.log(`\n${note}`);
  console.log(line(head));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(r));
}
