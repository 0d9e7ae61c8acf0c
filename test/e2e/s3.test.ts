// S3 end to end with the compiled binary against a real S3 server (s3rver behind a SigV4-checking front):
// upload after backup (multipart), keepLocal, --no-upload, wrong keys, Ctrl-C during an upload, and
// inspect / verify / restore reading s3:// archives.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createArchive } from "../../src/archive/archive-writer.ts";
import { S3Storage } from "../../src/storage/s3.ts";
import { collect, pseudoRandom, sha } from "../storage/conformance.ts";
import { type AirtableSim, startAirtableSim } from "../support/airtable-sim/index.ts";
import { generateBase } from "../support/airtable-sim/seeds.ts";
import { BINARY, ensureBinary, runCli } from "../support/cli.ts";
import { type S3Server, startS3Server } from "../support/s3-server.ts";

const TOKEN = "patTEST.secret";
const EMPTY = "appEMPTYEMPTYEM01";
let s3: S3Server;
let sim: AirtableSim;
const seed = generateBase({
  id: "appS3S3S3S3S3S301",
  name: "Upload Me",
  tables: 1,
  recordsPerTable: 30,
  attachments: { count: 6, bytes: 18 * 1024 * 1024 }, // > 2 parts of 8 MiB: multipart
});

beforeAll(async () => {
  [s3, sim] = await Promise.all([
    startS3Server(),
    startAirtableSim({ bases: [seed, { id: EMPTY, name: "Empty", tables: [] }] }),
  ]);
});
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  await s3?.stop();
  await sim?.stop();
});

async function setup(extra = "", secret = s3.secretAccessKey) {
  const dir = await mkdtemp(join(tmpdir(), "airbackup-e2e-s3-"));
  dirs.push(dir);
  const out = join(dir, "out");
  const config = join(dir, "airbackup.yaml");
  await writeFile(
    config,
    `bases:\n  - id: ${seed.id}\noutput:\n  dir: ${out}\n${extra}s3:\n  endpoint: ${s3.endpoint}\n  region: ${s3.region}\n  bucket: ${s3.bucket}\n  prefix: nightly/\n  accessKeyId: \${KEY_ID}\n  secretAccessKey: \${SECRET}\n`,
  );
  const env = {
    AIRTABLE_TOKEN: TOKEN,
    AIRTABLE_API_URL: sim.url,
    AIRTABLE_CONTENT_URL: sim.contentUrl,
    KEY_ID: s3.accessKeyId,
    SECRET: secret,
  };
  return { dir, out, config, env };
}

const zips = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).sort();
const reader = () =>
  new S3Storage({
    endpoint: s3.endpoint,
    region: s3.region,
    bucket: s3.bucket,
    prefix: "nightly/",
    pathStyle: true,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
  });

describe("backup uploads to S3", () => {
  test("each verified archive goes to <prefix><name>, multipart, identical bytes; verify/inspect/restore read it back", async () => {
    const { dir, out, config, env } = await setup();
    s3.log.length = 0;
    const r = await runCli(["backup", "-c", config], { env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [name] = await zips(out);
    expect(r.stdout).toBe(`${join(out, name!)}\n`);
    const local = new Uint8Array(await Bun.file(join(out, name!)).arrayBuffer());
    expect(local.length).toBeGreaterThan(16 * 1024 * 1024);
    expect(await s3.objects()).toContainEqual({ key: `nightly/${name}`, size: local.length });
    expect(sha(await collect(await reader().read(name!)))).toBe(sha(local));
    const parts = s3.log.filter((l) => l.query.includes("partNumber="));
    expect(parts.length).toBe(3);
    expect(parts.every((p) => p.contentMd5 && p.status === 200)).toBe(true);
    expect(await s3.openUploads()).toEqual([]);

    const url = `s3://${s3.bucket}/nightly/${name}`;
    const s3env = { ...s3.env, AWS_ENDPOINT_URL_S3: s3.endpoint };
    s3.log.length = 0;
    const verify = await runCli(["verify", url], { env: s3env });
    expect(verify).toMatchObject({ code: 0, stdout: `ok  ${url}\n` });
    const read = s3.log.reduce((n, l) => n + l.bytesOut, 0);
    expect(read).toBeGreaterThanOrEqual(local.length); // every byte, once
    expect(read).toBeLessThan(local.length * 1.05);
    const inspect = await runCli(["inspect", url, "--json"], { env: s3env });
    expect(inspect.code).toBe(0);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ path: url, base: { id: seed.id }, records: 30 });
    // The download goes under $TMPDIR/airbackup-s3/<bucket>/<key>: here, inside this test's directory.
    const restore = await runCli(["restore", url, "--base", EMPTY, "--dry-run", "--json"], {
      env: { ...env, ...s3env, TMPDIR: dir },
    });
    expect(restore.stderr).not.toContain("unexpected");
    expect(restore.code).toBe(0);
    const plan = JSON.parse(restore.stdout);
    expect(plan).toMatchObject({ dryRun: true, tables: [{ action: "create", records: { archived: 30 } }] });
    expect((await stat(join(dir, "airbackup-s3", s3.bucket, "nightly", name!))).size).toBe(local.length);
  }, 120_000);

  test("keepLocal: false removes the local copy once the upload is confirmed; stdout names the s3:// URL", async () => {
    const { out, config, env } = await setup("", undefined);
    await writeFile(config, (await Bun.file(config).text()).replace("output:\n", "output:\n  keepLocal: false\n"));
    const r = await runCli(["backup", "-c", config], { env });
    expect(r.code).toBe(0);
    expect(await zips(out)).toEqual([]);
    const url = r.stdout.trim();
    expect(url).toStartWith(`s3://${s3.bucket}/nightly/upload-me-${seed.id}-`);
    expect(await reader().stat(url.split("/").at(-1)!)).toBeDefined();
  }, 120_000);

  test("virtual-hosted addressing: the binary reaches <bucket>.localhost and the front sees that host", async () => {
    const { out, config, env } = await setup("");
    const text = (await Bun.file(config).text())
      .replace(
        `endpoint: ${s3.endpoint}`,
        `endpoint: ${s3.endpoint.replace("127.0.0.1", "localhost")}\n  pathStyle: false`,
      )
      .replace("prefix: nightly/", "prefix: vhost/");
    await writeFile(config, text);
    await Bun.sleep(1000); // a new second: a new archive name
    s3.log.length = 0;
    const r = await runCli(["backup", "-c", config, "--no-attachments"], { env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [name] = await zips(out);
    expect(await s3.objects()).toContainEqual({ key: `vhost/${name}`, size: (await stat(join(out, name!))).size });
    expect(s3.log.some((l) => l.host === `${s3.bucket}.localhost:${new URL(s3.endpoint).port}`)).toBe(true);
  }, 120_000);

  test("--no-upload leaves the bucket alone", async () => {
    const { out, config, env } = await setup();
    const before = (await s3.objects()).length;
    await Bun.sleep(1000); // a new second: a new archive name
    const r = await runCli(["backup", "-c", config, "--no-upload"], { env });
    expect(r.code).toBe(0);
    expect(await zips(out)).toHaveLength(1);
    expect((await s3.objects()).length).toBe(before);
  }, 120_000);

  test("wrong keys: exit 1, one line naming the refusal (plus a hint), no secret; the local archive is kept", async () => {
    const secret = "this-Secret-must-never-be-printed-42";
    const { out, config, env } = await setup("", secret);
    const r = await runCli(["backup", "-c", config], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trim().split("\n");
    expect(lines[0]).toContain("SignatureDoesNotMatch (403)");
    expect(lines[0]).toContain("the local archive is kept");
    expect(lines.length).toBeLessThanOrEqual(2);
    expect(lines[1] ?? "").toContain("hint:");
    expect(r.stderr).not.toContain(secret);
    expect(r.stderr).not.toContain(s3.accessKeyId);
    expect(await zips(out)).toHaveLength(1);
  }, 120_000);

  test("a part that fails once (500 on part 2's first attempt) is sent again: exit 0, the object intact", async () => {
    const { out, config, env } = await setup();
    await Bun.sleep(1000); // a new second: a new archive name
    s3.log.length = 0;
    s3.faults.failPart = { number: 2, times: 1 };
    try {
      const r = await runCli(["backup", "-c", config], { env });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    } finally {
      s3.faults.failPart = undefined;
    }
    const [name] = await zips(out);
    const local = new Uint8Array(await Bun.file(join(out, name!)).arrayBuffer());
    const part2 = s3.log.filter((l) => l.method === "PUT" && /[?&]partNumber=2(&|$)/.test(l.query));
    expect(part2.map((l) => l.status)).toEqual([500, 200]);
    expect(sha(await collect(await reader().read(name!)))).toBe(sha(local));
    expect(await s3.openUploads()).toEqual([]);
  }, 120_000);

  test("a part that keeps failing: exit 1, the local archive kept, no object, no multipart upload left", async () => {
    const { out, config, env } = await setup();
    await Bun.sleep(1000); // a new second: a new archive name
    const before = await s3.objects();
    s3.log.length = 0;
    s3.faults.failPart = { number: 2, times: 1000 };
    let r: Awaited<ReturnType<typeof runCli>>;
    try {
      r = await runCli(["backup", "-c", config], { env });
    } finally {
      s3.faults.failPart = undefined;
    }
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trim().split("\n");
    expect(lines[0]).toContain("InternalError (500)");
    expect(lines[0]).toContain("the local archive is kept");
    expect(r.stderr).not.toContain(s3.secretAccessKey);
    expect(s3.log.filter((l) => /[?&]partNumber=2(&|$)/.test(l.query)).length).toBeGreaterThan(1); // retried first
    const [name] = await zips(out);
    expect((await stat(join(out, name!))).size).toBeGreaterThan(16 * 1024 * 1024);
    expect(await s3.objects()).toEqual(before);
    // ListMultipartUploads, asked the way any client would: nothing open.
    const listing = await (await reader().client.request("GET", "", { query: { uploads: "" } })).text();
    expect(listing).toContain("<ListMultipartUploadsResult>");
    expect(listing).not.toContain("<Upload>");
  }, 120_000);

  test("Ctrl-C during the upload: exit 130, no object, no open multipart upload", async () => {
    await ensureBinary();
    const { config, env } = await setup();
    const before = await s3.objects();
    s3.log.length = 0;
    s3.faults.partDelayMs = 3000;
    try {
      const proc = Bun.spawn([BINARY, "backup", "-c", config], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmpdir(), NO_COLOR: "1", ...env },
        stdout: "pipe",
        stderr: "pipe",
      });
      const deadline = Date.now() + 60_000;
      while (!s3.log.some((l) => l.query.includes("partNumber=")) && Date.now() < deadline) await Bun.sleep(20);
      expect(await s3.openUploads()).toHaveLength(1); // a multipart upload is open, its parts in flight
      proc.kill("SIGINT");
      expect(await proc.exited).toBe(130);
      expect(await new Response(proc.stdout).text()).toBe("");
    } finally {
      s3.faults.partDelayMs = 0;
    }
    await Bun.sleep(3500); // let parts the front was still holding arrive, as a slow store's would
    expect(await s3.openUploads()).toEqual([]);
    expect(s3.log.some((l) => l.method === "DELETE" && l.query.includes("uploadId=") && l.status === 204)).toBe(true);
    expect(await s3.objects()).toEqual(before);
  }, 120_000);
});

describe("inspect of an s3:// archive reads only its tail and manifest", () => {
  test("a 24 MB archive costs a few KB of transfer, in a few Range requests", async () => {
    const dir = await mkdtemp(join(tmpdir(), "airbackup-e2e-s3-"));
    dirs.push(dir);
    const archive = await createArchive(join(dir, "big-appBIGBIGBIGBIGBI01-20260101T000000Z.zip"), {
      tool: { name: "airbackup", version: "0.1.0" },
      base: { id: "appBIGBIGBIGBIGBI01", name: "Big" },
      startedAt: new Date("2026-01-01T00:00:00Z"),
    });
    await archive.writeSchema({ tables: [{ id: "tblA", name: "Contacts", fields: [] }] });
    await archive.writeTable(
      { id: "tblA", name: "Contacts" },
      (async function* () {
        for (let page = 0; page < 20; page++)
          yield Array.from({ length: 100 }, (_, i) => ({
            id: `rec${page}x${i}`,
            createdTime: "2026-01-01T00:00:00.000Z",
            fields: { Name: `n${i}` },
          }));
      })(),
    );
    for (let i = 0; i < 300; i++) {
      const bytes = pseudoRandom(80_000, i + 1);
      await archive.addAttachment(sha(bytes), bytes);
    }
    const path = await archive.finish({ warnings: [], finishedAt: new Date("2026-01-01T00:01:00Z") });
    const size = (await stat(path)).size;
    expect(size).toBeGreaterThan(24_000_000);
    const name = path.split("/").at(-1)!;
    await reader().write(name, Bun.file(path).stream(), { size });

    s3.log.length = 0;
    const r = await runCli(["inspect", `s3://${s3.bucket}/nightly/${name}`], { env: s3.env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("2000 records");
    const bytes = s3.log.reduce((n, l) => n + l.bytesOut, 0);
    console.log(`inspect s3:// of a ${size}-byte archive: ${bytes} bytes in ${s3.log.length} requests`);
    expect(bytes).toBeLessThan(256 * 1024);
    expect(s3.log.every((l) => l.method === "HEAD" || l.range)).toBe(true);
  }, 60_000);
});
