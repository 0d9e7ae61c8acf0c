// The one JSONL line reader: linear in its input (a huge line fed in small chunks is not rescanned on every
// chunk) and capped, in verify and in restore alike.
import { describe, expect, test } from "bun:test";
import { MAX_LINE, readJsonLines, readLines } from "../../src/archive/entry-text.ts";
import type { Manifest } from "../../src/archive/manifest.ts";
import { verifyArchive } from "../../src/archive/verify.ts";
import { createZipWriter } from "../../src/archive/zip-writer.ts";
import { AirbackupError } from "../../src/errors.ts";
import { openArchiveSource } from "../../src/restore/archive-source.ts";
import { chunked, tempDir } from "./helpers.ts";

/** `count` chunks of `size` bytes of "x", then `tail`; counts how many chunks were pulled. */
function bigLine(count: number, size: number, tail: string) {
  const piece = new Uint8Array(size).fill(0x78);
  const stats = { pulled: 0 };
  async function* source(): AsyncIterable<Uint8Array> {
    for (let i = 0; i < count; i++) {
      stats.pulled++;
      yield piece;
    }
    yield new TextEncoder().encode(tail);
  }
  return { source: source(), stats };
}

describe("readLines", () => {
  test("splits on newlines across chunk boundaries, multi-byte characters included; a last line without newline counts", async () => {
    const text = 'a\n{"é":"✓"}\n\nlast';
    const lines: string[] = [];
    for await (const line of readLines(chunked(text, 1), "t")) lines.push(line);
    expect(lines).toEqual(["a", '{"é":"✓"}', "", "last"]);
  });

  test("a 50 MB single line fed in 4 KB chunks is read in linear time (well under 10 s)", async () => {
    const size = 4096;
    const count = (50 * 1024 * 1024) / size;
    const { source, stats } = bigLine(count, size, "\nnext\n");
    const started = performance.now();
    const lengths: number[] = [];
    for await (const line of readLines(source, "t")) lengths.push(line.length);
    expect(lengths).toEqual([50 * 1024 * 1024, 4]);
    expect(stats.pulled).toBe(count);
    expect(performance.now() - started).toBeLessThan(10_000);
  }, 10_000);

  test("a line over the cap is refused as ARCHIVE_CORRUPT, without reading the rest of the stream", async () => {
    const { source, stats } = bigLine(100, 1024, "\n");
    const lines = readLines(source, "tables/tblA.jsonl", 10 * 1024);
    const error = await (async () => {
      for await (const _ of lines);
    })().catch((e) => e);
    expect(error).toBeInstanceOf(AirbackupError);
    expect((error as AirbackupError).code).toBe("ARCHIVE_CORRUPT");
    expect((error as Error).message).toBe("tables/tblA.jsonl: line 1 is longer than 10240 bytes");
    expect(stats.pulled).toBe(11);
  });

  test("readJsonLines: a 50 MB JSON line in small chunks parses in linear time", async () => {
    const size = 4096;
    const count = (50 * 1024 * 1024) / size;
    async function* source(): AsyncIterable<Uint8Array> {
      yield new TextEncoder().encode('{"id":"rec1","v":"');
      const piece = new Uint8Array(size).fill(0x78);
      for (let i = 0; i < count; i++) yield piece;
      yield new TextEncoder().encode('"}\n');
    }
    const ids: string[] = [];
    expect(await readJsonLines(source(), "t", (v) => ids.push((v as { id: string }).id))).toBe(1);
    expect(ids).toEqual(["rec1"]);
  }, 10_000);
});

describe("a JSONL line over the cap (MAX_LINE) is refused by both callers", () => {
  const tool = { name: "airbackup", version: "0.1.0-test" };
  async function craft(path: string) {
    const chunks: Uint8Array[] = [];
    const zip = createZipWriter({ write: (c) => void chunks.push(c.slice()) });
    const huge = `{"id":"rec1","v":"${"x".repeat(MAX_LINE)}"}\n`;
    const manifest: Manifest = {
      format: 1,
      tool,
      startedAt: "2024-05-06T07:08:09.123Z",
      finishedAt: "2024-05-06T07:08:09.123Z",
      base: { id: "appTEST0000000001", name: "CRM" },
      tables: [],
      attachments: { count: 0, files: 0, bytes: 0, path: "attachments.jsonl" },
      warnings: [],
      entries: {},
    };
    const schema = await zip.addEntry(
      "schema.json",
      JSON.stringify({ tables: [{ id: "tblA", name: "T", fields: [] }] }),
    );
    manifest.entries["schema.json"] = schema.sha256;
    const table = await zip.addEntry("tables/tblA.jsonl", huge, { compress: true });
    manifest.entries["tables/tblA.jsonl"] = table.sha256;
    manifest.tables.push({ id: "tblA", name: "T", records: 1, path: "tables/tblA.jsonl", sha256: table.sha256 });
    const index = await zip.addEntry("attachments.jsonl", "");
    manifest.entries["attachments.jsonl"] = index.sha256;
    await zip.addEntry("manifest.json", JSON.stringify(manifest));
    await zip.finish();
    await Bun.write(path, new Blob(chunks));
  }

  test("verify reports it and restore's archive source throws ARCHIVE_CORRUPT", async () => {
    using dir = tempDir();
    const path = dir.file("huge-line.zip");
    await craft(path);
    const report = await verifyArchive(path);
    expect(report.ok).toBe(false);
    expect(report.problems.join("\n")).toContain(`tables/tblA.jsonl: line 1 is longer than ${MAX_LINE} bytes`);

    const source = await openArchiveSource(path);
    try {
      const error = await (async () => {
        for await (const _ of source.records("tblA"));
      })().catch((e) => e);
      expect(error).toBeInstanceOf(AirbackupError);
      expect((error as AirbackupError).code).toBe("ARCHIVE_CORRUPT");
      expect((error as Error).message).toContain(`tables/tblA.jsonl: line 1 is longer than ${MAX_LINE} bytes`);
    } finally {
      await source.close();
    }
  }, 30_000);
});
