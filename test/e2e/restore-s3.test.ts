// Files by presigned URL inside the creates, end to end with the compiled binary, the Airtable simulator
// and a real S3 server (s3rver behind a SigV4-checking front): `restore s3://...` with `s3:` configured
// stages each distinct file once under <prefix>restore-staging/, sends its cells as {url, filename} in the
// record's create (no upload request), the simulator fetches each URL through the front, and the files
// come back byte for byte (1 KB, 4 MB and 20 MB, over the upload endpoint's 5 MB); the staged objects
// are deleted once read back. A presigned URL that has expired when Airtable fetches it is reported, and
// its staged object kept. Staging that fails (S3 refuses the key) fails the restore without creating a
// record that needs a file; the run after it resumes with no duplicate.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { noiseBytes } from "../support/airtable-sim/assets.ts";
import { generateBase } from "../support/airtable-sim/generate-base.ts";
import { type AirtableSim, type SimBaseSeed, startAirtableSim } from "../support/airtable-sim/index.ts";
import { runCli } from "../support/cli.ts";
import { type S3Server, startS3Server } from "../support/s3-server.ts";

const TARGETS = ["appS3RESTORETGT01", "appS3RESTORETGT02", "appS3RESTORETGT03"];
const FILES = [
  { filename: "one-kb.txt", type: "text/plain", size: 1024 },
  { filename: "four-mb.bin", type: "application/octet-stream", size: 4 << 20 },
  { filename: "twenty-mb.bin", type: "application/octet-stream", size: 20 << 20 },
];
let s3: S3Server;
let sim: AirtableSim;
let dir: string;
let config: string;
let env: Record<string, string>;
let url: string;
let seed: SimBaseSeed;

beforeAll(async () => {
  seed = generateBase({ id: "appS3RESTORESRC01", name: "Files", tables: 3, recordsPerTable: 12, seed: 5 });
  FILES.forEach((f, i) => {
    const data = noiseBytes(10 + i, f.size);
    seed.tables[i]!.records[1]!.fields.Files = [{ filename: f.filename, type: f.type, data: () => data, size: f.size }];
  });
  // The same 1 KB file in a second cell: staged once.
  seed.tables[1]!.records[5]!.fields.Files = [seed.tables[0]!.records[1]!.fields.Files as never][0];
  [s3, sim] = await Promise.all([
    startS3Server(),
    startAirtableSim({ bases: [seed, ...TARGETS.map((id) => ({ id, name: "Target", tables: [] }))] }),
  ]);
  dir = await mkdtemp(join(tmpdir(), "airbackup-restore-s3-"));
  config = join(dir, "airbackup.yaml");
  await writeFile(
    config,
    `output:\n  dir: ${join(dir, "out")}\ns3:\n  endpoint: ${s3.endpoint}\n  region: ${s3.region}\n  bucket: ${s3.bucket}\n  prefix: nightly/\n  pathStyle: true\n  accessKeyId: \${KEY_ID}\n  secretAccessKey: \${SECRET}\n`,
  );
  env = {
    AIRTABLE_TOKEN: "patTEST.secret",
    AIRTABLE_API_URL: sim.url,
    AIRTABLE_CONTENT_URL: sim.contentUrl,
    KEY_ID: s3.accessKeyId,
    SECRET: s3.secretAccessKey,
  };
  const backup = await runCli(["backup", "-c", config, "--base", seed.id], { env });
  expect(backup.code).toBe(0);
  url = `s3://${s3.bucket}/nightly/${backup.stdout.trim().split("/").at(-1)}`;
}, 180_000);

afterAll(async () => {
  await Promise.all([s3?.stop(), sim?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

test("restore s3://...: files of any size by presigned URL in the creates, bytes equal, staged copies removed", async () => {
  const uploads = sim.counters.requests.uploadAttachment ?? 0;
  const run = await runCli(["restore", url, "-c", config, "--base", TARGETS[0]!, "--json"], { env });
  expect(run.stderr).not.toContain("unexpected error");
  expect(run.code).toBe(0);
  expect(sim.counters.requests.uploadAttachment ?? 0).toBe(uploads); // no request per file
  const staged = s3.log.filter((l) => l.method === "PUT" && l.path.includes("/nightly/restore-staging/"));
  expect(new Set(staged.map((l) => l.path)).size).toBe(3); // each distinct file once (the 20 MB one in parts)
  for (const [i, f] of FILES.entries()) {
    const table = sim.base(TARGETS[0]!).tables.find((t) => t.name === seed.tables[i]!.name)!;
    const record = table.records.find((r) => r.fields.Name === seed.tables[i]!.records[1]!.fields.Name)!;
    const [file] = record.fields.Files as { filename: string; size: number; url: string }[];
    expect([file!.filename, file!.size]).toEqual([f.filename, f.size]);
    const bytes = new Uint8Array(await (await fetch(file!.url)).arrayBuffer());
    expect(Bun.hash(bytes)).toBe(Bun.hash(noiseBytes(10 + i, f.size)));
  }
  const copy = sim
    .base(TARGETS[0]!)
    .tables[1]!.records.find((r) => r.fields.Name === seed.tables[1]!.records[5]!.fields.Name)!;
  expect((copy.fields.Files as { filename: string }[]).map((f) => f.filename)).toEqual(["one-kb.txt"]);
  expect((await s3.objects()).filter((o) => o.key.includes("restore-staging/"))).toEqual([]);
  const report = JSON.parse(run.stdout);
  expect(
    report.tables.reduce((n: number, t: { attachments: { uploaded: number } }) => n + t.attachments.uploaded, 0),
  ).toBe(4);
}, 180_000);

test("a presigned URL expired before Airtable fetches it: reported (exit 3), the staged object kept", async () => {
  s3.faults.presignedAgeMs = 7 * 3600_000; // the URLs are judged as if fetched 7 hours later
  try {
    const run = await runCli(["restore", url, "-c", config, "--base", TARGETS[1]!, "--json"], { env });
    expect(run.stderr).not.toContain("unexpected error");
    expect(run.code).toBe(3);
    const report = JSON.parse(run.stdout);
    const skipped = report.tables.flatMap(
      (t: { attachments: { skipped: { reason: string }[] } }) => t.attachments.skipped,
    );
    expect(skipped).toHaveLength(4);
    for (const s of skipped) expect(s.reason).toContain("did not fetch the file from its presigned URL");
    expect(run.stderr).toContain("restore-staging/");
    expect((await s3.objects()).filter((o) => o.key.includes("restore-staging/"))).toHaveLength(3);
    const rejected = s3.log.filter(
      (l) => l.path.includes("restore-staging/") && l.method === "GET" && l.status === 403,
    );
    expect(rejected.length).toBeGreaterThanOrEqual(3);
  } finally {
    s3.faults.presignedAgeMs = 0;
  }
}, 180_000);

test("staging refused by S3: exit 1 naming the bucket, no secret printed; the next run resumes with no duplicate", async () => {
  const archive = join(dir, "out", url.split("/").at(-1)!);
  const wrong = "wrong-secret-0123456789";
  const failed = await runCli(["restore", archive, "-c", config, "--base", TARGETS[2]!], {
    env: { ...env, SECRET: wrong },
  });
  expect(failed.code).toBe(1);
  expect(failed.stderr).toContain(`s3://${s3.bucket}/nightly/restore-staging/`);
  expect(failed.stderr).not.toContain(wrong);
  expect(failed.stderr).not.toContain("unexpected error");
  const holdsFile = (name: string) => FILES.some((_, i) => seed.tables[i]!.records[1]!.fields.Name === name);
  const records = () => sim.base(TARGETS[2]!).tables.flatMap((t) => t.records);
  expect(records().filter((r) => holdsFile(r.fields.Name as string))).toEqual([]);

  // A new process cannot know the last one's sends: let them leave the base's 1-second window first.
  await Bun.sleep(1100);
  const resumed = await runCli(["restore", archive, "-c", config, "--base", TARGETS[2]!], { env });
  expect(resumed.stderr).not.toContain("unexpected error");
  expect(resumed.code).toBe(0);
  const names = records().map((r) => r.fields.Name);
  expect(names).toHaveLength(seed.tables.reduce((n, t) => n + t.records.length, 0));
  expect(new Set(names).size).toBe(names.length);
  for (const [i, f] of FILES.entries()) {
    const record = records().find((r) => r.fields.Name === seed.tables[i]!.records[1]!.fields.Name)!;
    expect((record.fields.Files as { size: number }[]).map((x) => x.size)).toEqual([f.size]);
  }
}, 180_000);
