// Files reused from an earlier archive: copied when its bytes hash to what that archive's index says,
// downloaded when they do not (even with a CRC-32 that matches: the index's sha256 is the check).
import { describe, expect, test } from "bun:test";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAirtableClient } from "../../src/airtable/client.ts";
import { createFileSink } from "../../src/archive/file-sink.ts";
import { createZipWriter } from "../../src/archive/zip-writer.ts";
import { createAttachmentFetcher } from "../../src/backup/attachments.ts";
import { type ArchiveShelf, openPreviousArchive } from "../../src/backup/reuse.ts";
import { LocalStorage } from "../../src/storage/local.ts";
import { S3Storage } from "../../src/storage/s3.ts";
import { startS3Server } from "../support/s3-server.ts";

const BASE = "appAAAAAAAAAAAAAA";
const TRUE_BYTES = new TextEncoder().encode("the file as Airtable serves it ".repeat(100));
const TRUE_SHA = new Bun.CryptoHasher("sha256").update(TRUE_BYTES).digest("hex");
const ATTACHMENT = { id: "attAAAAAAAAAAAAAA", filename: "file.txt", size: TRUE_BYTES.length };

const NAME = `base-${BASE}-20260101T000000Z.zip`;

/** An archive whose index gives the attachment TRUE_SHA and whose stored entry holds `stored` (CRC-32 and sizes valid). */
async function archiveHolding(dir: string, stored: Uint8Array): Promise<void> {
  const sink = await createFileSink(join(dir, NAME));
  const zip = createZipWriter(sink);
  const index = `${JSON.stringify({ ...ATTACHMENT, type: "text/plain", table: "tblA", record: "recA", field: "Files", sha256: TRUE_SHA })}\n`;
  const indexEntry = await zip.addEntry("attachments.jsonl", index);
  const file = await zip.addEntry(`attachments/${TRUE_SHA}`, stored);
  const manifest = {
    format: 1,
    tool: { name: "airbackup", version: "0.0.0" },
    startedAt: "2026-01-01T00:00:00.000Z",
    finishedAt: "2026-01-01T00:00:01.000Z",
    base: { id: BASE, name: "Base" },
    tables: [],
    attachments: { count: 1, files: 1, bytes: stored.length, path: "attachments.jsonl" },
    warnings: [],
    entries: { "attachments.jsonl": indexEntry.sha256, [`attachments/${TRUE_SHA}`]: file.sha256 },
  };
  await zip.addEntry("manifest.json", JSON.stringify(manifest));
  await zip.finish();
  await sink.close();
}

async function backUpOneFile(stored: Uint8Array, shelfOf: (dir: string) => Promise<ArchiveShelf> = localShelf) {
  const dir = await mkdtemp(join(tmpdir(), "airbackup-reuse-"));
  await archiveHolding(dir, stored);
  const shelf = await shelfOf(dir);
  let requests = 0;
  using server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => {
      requests++;
      return new Response(TRUE_BYTES);
    },
  });
  const notices: string[] = [];
  const previous = await openPreviousArchive([shelf], BASE, new Date(), (m) => notices.push(m));
  expect(previous).toBeDefined();
  const files: Uint8Array[] = [];
  const fetcher = createAttachmentFetcher({
    client: createAirtableClient({ token: "patT.x", apiUrl: "http://127.0.0.1:9", userAgent: "test" }),
    baseId: BASE,
    tmpDir: await mkdtemp(join(tmpdir(), "airbackup-att-")),
    concurrency: 2,
    signal: new AbortController().signal,
    previous,
    store: async (file) => void files.push(new Uint8Array(await readFile(file.path))),
    onWarning: (m) => notices.push(`warning: ${m}`),
    onNotice: (m) => notices.push(m),
  });
  const url = `http://127.0.0.1:${server.port}/file.txt`;
  const record = { id: "recA", createdTime: "2026-01-01T00:00:00.000Z", fields: { Files: [{ ...ATTACHMENT, url }] } };
  fetcher.scheduleCell({ id: "tblA", name: "A" }, record, "Files");
  await fetcher.drain();
  await previous!.close();
  return { requests, files, notices, stats: fetcher.stats, hash: fetcher.hashOf(ATTACHMENT.id) };
}

async function localShelf(dir: string): Promise<ArchiveShelf> {
  return new LocalStorage(dir);
}

describe("attachment reuse", () => {
  test("a file the earlier archive holds intact is copied from it, not downloaded", async () => {
    const r = await backUpOneFile(TRUE_BYTES);
    expect(r.requests).toBe(0);
    expect(r.files).toEqual([TRUE_BYTES]);
    expect(r.hash).toBe(TRUE_SHA);
    expect(r.stats.reused).toEqual({ files: 1, bytes: TRUE_BYTES.length });
    expect(r.notices).toEqual([]);
  });

  test("stored bytes that do not hash to the index's sha256 are not used: the file is downloaded", async () => {
    const forged = TRUE_BYTES.slice();
    forged[10] = forged[10]! ^ 1; // a valid zip entry (its CRC-32 matches), but not the file the index names
    const r = await backUpOneFile(forged);
    expect(r.requests).toBe(1);
    expect(r.files).toEqual([TRUE_BYTES]);
    expect(r.hash).toBe(TRUE_SHA);
    expect(r.stats.reused).toEqual({ files: 0, bytes: 0 });
    expect(r.notices).toHaveLength(1);
    expect(r.notices[0]).toContain("is damaged");
    expect(r.notices[0]).toContain(TRUE_SHA);
  });

  test("from S3: the earlier archive is read by Range requests, the file copied, nothing downloaded", async () => {
    const s3 = await startS3Server();
    try {
      const r = await backUpOneFile(TRUE_BYTES, async (dir) => {
        const storage = new S3Storage({
          endpoint: s3.endpoint,
          region: s3.region,
          bucket: s3.bucket,
          prefix: "backups/",
          pathStyle: true,
          accessKeyId: s3.accessKeyId,
          secretAccessKey: s3.secretAccessKey,
        });
        const file = Bun.file(join(dir, NAME));
        await storage.write(NAME, file.stream(), { size: file.size });
        return storage;
      });
      expect(r.requests).toBe(0);
      expect(r.files).toEqual([TRUE_BYTES]);
      expect(r.stats.reused).toEqual({ files: 1, bytes: TRUE_BYTES.length });
    } finally {
      await s3.stop();
    }
  });
});
