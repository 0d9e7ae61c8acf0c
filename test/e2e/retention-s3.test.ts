// `list`, `prune` and `backup --prune` over both places, the output directory and an S3 bucket: the
// compiled binary against a real S3 server (s3rver behind a SigV4-checking front).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createArchive } from "../../src/archive/archive-writer.ts";
import { archiveName } from "../../src/storage/archive-names.ts";
import { S3Storage } from "../../src/storage/s3.ts";
import { type AirtableSim, startAirtableSim } from "../support/airtable-sim/index.ts";
import { generateBase } from "../support/airtable-sim/seeds.ts";
import { runCli } from "../support/cli.ts";
import { type S3Server, startS3Server } from "../support/s3-server.ts";

const TOKEN = "patTEST.secret";
const A = "appAAAAAAAAAAAAAA";
const seed = generateBase({ id: "appPRUNES3PRUNE01", name: "Both Places", tables: 1, recordsPerTable: 5 });
let s3: S3Server;
let sim: AirtableSim;
let prefixes = 0;

beforeAll(async () => {
  [s3, sim] = await Promise.all([startS3Server(), startAirtableSim({ bases: [seed] })]);
});
afterAll(async () => {
  await s3?.stop();
  await sim?.stop();
});

/** A fresh output directory and bucket prefix, and a config naming both with `keep`. */
async function setup(keep: string) {
  const dir = await mkdtemp(join(tmpdir(), "airbackup-e2e-prune-s3-"));
  const out = join(dir, "out");
  await mkdir(out);
  const prefix = `p${++prefixes}/`;
  const config = join(dir, "airbackup.yaml");
  await writeFile(
    config,
    `output:\n  dir: ${out}\n  keep: ${keep}\ns3:\n  endpoint: ${s3.endpoint}\n  region: ${s3.region}\n  bucket: ${s3.bucket}\n  prefix: ${prefix}\n  pathStyle: true\n`,
  );
  const bucket = new S3Storage({
    endpoint: s3.endpoint,
    region: s3.region,
    bucket: s3.bucket,
    prefix,
    pathStyle: true,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
  });
  const env = { ...s3.env, AIRTABLE_TOKEN: TOKEN, AIRTABLE_API_URL: sim.url, AIRTABLE_CONTENT_URL: sim.contentUrl };
  return { out, prefix, config, bucket, env };
}

/** An intact archive of `baseId` at `iso`, in the directory and/or the bucket; returns its name. */
async function archiveAt(
  where: { out: string; bucket: S3Storage },
  places: ("local" | "s3")[],
  baseId: string,
  iso: string,
): Promise<string> {
  const at = new Date(iso);
  const name = archiveName("CRM", baseId, at);
  const path = join(where.out, name);
  const writer = await createArchive(path, {
    tool: { name: "airbackup", version: "test" },
    base: { id: baseId, name: "CRM" },
    startedAt: at,
  });
  await writer.writeSchema({ tables: [] });
  await writer.finish({ warnings: [], finishedAt: at });
  if (places.includes("s3")) await where.bucket.write(name, Bun.file(path).stream());
  if (!places.includes("local")) await Bun.file(path).delete();
  return name;
}

async function inBucket(bucket: S3Storage): Promise<string[]> {
  const names: string[] = [];
  for await (const o of bucket.list()) names.push(o.name);
  return names.sort();
}

const rows = (stdout: string) =>
  stdout
    .trim()
    .split("\n")
    .map((line) => line.split(/ {2,}/));

describe("list and prune over the directory and the bucket", () => {
  test("list: newest first, where is local, s3 or local+s3; a place on the command line lists only it", async () => {
    const ctx = await setup("{ last: 1 }");
    const both = await archiveAt(ctx, ["local", "s3"], A, "2026-11-03T03:00:00Z");
    const s3Only = await archiveAt(ctx, ["s3"], A, "2026-11-02T03:00:00Z");
    const localOnly = await archiveAt(ctx, ["local"], A, "2026-11-01T03:00:00Z");
    await ctx.bucket.write("notes.txt", new Response("not an archive").body!);

    const r = await runCli(["list", "-c", ctx.config], { env: ctx.env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(rows(r.stdout).map((row) => [row[4], row[5]])).toEqual([
      ["local+s3", both],
      ["s3", s3Only],
      ["local", localOnly],
    ]);
    const json = JSON.parse((await runCli(["list", "-c", ctx.config, "--json"], { env: ctx.env })).stdout);
    expect(json[0].places.map((p: any) => p.label)).toEqual([ctx.out, `s3://${s3.bucket}/${ctx.prefix}`]);

    const only = await runCli(["list", `s3://${s3.bucket}/${ctx.prefix}`], { env: s3.env });
    expect(only.code).toBe(0);
    expect(rows(only.stdout).map((row) => [row[4], row[5]])).toEqual([
      ["s3", both],
      ["s3", s3Only],
    ]);
  });

  test("prune applies the policy in each place on its own; foreign objects and fresh leftovers stay", async () => {
    const ctx = await setup("{ last: 2 }");
    const names: string[] = [];
    for (let day = 1; day <= 4; day++)
      names.push(await archiveAt(ctx, ["local", "s3"], A, `2026-11-0${day}T03:00:00Z`));
    const s3Extra = await archiveAt(ctx, ["s3"], A, "2026-11-05T03:00:00Z"); // the bucket's newest
    await ctx.bucket.write("notes.txt", new Response("mine").body!);
    await ctx.bucket.write(`${names[3]}.partial`, new Response("fresh").body!);

    const dry = await runCli(["prune", "-c", ctx.config, "--dry-run"], { env: ctx.env });
    expect(dry.stderr).toBe("");
    expect(dry.code).toBe(0);
    expect(rows(dry.stdout)).toEqual([
      ["keep", "local", names[3]!, "last 1/2, newest intact archive"],
      ["keep", "local", names[2]!, "last 2/2"],
      ["would remove", "local", names[1]!],
      ["would remove", "local", names[0]!],
      ["keep", "s3", s3Extra, "last 1/2, newest intact archive"],
      ["keep", "s3", names[3]!, "last 2/2"],
      ["would remove", "s3", names[2]!],
      ["would remove", "s3", names[1]!],
      ["would remove", "s3", names[0]!],
    ]);
    expect(await inBucket(ctx.bucket)).toHaveLength(7);

    const real = await runCli(["prune", "-c", ctx.config], { env: ctx.env });
    expect(real.code).toBe(0);
    expect((await readdir(ctx.out)).sort()).toEqual([names[2]!, names[3]!]);
    expect(await inBucket(ctx.bucket)).toEqual([s3Extra, names[3]!, `${names[3]}.partial`, "notes.txt"].sort());
  });

  test("a bucket that refuses the keys: the directory is still listed and pruned; one line, exit 1", async () => {
    const ctx = await setup("{ last: 1 }");
    const names = [
      await archiveAt(ctx, ["local", "s3"], A, "2026-11-01T03:00:00Z"),
      await archiveAt(ctx, ["local", "s3"], A, "2026-11-02T03:00:00Z"),
    ];
    const env = { ...ctx.env, AWS_SECRET_ACCESS_KEY: "wrong-secret" };
    const list = await runCli(["list", "-c", ctx.config], { env });
    expect(list.code).toBe(1);
    expect(rows(list.stdout).map((row) => [row[4], row[5]])).toEqual([
      ["local", names[1]],
      ["local", names[0]],
    ]);
    expect(list.stderr).toStartWith(`airbackup: cannot list s3://${s3.bucket}/${ctx.prefix}: `);
    expect(list.stderr).not.toContain("wrong-secret");

    const prune = await runCli(["prune", "-c", ctx.config], { env });
    expect(prune.code).toBe(1);
    expect(prune.stderr).toStartWith(`airbackup: cannot prune s3://${s3.bucket}/${ctx.prefix}: `);
    expect(await readdir(ctx.out)).toEqual([names[1]!]);
    expect(await inBucket(ctx.bucket)).toEqual(names.sort());
  });

  test("backup --prune uploads, then prunes the base in both places", async () => {
    const ctx = await setup("{ last: 2 }");
    const old = [
      await archiveAt(ctx, ["local", "s3"], seed.id, "2026-11-01T03:00:00Z"),
      await archiveAt(ctx, ["local", "s3"], seed.id, "2026-11-02T03:00:00Z"),
    ];
    const r = await runCli(["backup", "-c", ctx.config, "--prune"], { env: ctx.env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const made = r.stdout.trim().slice(ctx.out.length + 1);
    expect((await readdir(ctx.out)).sort()).toEqual([old[1]!, made].sort());
    expect(await inBucket(ctx.bucket)).toEqual([old[1]!, made].sort());
  });

  test("backup --prune after a failed upload prunes nothing, in either place", async () => {
    const ctx = await setup("{ last: 1 }");
    const old = await archiveAt(ctx, ["local", "s3"], seed.id, "2026-11-01T03:00:00Z");
    // The test before backed up the same base: its requests leave the simulator's 1-second window (5/s per
    // base counts every process), or this backup's last schema read may draw a 429 and wait 30 s.
    await Bun.sleep(1100);
    const r = await runCli(["backup", "-c", ctx.config, "--prune"], {
      env: { ...ctx.env, AWS_SECRET_ACCESS_KEY: "wrong-secret" },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain("wrong-secret");
    const local = (await readdir(ctx.out)).sort();
    expect(local).toHaveLength(2); // the new archive is kept locally, the old one too
    expect(local).toContain(old);
    expect(await inBucket(ctx.bucket)).toEqual([old]);
  });
});
