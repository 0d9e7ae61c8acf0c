// Restore benchmark: a 4-table base of 6,000 records, linked in a cycle (each record to one in the next
// table), with 60 attachments (12 MB), in the simulator with Airtable-like latency (writes 600 ms, reads
// 150 ms) and real limits (5 requests/s per base, 30 s penalty); backed up, then restored with the
// compiled binary. Figures: requests against the minimum (one create per 10 records, plus the schema
// calls made), and wall time against that minimum's ceiling at 5 requests/s.
// Files go by presigned URL inside the creates, staged in a local S3 server (s3rver behind a SigV4 check);
// --no-s3: through the upload endpoint instead (one request per file), as without `s3:` configured.
// Run: bun bench/restore.ts [--quick] [--no-s3] [--timeline] [--write-latency MS] [--read-latency MS]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateBase } from "../test/support/airtable-sim/generate-base.ts";
import { type SimTableState, startAirtableSim } from "../test/support/airtable-sim/index.ts";
import { runCli } from "../test/support/cli.ts";

const TARGET = "appBENCHTARGET001";
const SCHEMA_ROUTES = ["getSchema", "createTable", "createField", "updateField", "createBase"];
// --quick: a small base without latency or limits, to check completeness fast (its timing means nothing).
const quick = process.argv.includes("--quick");
const useS3 = !process.argv.includes("--no-s3");
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const recordsPerTable = quick ? 150 : 1500;
const seed = generateBase({
  id: "appBENCHSOURCE001",
  name: "Bench",
  tables: 4,
  recordsPerTable,
  attachments: { count: 60, bytes: 12 * 1024 * 1024 },
  seed: 7,
});
await using sim = await startAirtableSim({
  bases: [seed, { id: TARGET, name: "Target", tables: [] }],
  ...(quick
    ? { perBaseRps: 1000, perUserRps: 1000 }
    : { latencyMs: arg("--read-latency", 150), writeLatencyMs: arg("--write-latency", 600) }),
});
// The S3 server runs in a child process: its work would otherwise stall this process's event loop, where
// the simulator stamps each request's arrival for its rate limit (a stall bunches arrivals: false 429s).
const s3 = useS3 ? await startS3Child() : undefined;
const dir = await mkdtemp(join(tmpdir(), "airbackup-bench-restore-"));
try {
  const env = {
    AIRTABLE_TOKEN: "patTEST.secret",
    AIRTABLE_API_URL: sim.url,
    AIRTABLE_CONTENT_URL: sim.contentUrl,
    ...(s3 ? { KEY_ID: s3.accessKeyId, SECRET: s3.secretAccessKey } : {}),
  };
  const config = join(dir, "airbackup.yaml");
  await Bun.write(
    config,
    s3
      ? `s3:\n  endpoint: ${s3.endpoint}\n  region: ${s3.region}\n  bucket: ${s3.bucket}\n  prefix: bench/\n  pathStyle: true\n  accessKeyId: \${KEY_ID}\n  secretAccessKey: \${SECRET}\n`
      : "comments: false\n",
  );
  const backup = await runCli(["backup", "-o", dir, "--base", seed.id, "--no-upload"], { env });
  if (backup.code !== 0) throw new Error(`backup failed (${backup.code}): ${backup.stderr}`);
  const archive = backup.stdout.trim();
  await Bun.sleep(1500); // let the backup's requests leave the simulator's 1-second window
  const before = { ...sim.counters.requests };
  const totalBefore = sim.counters.total;
  const limitedBefore = sim.counters.rateLimited;
  const started = performance.now();
  // Milestones of the run as they appear on stderr (--verbose), with their time.
  const milestones: string[] = [];
  let seen = 0;
  const restore = await runCli(["restore", archive, "-c", config, "--base", TARGET, "--json", "--verbose"], {
    env,
    interrupt: {
      signal: "SIGTERM",
      when: (stderr) => {
        const lines = stderr.split("\n");
        for (const line of lines.slice(seen, -1))
          if (/staged|creating table|: (1|750|1500)\/1500 records|reading the table back|retrying/.test(line))
            milestones.push(`${((performance.now() - started) / 1000).toFixed(1)} s  ${line.slice(0, 100)}`);
        seen = Math.max(seen, lines.length - 1);
        return false;
      },
    },
  });
  const seconds = (performance.now() - started) / 1000;
  if (restore.code !== 0 && restore.code !== 3) throw new Error(`restore failed (${restore.code}): ${restore.stderr}`);
  const byRoute = Object.fromEntries(
    Object.entries(sim.counters.requests)
      .map(([k, n]) => [k, n - (before[k] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );
  const requests = sim.counters.total - totalBefore;
  const schema = SCHEMA_ROUTES.reduce((n, r) => n + (byRoute[r] ?? 0), 0);
  const minimum = 4 * Math.ceil(recordsPerTable / 10) + schema;
  const ceiling = minimum / 5;
  const records = sim.base(TARGET).tables.reduce((n, t) => n + t.records.length, 0);
  console.log(
    `restored ${records} records in ${seconds.toFixed(1)} s, ${sim.counters.rateLimited - limitedBefore} answered 429`,
  );
  console.log(`requests by route: ${JSON.stringify(byRoute)}`);
  console.log(
    `requests ${requests} / minimum ${minimum} (${4 * Math.ceil(recordsPerTable / 10)} creates + ${schema} schema) = ${(requests / minimum).toFixed(2)}`,
  );
  console.log(
    `wall ${seconds.toFixed(1)} s / ceiling ${ceiling.toFixed(1)} s (minimum at 5/s) = ${(seconds / ceiling).toFixed(2)}`,
  );
  console.log(completeness(sim.base(seed.id).tables, sim.base(TARGET).tables));
  if (process.argv.includes("--timeline")) for (const m of milestones) console.log(`  ${m}`);
  if (restore.stdout.trim()) console.log(`report: ${JSON.stringify(JSON.parse(restore.stdout).requests)}`);
} finally {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
}

/** startS3Server() in a child process; its settings come back on its first stdout line. */
async function startS3Child() {
  const script = `import { startS3Server } from ${JSON.stringify(`${import.meta.dir}/../test/support/s3-server.ts`)};
const s3 = await startS3Server();
console.log(JSON.stringify({ endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }));
process.on("SIGTERM", async () => { await s3.stop(); process.exit(0); });`;
  const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the S3 server did not start");
    text += new TextDecoder().decode(value);
  }
  const settings = JSON.parse(text.split("\n")[0]!) as {
    endpoint: string;
    region: string;
    bucket: string;
    accessKeyId: string;
    secretAccessKey: string;
  };
  return {
    ...settings,
    stop: async () => {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
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
  return `completeness: links ${linksBack}/${links}, attachments ${filesBack}/${files}`;
}
