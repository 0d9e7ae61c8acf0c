// The attachment fetcher against a real local server: a body that stalls is abandoned and fetched again;
// one that always stalls becomes a warning, never a hang.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAirtableClient } from "../../src/airtable/client.ts";
import { createAttachmentFetcher } from "../../src/backup/attachments.ts";
import { AirbackupError } from "../../src/errors.ts";

const FILE = new TextEncoder().encode("attachment bytes ".repeat(1000));

/** Serves FILE; the first `stalls` requests send half of it and then nothing more. */
function stallingServer(stalls: number) {
  let requests = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch() {
      requests++;
      if (requests > stalls) return new Response(FILE);
      return new Response(new ReadableStream({ start: (c) => c.enqueue(FILE.slice(0, FILE.length / 2)) }));
    },
  });
  return { url: `http://127.0.0.1:${server.port}/file.txt`, requests: () => requests, stop: () => server.stop(true) };
}

async function fetchOne(url: string, tmpDir?: string) {
  const stored: { sha256: string; bytes: Uint8Array }[] = [];
  const warnings: string[] = [];
  const client = createAirtableClient({ token: "patT.x", apiUrl: "http://127.0.0.1:9", userAgent: "test" });
  const fetcher = createAttachmentFetcher({
    client,
    baseId: "appAAAAAAAAAAAAAA",
    tmpDir: tmpDir ?? (await mkdtemp(join(tmpdir(), "airbackup-att-"))),
    concurrency: 2,
    signal: new AbortController().signal,
    idleTimeoutMs: 300,
    store: async (file) => void stored.push({ sha256: file.sha256, bytes: new Uint8Array(await readFile(file.path)) }),
    onWarning: (m) => warnings.push(m),
  });
  const record = {
    id: "recAAAAAAAAAAAAAA",
    createdTime: "2024-01-01T00:00:00.000Z",
    fields: { Files: [{ id: "attAAAAAAAAAAAAAA", url, filename: "file.txt" }] },
  };
  fetcher.scheduleCell({ id: "tblAAAAAAAAAAAAAA", name: "T" }, record, "Files");
  await fetcher.drain();
  return { stored, warnings, fetcher };
}

describe("attachment downloads", () => {
  test("a body that stalls is abandoned after the idle timeout and fetched again", async () => {
    const server = stallingServer(2);
    try {
      const { stored, warnings, fetcher } = await fetchOne(server.url);
      expect(warnings).toEqual([]);
      expect(server.requests()).toBe(3);
      expect(stored).toHaveLength(1);
      expect(stored[0]!.bytes).toEqual(FILE);
      expect(stored[0]!.sha256).toBe(new Bun.CryptoHasher("sha256").update(FILE).digest("hex"));
      expect(fetcher.hashOf("attAAAAAAAAAAAAAA")).toBe(stored[0]!.sha256);
    } finally {
      server.stop();
    }
  });

  test("a body that always stalls becomes a warning naming the file, not a hang", async () => {
    const server = stallingServer(1000);
    try {
      const { stored, warnings, fetcher } = await fetchOne(server.url);
      expect(stored).toEqual([]);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain("file.txt");
      expect(warnings[0]).toContain("stalled");
      expect(fetcher.stats.failed).toBe(1);
    } finally {
      server.stop();
    }
  }, 20_000);

  test("a file:// attachment URL becomes a warning, never local bytes in the archive", async () => {
    const dir = await mkdtemp(join(tmpdir(), "airbackup-file-url-"));
    await writeFile(join(dir, "secret"), "local secret");
    const { stored, warnings, fetcher } = await fetchOne(`file://${join(dir, "secret")}`);
    expect(stored).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("file.txt");
    expect(warnings[0]).toContain("refused");
    expect(fetcher.stats.failed).toBe(1);
  });

  // The first download goes to `att-1` in the temp directory: a symlink to /dev/full makes its write fail
  // with ENOSPC, through the real file handle and the fetcher's real classification.
  test.skipIf(!existsSync("/dev/full"))(
    "ENOSPC while saving a download fails the base, not retried and not a warning",
    async () => {
      const server = stallingServer(0);
      try {
        const dir = await mkdtemp(join(tmpdir(), "airbackup-att-"));
        await symlink("/dev/full", join(dir, "att-1"));
        const error = await fetchOne(server.url, dir).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(AirbackupError);
        expect((error as AirbackupError).code).toBe("IO");
        expect(String((error as Error).message)).toContain("ENOSPC");
        expect((error as AirbackupError).hint).toContain("full");
        expect(server.requests()).toBe(1);
      } finally {
        server.stop();
      }
    },
  );
});
