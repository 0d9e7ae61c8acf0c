// `airbackup backup` at scale, end to end with the compiled binary: many bases at once within the token's
// budget, and files reused from the previous archive instead of downloaded again.
import { describe, expect, test } from "bun:test";
import { mkdtemp, open, readdir, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openZip } from "../../src/archive/zip-reader.ts";
import { type AirtableSim, startAirtableSim } from "../support/airtable-sim/index.ts";
import { generateBase } from "../support/airtable-sim/seeds.ts";
import { readArchive } from "../support/archive-contents.ts";
import { runCli } from "../support/cli.ts";
import { startS3Server } from "../support/s3-server.ts";
import { sha256Hex } from "../support/zip-oracles.ts";

const TOKEN = "patTEST.secret";
const USER = "usrTEST00000000001";

function envFor(sim: AirtableSim): Record<string, string> {
  return { AIRTABLE_TOKEN: TOKEN, AIRTABLE_API_URL: sim.url, AIRTABLE_CONTENT_URL: sim.contentUrl };
}

/** Records and files of an archive without what differs between two reads of the same data (signed URLs). */
async function contentOf(path: string) {
  const archive = await readArchive(path);
  const strip = (value: unknown) =>
    JSON.parse(JSON.stringify(value), (key, v) => (key === "url" || key === "thumbnails" ? undefined : v));
  return {
    tables: strip([...archive.tables].sort(([a], [b]) => a.localeCompare(b))),
    index: [...archive.index].sort((a, b) => a.id.localeCompare(b.id)),
    files: [...archive.files].map(([sha, bytes]) => [sha, sha256Hex(bytes)]).sort(([a], [b]) => a!.localeCompare(b!)),
    manifest: archive.manifest,
  };
}

/** Flips one byte in the middle of a stored entry's data (its CRC-32 no longer matches). */
async function damageEntry(archivePath: string, entryName: string): Promise<void> {
  let dataStart: number;
  let size: number;
  {
    await using zip = await openZip(archivePath);
    const entry = zip.entry(entryName)!;
    const file = await open(archivePath, "r");
    const header = Buffer.alloc(30);
    await file.read(header, 0, 30, entry.localHeaderOffset);
    await file.close();
    dataStart = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    size = entry.compressedSize;
  }
  const file = await open(archivePath, "r+");
  const at = dataStart + Math.floor(size / 2);
  const byte = Buffer.alloc(1);
  await file.read(byte, 0, 1, at);
  byte[0] = byte[0]! ^ 0xff;
  await file.write(byte, 0, 1, at);
  await file.close();
}

describe("many bases at once", () => {
  test("12 bases with concurrency.bases 16: no 429, at most 5/s per base and 50/s for the token; a failing 13th does not stop them", async () => {
    const seeds = Array.from({ length: 12 }, (_, i) =>
      generateBase({
        id: `appSCALE${String(i).padStart(9, "0")}`,
        name: `Scale ${i + 1}`,
        tables: 2,
        recordsPerTable: 300,
        attachments: { count: 4, bytes: 40_000 },
        seed: i + 1,
      }),
    );
    const hidden = generateBase({ id: "appHIDDENHIDDEN01", name: "Hidden", tables: 1, recordsPerTable: 5 });
    await using sim = await startAirtableSim({
      bases: [...seeds, hidden],
      penaltyMs: 30_000,
      tokens: { [TOKEN]: { userId: USER, bases: seeds.map((s) => s.id) } },
    });
    const out = await mkdtemp(join(tmpdir(), "airbackup-scale-"));
    const config = join(out, "airbackup.yaml");
    const ids = [...seeds.slice(0, 6).map((s) => s.id), hidden.id, ...seeds.slice(6).map((s) => s.id)];
    await writeFile(
      config,
      `bases:\n${ids.map((id) => `  - id: ${id}\n`).join("")}concurrency:\n  bases: 16\noutput:\n  dir: ${out}/archives\n`,
    );
    const r = await runCli(["backup", "-c", config], { env: envFor(sim) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(hidden.id);
    for (const line of r.stderr.trim().split("\n")) expect(line).toStartWith("airbackup: ");
    const paths = r.stdout.trim().split("\n");
    expect(paths).toHaveLength(12);
    expect(new Set(paths.map((p) => /-(app\w{14})-/.exec(p)?.[1]))).toEqual(new Set(seeds.map((s) => s.id)));
    expect((await readdir(join(out, "archives"))).sort()).toEqual(paths.map((p) => p.split("/").pop()!).sort());

    expect(sim.counters.rateLimited).toBe(0);
    for (const seed of seeds) expect(sim.counters.maxRatePerBase[seed.id]).toBeLessThanOrEqual(5);
    expect(sim.counters.maxRatePerUser[USER]).toBeLessThanOrEqual(50);
    // The bases really ran side by side: one base alone never goes past its 5/s.
    expect(sim.counters.maxRatePerUser[USER]).toBeGreaterThan(20);

    for (const path of paths) {
      const archive = await readArchive(path);
      const seed = seeds.find((s) => s.id === archive.manifest.base.id)!;
      expect(archive.manifest.tables.map((t: any) => t.records)).toEqual([300, 300]);
      expect(archive.index).toHaveLength(4);
      expect(archive.files.size).toBe(4);
      expect(seed).toBeDefined();
    }
    expect((await runCli(["verify", ...paths])).code).toBe(0);
  }, 60_000);
});

describe("bounded work in flight", () => {
  test("listing pauses while the download queue is full, and goes on once files are fetched", async () => {
    const seed = generateBase({
      id: "appBOUNDEDBOUND01",
      name: "Bounded",
      tables: 1,
      recordsPerTable: 2000, // 20 pages, one small file per record
      attachments: { count: 2000, bytes: 1_000_000 },
    });
    await using sim = await startAirtableSim({ bases: [seed] });
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    sim.onRequest(async ({ route }) => {
      if (route === "download") await released; // downloads hang until the test lets them go
    });
    const out = await mkdtemp(join(tmpdir(), "airbackup-bounded-"));
    const run = runCli(["backup", "-o", out], { env: envFor(sim) });
    while ((sim.counters.requests.listRecords ?? 0) < 11) await Bun.sleep(50);
    await Bun.sleep(2500); // at 5 requests/s every other page would be listed by now
    // 8 downloads in flight, a queue bound of 1,000 files: page 11 passes it, and the listing waits.
    expect(sim.counters.requests.listRecords).toBe(11);
    release();
    const r = await run;
    expect(r.code).toBe(0);
    expect(sim.counters.requests.listRecords).toBe(20);
    const archive = await readArchive(r.stdout.trim());
    expect(archive.index).toHaveLength(2000);
    expect(archive.manifest.tables[0].records).toBe(2000);
  }, 60_000);
});

describe("files reused from the previous archive", () => {
  const seed = () =>
    generateBase({
      id: "appREUSEREUSERE01",
      name: "Reuse",
      tables: 2,
      recordsPerTable: 60,
      attachments: { count: 12, bytes: 1_200_000 },
    });

  test("a second run of an unchanged base downloads 0 bytes and gives the same records and files; --full downloads them all", async () => {
    await using sim = await startAirtableSim({ bases: [seed()] });
    const out = await mkdtemp(join(tmpdir(), "airbackup-reuse-"));
    const first = await runCli(["backup", "-o", out, "--verbose"], { env: envFor(sim) });
    expect(first.code).toBe(0);
    const firstBytes = sim.counters.downloadedBytes;
    expect(firstBytes).toBe(1_200_000);
    await Bun.sleep(1000); // archive names carry the second

    const second = await runCli(["backup", "-o", out, "--verbose"], { env: envFor(sim) });
    expect(second.code).toBe(0);
    expect(sim.counters.downloadedBytes).toBe(firstBytes); // not one byte downloaded again
    expect(second.stderr).toContain("12 reused, 1.2 MB not downloaded");
    const [a, b] = [await contentOf(first.stdout.trim()), await contentOf(second.stdout.trim())];
    expect(b.tables).toEqual(a.tables);
    expect(b.index).toEqual(a.index);
    expect(b.files).toEqual(a.files);
    expect(b.manifest.attachments).toMatchObject({
      files: 12,
      bytes: 1_200_000,
      reused: { files: 12, bytes: 1_200_000 },
    });
    expect((await runCli(["verify", second.stdout.trim()])).code).toBe(0);

    // Each archive is complete on its own: the first one gone, the second still has every file.
    await truncate(first.stdout.trim(), 0);
    expect((await runCli(["verify", second.stdout.trim()])).code).toBe(0);

    await Bun.sleep(1000);
    const full = await runCli(["backup", "-o", out, "--full"], { env: envFor(sim) });
    expect(full.code).toBe(0);
    expect(sim.counters.downloadedBytes).toBe(2 * firstBytes);
    expect((await contentOf(full.stdout.trim())).manifest.attachments.reused).toEqual({ files: 0, bytes: 0 });
  }, 60_000);

  test("a changed file (a new attachment id) is downloaded; a damaged copy in the previous archive is downloaded instead", async () => {
    await using sim = await startAirtableSim({ bases: [seed()] });
    const out = await mkdtemp(join(tmpdir(), "airbackup-reuse-"));
    const first = await runCli(["backup", "-o", out], { env: envFor(sim) });
    expect(first.code).toBe(0);
    const before = await readArchive(first.stdout.trim());

    // A file replaced in Airtable gets a new attachment id: upload one through the API.
    const replacement = new TextEncoder().encode("a new version of the file ".repeat(400));
    using files = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(replacement) });
    const victim = before.index[0];
    const tableId = victim.table;
    const res = await fetch(`${sim.url}/v0/${seed().id}/${tableId}/${victim.record}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        fields: { Files: [{ url: `http://127.0.0.1:${files.port}/new.txt`, filename: "new.txt" }] },
      }),
    });
    expect(res.status).toBe(200);
    // And one stored file of the previous archive damaged on disk.
    const damaged = before.index.find((l: any) => l.record !== victim.record)!;
    await damageEntry(first.stdout.trim(), `attachments/${damaged.sha256}`);

    const downloadedBefore = sim.counters.downloadedBytes;
    const downloadsBefore = sim.counters.requests.download ?? 0;
    await Bun.sleep(1000);
    const second = await runCli(["backup", "-o", out, "--verbose"], { env: envFor(sim) });
    expect(second.code).toBe(0);
    expect(second.stderr).toContain("is damaged");
    expect((sim.counters.requests.download ?? 0) - downloadsBefore).toBe(2); // the new file and the damaged one
    expect(sim.counters.downloadedBytes - downloadedBefore).toBe(replacement.length + damaged.size);
    const after = await readArchive(second.stdout.trim());
    const newLine = after.index.find((l: any) => l.record === victim.record);
    expect(newLine.id).not.toBe(victim.id);
    expect(newLine.sha256).toBe(sha256Hex(replacement));
    expect(sha256Hex(after.files.get(damaged.sha256)!)).toBe(damaged.sha256);
    expect(after.manifest.attachments.reused.files).toBe(before.index.length - 2);
    expect((await runCli(["verify", second.stdout.trim()])).code).toBe(0);
  }, 60_000);

  test("a damaged newest archive is passed over for the newest intact one", async () => {
    await using sim = await startAirtableSim({ bases: [seed()] });
    const out = await mkdtemp(join(tmpdir(), "airbackup-reuse-"));
    const first = await runCli(["backup", "-o", out], { env: envFor(sim) });
    await Bun.sleep(1000);
    const second = await runCli(["backup", "-o", out], { env: envFor(sim) });
    expect([first.code, second.code]).toEqual([0, 0]);
    const size = (await Bun.file(second.stdout.trim()).arrayBuffer()).byteLength;
    await truncate(second.stdout.trim(), size - 100); // its central directory is gone
    const downloaded = sim.counters.downloadedBytes;
    await Bun.sleep(1000);
    const third = await runCli(["backup", "-o", out, "--verbose"], { env: envFor(sim) });
    expect(third.code).toBe(0);
    expect(third.stderr).toContain("is not intact");
    expect(sim.counters.downloadedBytes).toBe(downloaded);
    expect((await readArchive(third.stdout.trim())).manifest.attachments.reused.files).toBe(12);
  }, 60_000);

  test("with keepLocal: false the earlier archive is only in S3: its files are read from there by Range requests", async () => {
    const s3 = await startS3Server();
    try {
      await using sim = await startAirtableSim({ bases: [seed()] });
      const dir = await mkdtemp(join(tmpdir(), "airbackup-reuse-s3-"));
      const config = join(dir, "airbackup.yaml");
      await writeFile(
        config,
        `output:\n  dir: ${dir}/out\n  keepLocal: false\ns3:\n  endpoint: ${s3.endpoint}\n  region: ${s3.region}\n  bucket: ${s3.bucket}\n  prefix: nightly/\n  accessKeyId: ${s3.accessKeyId}\n  secretAccessKey: \${SECRET}\n`,
      );
      const env = { ...envFor(sim), SECRET: s3.secretAccessKey };
      const first = await runCli(["backup", "-c", config], { env });
      expect(first.code).toBe(0);
      expect(await readdir(join(dir, "out"))).toEqual([]); // the archive lives in the bucket only
      const downloaded = sim.counters.downloadedBytes;
      await Bun.sleep(1000);
      s3.log.length = 0;
      const second = await runCli(["backup", "-c", config, "--verbose"], { env });
      expect(second.code).toBe(0);
      expect(sim.counters.downloadedBytes).toBe(downloaded);
      expect(second.stderr).toContain("12 reused, 1.2 MB not downloaded");
      expect(s3.log.some((l) => l.method === "GET" && l.range)).toBe(true);
    } finally {
      await s3.stop();
    }
  }, 60_000);
});
