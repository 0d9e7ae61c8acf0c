// End to end: `airbackup export s3://bucket/key -o file.db` reads the archive from S3-compatible storage
// (s3rver behind a SigV4 check) with Range requests, and the sqlite3 shell finds every table's records.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../support/cli.ts";
import { type S3Server, startS3Server } from "../support/s3-server.ts";
import { skipWithout } from "../support/tools.ts";

const GOLDEN = join(import.meta.dir, "../fixtures/archives/format1-sample-crm.zip");
const skip = skipWithout("sqlite3");
let s3: S3Server;
let dir: string;

beforeAll(async () => {
  s3 = await startS3Server();
  dir = await mkdtemp(join(tmpdir(), "airbackup-export-s3-"));
});

afterAll(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(skip)("airbackup export s3://...", () => {
  test("exports an archive stored in S3, read with Range requests only", async () => {
    const client = new Bun.S3Client({
      endpoint: s3.endpoint,
      region: s3.region,
      bucket: s3.bucket,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    });
    const key = "nightly/sample-crm-appbVKSFaR5u2JTMt-20261127T040838Z.zip";
    await client.write(key, Bun.file(GOLDEN));
    s3.log.length = 0;
    const db = join(dir, "from-s3.db");
    const run = await runCli(["export", `s3://${s3.bucket}/${key}`, "-o", db], { env: s3.env });
    expect(run.stderr).toContain("exported Sample CRM");
    expect(run.code).toBe(0);
    expect(s3.log.every((l) => l.method === "HEAD" || l.range)).toBe(true);
    const proc = Bun.spawnSync([
      "sqlite3",
      db,
      "SELECT \"table\", rows FROM _tables WHERE kind = 'records' ORDER BY 1",
    ]);
    expect(proc.stdout.toString()).toBe("Companies|5\nContacts|8\nDeals|6\nTasks|8\n");
    const archive = Bun.spawnSync(["sqlite3", db, "SELECT archive FROM _meta"]).stdout.toString();
    expect(archive).toBe("sample-crm-appbVKSFaR5u2JTMt-20261127T040838Z.zip\n");

    const missing = await runCli(["export", `s3://${s3.bucket}/nightly/nope.zip`, "-o", join(dir, "x.db")], {
      env: s3.env,
    });
    expect(missing.code).toBe(1);
    expect(missing.stdout + missing.stderr).not.toContain(s3.secretAccessKey);
  }, 60_000);
});
