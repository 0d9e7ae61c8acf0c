// Writes one format-1 archive: entries stream into `<final>.partial` (mode 0600); finish() adds
// manifest.json last, fsyncs, verifies, then renames. Any failure removes the partial file.
import { link, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { AirbackupError } from "../errors.ts";
import type { DeflatedContent } from "./deflated-file.ts";
import { createFileSink, type FileSink, syncDirectory } from "./file-sink.ts";
import {
  ATTACHMENT_INDEX_PATH,
  attachmentPath,
  commentsPath,
  FORMAT_VERSION,
  MANIFEST_PATH,
  SCHEMA_PATH,
  tablePath,
} from "./layout.ts";
import type { Manifest } from "./manifest.ts";
import { fileChunks } from "./random-access-file.ts";
import { verifyArchive } from "./verify.ts";
import { createZipWriter, type ZipEntryData, type ZipEntryResult, type ZipWriter } from "./zip-writer.ts";

/** Bytes of a spooled table or an attachment file read at a time (at least the compressibility probe's 4 KB). */
const FILE_BUFFER = 256 * 1024;

export interface ArchiveOptions {
  tool: { name: string; version: string };
  base: { id: string; name: string };
  startedAt: Date;
  /** Modification time of every entry (default: when each is written). */
  now?: Date;
  forceZip64?: boolean;
  /** Stops the writer: a queued operation or the final verify fails with the signal's reason, and the
   * partial file goes; an archive is never moved into place once the signal is aborted. */
  signal?: AbortSignal;
}

export interface FinishOptions {
  warnings: readonly string[];
  finishedAt: Date;
  apiCalls?: number;
  /** Called when everything is written and the final verify starts. */
  onVerify?: () => void;
  /** Attachment files copied from an earlier archive rather than downloaded (counted among `files`). */
  reused?: { files: number; bytes: number };
  /** Table ids in the base's order: the manifest lists tables so, whatever order they were written in. */
  tableOrder?: readonly string[];
}

/** A page of JSONL lines: each item is a value to serialize, or a string already holding one line of JSON. */
export type Lines = AsyncIterable<readonly unknown[]> | readonly unknown[];

export interface ArchiveWriter {
  readonly finalPath: string;
  readonly partialPath: string;
  /** schema.json: the Meta API's tables response. A string is written as-is. */
  writeSchema(schema: unknown): Promise<void>;
  /** tables/<id>.jsonl from pages of records; returns the record count. */
  writeTable(table: { id: string; name: string }, pages: AsyncIterable<readonly unknown[]>): Promise<number>;
  /** tables/<id>.jsonl from a spooled, already deflated JSONL file holding `records` lines (checked). */
  writeTableFile(table: { id: string; name: string }, spool: DeflatedContent, records: number): Promise<void>;
  /** attachments/<sha256>; false (and nothing written) if that hash is already stored. The bytes must hash to `sha256`. */
  addAttachment(sha256: string, data: ZipEntryData, options?: { contentType?: string }): Promise<boolean>;
  addAttachmentFile(sha256: string, path: string, contentType?: string): Promise<boolean>;
  /** attachments.jsonl: `{id, sha256, filename, type, size, table, record, field}` lines; each sha256 must be stored already. */
  writeAttachmentIndex(lines: Lines): Promise<number>;
  /** comments/<tableId>.jsonl: `{record, comments}` lines; returns the line count. */
  writeComments(tableId: string, lines: Lines): Promise<number>;
  /** Writes manifest.json and the central directory, fsyncs, verifies, renames; returns the final path. */
  finish(options: FinishOptions): Promise<string>;
  /** Removes the partial file; safe to call at any time, any number of times. */
  abort(): Promise<void>;
}

export async function createArchive(finalPath: string, options: ArchiveOptions): Promise<ArchiveWriter> {
  const partialPath = `${finalPath}.partial`;
  if (await Bun.file(finalPath).exists()) {
    throw new AirbackupError("IO", `${finalPath} already exists; not overwriting it`, {
      hint: "wait a second and run again (archive names carry the time to the second)",
    });
  }
  const sink: FileSink = await createFileSink(partialPath, 0o600, { exclusive: true });
  const zip: ZipWriter = createZipWriter(sink, { forceZip64: options.forceZip64, now: options.now });
  const entries: Record<string, string> = {};
  const tables: Manifest["tables"] = [];
  const comments: NonNullable<Manifest["comments"]> = [];
  const stored = new Set<string>();
  const attachments = { count: 0, files: 0, bytes: 0, path: ATTACHMENT_INDEX_PATH };
  let indexWritten = false;
  const fileBuffer = new Uint8Array(FILE_BUFFER); // files are read into it, one at a time (the lane is serial)
  let state: "open" | "finished" | "aborted" = "open";
  let tail: Promise<unknown> = Promise.resolve();

  /** One operation at a time, in call order; a failure aborts the archive. */
  function serial<T>(task: () => Promise<T>): Promise<T> {
    const result = tail.then(async () => {
      if (state !== "open") throw new Error(`archive ${finalPath} is ${state}`);
      try {
        options.signal?.throwIfAborted();
        return await task();
      } catch (error) {
        await abort();
        throw error;
      }
    });
    tail = result.catch(() => {});
    return result;
  }

  async function add(name: string, data: ZipEntryData, contentType?: string): Promise<ZipEntryResult> {
    const result = await zip.addEntry(name, data, { contentType });
    entries[name] = result.sha256;
    return result;
  }

  async function abort(): Promise<void> {
    if (state === "finished") return;
    state = "aborted";
    await sink.remove();
  }

  const writer: ArchiveWriter = {
    finalPath,
    partialPath,
    writeSchema: (schema) =>
      serial(
        async () =>
          void (await add(
            SCHEMA_PATH,
            typeof schema === "string" ? schema : JSON.stringify(schema),
            "application/json",
          )),
      ),
    writeTable: (table, pages) =>
      serial(async () => {
        const counter = { lines: 0 };
        const path = tablePath(table.id);
        const { sha256 } = await add(path, jsonl(pages, counter), "application/x-ndjson");
        tables.push({ id: table.id, name: table.name, records: counter.lines, path, sha256 });
        return counter.lines;
      }),
    writeTableFile: (table, spool, records) =>
      serial(async () => {
        if (spool.lines !== records)
          throw new Error(`${spool.path} holds ${spool.lines} lines, expected ${records} records`);
        const path = tablePath(table.id);
        // Compressed while it was spooled: copied in as it is (an empty table is stored, as always).
        const data = spool.size === 0 ? "" : fileChunks(spool.path, fileBuffer);
        const options = spool.size === 0 ? {} : { deflated: spool };
        const { sha256 } = await zip.addEntry(path, data, { contentType: "application/x-ndjson", ...options });
        entries[path] = sha256;
        tables.push({ id: table.id, name: table.name, records, path, sha256 });
      }),
    addAttachment: (sha256, data, o = {}) =>
      serial(async () => {
        if (stored.has(sha256)) return false;
        const result = await add(attachmentPath(sha256), data, o.contentType);
        if (result.sha256 !== sha256) throw new Error(`attachment bytes hash to ${result.sha256}, not ${sha256}`);
        stored.add(sha256);
        attachments.files++;
        attachments.bytes += result.size;
        return true;
      }),
    // Read into one buffer used again (the lane is serial): copying files allocates nothing per chunk.
    addAttachmentFile: (sha256, path, contentType) =>
      writer.addAttachment(sha256, fileChunks(path, fileBuffer), { contentType }),
    writeAttachmentIndex: (lines) =>
      serial(async () => {
        if (indexWritten) throw new Error("attachments.jsonl was already written");
        const counter = { lines: 0 };
        const check = (line: unknown) => {
          const sha256 = (typeof line === "string" ? JSON.parse(line) : line)?.sha256;
          if (typeof sha256 !== "string" || !stored.has(sha256))
            throw new Error(`attachments.jsonl line refers to a file not in the archive: ${String(sha256)}`);
        };
        await add(ATTACHMENT_INDEX_PATH, jsonl(lines, counter, check), "application/x-ndjson");
        indexWritten = true;
        attachments.count = counter.lines;
        return counter.lines;
      }),
    writeComments: (tableId, lines) =>
      serial(async () => {
        const counter = { lines: 0 };
        const path = commentsPath(tableId);
        await add(path, jsonl(lines, counter), "application/x-ndjson");
        comments.push({ table: tableId, records: counter.lines, path });
        return counter.lines;
      }),
    finish: (o) =>
      serial(async () => {
        if (!indexWritten) {
          await add(ATTACHMENT_INDEX_PATH, "", "application/x-ndjson");
          indexWritten = true;
        }
        const manifest: Manifest = {
          format: FORMAT_VERSION,
          tool: options.tool,
          startedAt: options.startedAt.toISOString(),
          finishedAt: o.finishedAt.toISOString(),
          base: options.base,
          tables: o.tableOrder ? inOrder(tables, o.tableOrder) : tables,
          attachments: { ...attachments, ...(o.reused ? { reused: o.reused } : {}) },
          ...(comments.length > 0 ? { comments } : {}),
          warnings: [...o.warnings],
          ...(o.apiCalls !== undefined ? { apiCalls: o.apiCalls } : {}),
          entries: { ...entries },
        };
        await zip.addEntry(MANIFEST_PATH, `${JSON.stringify(manifest, null, 2)}\n`, {
          contentType: "application/json",
        });
        await zip.finish();
        await sink.close();
        o.onVerify?.();
        // The verify reads the whole archive back (inflating and parsing every table): it starts from a
        // collected heap, not on top of the garbage writing left, which is the run's peak RSS otherwise.
        Bun.gc(true);
        const report = await verifyArchive(partialPath, { signal: options.signal });
        if (!report.ok) {
          throw new AirbackupError(
            "ARCHIVE_CORRUPT",
            `the archive just written failed verification: ${report.problems[0]}`,
            {
              hint: "check the disk (space, errors) and run the backup again",
            },
          );
        }
        options.signal?.throwIfAborted(); // interrupted during the verify: the archive does not go into place
        await placeWithoutOverwriting(partialPath, finalPath);
        state = "finished";
        await syncDirectory(dirname(finalPath));
        return finalPath;
      }),
    abort, // at once, not queued: an operation stuck on its input must not keep the partial file alive
  };
  return writer;
}

// --- internal ---

/** Gives the partial file its final name, atomically, and never over an existing file (link + unlink, not rename). */
async function placeWithoutOverwriting(partialPath: string, finalPath: string): Promise<void> {
  try {
    await link(partialPath, finalPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new AirbackupError("IO", `${finalPath} appeared while the backup ran; not overwriting it`, {
        cause: error,
      });
    }
    // A file system without hard links: fall back to rename (still atomic; the check above ran at open).
    await rename(partialPath, finalPath);
    return;
  }
  await unlink(partialPath);
}

async function* jsonl(
  source: Lines,
  counter: { lines: number },
  check?: (line: unknown) => void,
): AsyncIterable<Uint8Array> {
  const encoder = new TextEncoder();
  const pages: AsyncIterable<readonly unknown[]> | Iterable<readonly unknown[]> = Array.isArray(source)
    ? [source]
    : (source as AsyncIterable<readonly unknown[]>);
  for await (const page of pages) {
    if (page.length === 0) continue;
    let text = "";
    for (const line of page) {
      const serialized = typeof line === "string" ? line : JSON.stringify(line);
      if (serialized === undefined || serialized.includes("\n"))
        throw new Error("a JSONL line must be one line of JSON");
      check?.(line);
      text += `${serialized}\n`;
    }
    counter.lines += page.length;
    yield encoder.encode(text);
  }
}

/** Tables sorted by their id's place in `order`; ids not in it keep their written order, after the others. */
function inOrder(tables: Manifest["tables"], order: readonly string[]): Manifest["tables"] {
  const rank = (id: string) => {
    const at = order.indexOf(id);
    return at < 0 ? order.length : at;
  };
  return tables
    .map((t, i) => ({ t, i }))
    .sort((a, b) => rank(a.t.id) - rank(b.t.id) || a.i - b.i)
    .map(({ t }) => t);
}
