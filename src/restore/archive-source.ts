// What a restore reads from an archive: manifest, schema, table records line by line, the attachment
// index, and a file's bytes (checked against its sha256 name). Nothing reads a whole table into memory;
// the reading itself (caps, line splitting) is archive/entry-text.ts's.

import type { ArchivedAttachment, ArchivedComments, ArchivedRecord, ArchivedTable } from "../archive/contents.ts";
import { jsonLines, readSmallEntry } from "../archive/entry-text.ts";
import { ATTACHMENT_INDEX_PATH, attachmentPath, MANIFEST_PATH, SCHEMA_PATH } from "../archive/layout.ts";
import { type Manifest, parseManifest } from "../archive/manifest.ts";
import { type OpenedSource, openZip, type ZipArchive, type ZipEntry } from "../archive/zip-reader.ts";
import { AirbackupError } from "../errors.ts";

export interface ArchiveSource {
  readonly path: string;
  readonly manifest: Manifest;
  readonly tables: ArchivedTable[];
  records(tableId: string): AsyncIterable<ArchivedRecord>;
  attachments(): AsyncIterable<ArchivedAttachment>;
  /** A table's record comments (archives made with `comments: true`), as the API listed them. */
  comments(tableId: string): AsyncIterable<ArchivedComments>;
  /** The file's real (uncompressed) size from the zip's central directory; undefined when it is not there. */
  fileSize(sha256: string): number | undefined;
  fileBytes(sha256: string): Promise<Uint8Array>;
  /** The file's bytes as they inflate (the archive was verified before a restore reads it). */
  fileStream(sha256: string): ReadableStream<Uint8Array>;
  close(): Promise<void>;
}

/** A local path, or an archive opened elsewhere (an s3:// object read by Range requests). */
export async function openArchiveSource(source: string | OpenedSource): Promise<ArchiveSource> {
  const path = typeof source === "string" ? source : source.label;
  const zip = await openZip(source);
  try {
    const manifest = parseManifest(await readSmallEntry(zip, entryOf(zip, MANIFEST_PATH)), path);
    const schema = JSON.parse(await readSmallEntry(zip, entryOf(zip, SCHEMA_PATH))) as { tables?: ArchivedTable[] };
    if (!Array.isArray(schema.tables))
      throw new AirbackupError("ARCHIVE_CORRUPT", `${path}: schema.json has no tables`);
    return {
      path,
      manifest,
      tables: schema.tables,
      records: (tableId) => {
        const entry = manifest.tables.find((t) => t.id === tableId);
        if (!entry) return empty();
        return values<ArchivedRecord>(zip, entry.path);
      },
      comments: (tableId) => {
        const entry = manifest.comments?.find((c) => c.table === tableId);
        return entry ? values<ArchivedComments>(zip, entry.path) : empty();
      },
      attachments: () =>
        zip.entry(ATTACHMENT_INDEX_PATH) ? values<ArchivedAttachment>(zip, ATTACHMENT_INDEX_PATH) : empty(),
      fileSize: (sha256) => zip.entry(attachmentPath(sha256))?.size,
      fileBytes: async (sha256) => {
        const name = attachmentPath(sha256);
        const chunks: Uint8Array[] = [];
        for await (const chunk of zip.readEntry(entryOf(zip, name))) chunks.push(chunk);
        const bytes = Buffer.concat(chunks);
        const actual = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
        if (actual !== sha256)
          throw new AirbackupError("ARCHIVE_CORRUPT", `${path}: ${name} does not match its sha256`);
        return bytes;
      },
      fileStream: (sha256) => {
        const chunks = zip.readEntry(entryOf(zip, attachmentPath(sha256)))[Symbol.asyncIterator]();
        return new ReadableStream<Uint8Array>({
          async pull(controller) {
            const next = await chunks.next();
            if (next.done) controller.close();
            else controller.enqueue(next.value);
          },
          async cancel() {
            await chunks.return?.();
          },
        });
      },
      close: () => zip.close(),
    };
  } catch (error) {
    await zip.close();
    if (error instanceof SyntaxError)
      throw new AirbackupError("ARCHIVE_CORRUPT", `${path}: schema.json is not valid JSON`, { cause: error });
    throw error;
  }
}

// --- internal ---

async function* empty<T>(): AsyncIterable<T> {}

function entryOf(zip: ZipArchive, name: string): ZipEntry {
  const entry = zip.entry(name);
  if (!entry)
    throw new AirbackupError("ARCHIVE_CORRUPT", `${zip.path}: ${name} is missing`, {
      hint: "check the archive with `airbackup verify`",
    });
  return entry;
}

/** A JSON-lines entry's values as it inflates, one line at a time. */
async function* values<T>(zip: ZipArchive, name: string): AsyncIterable<T> {
  const label = `${zip.path}: ${name}`;
  try {
    for await (const value of jsonLines(zip.readEntry(entryOf(zip, name)), label)) yield value as T;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new AirbackupError("ARCHIVE_CORRUPT", `${label}: ${error.message} (not valid JSON)`, { cause: error });
  }
}
