// What a restore reads from an archive: manifest, schema, table records line by line, the attachment
// index, and a file's bytes (checked against its sha256 name). Nothing reads a whole table into memory.

import { readLines } from "../archive/entry-text.ts";
import { ATTACHMENT_INDEX_PATH, attachmentPath, MANIFEST_PATH, SCHEMA_PATH } from "../archive/layout.ts";
import { type Manifest, parseManifest } from "../archive/manifest.ts";
import { openZip, type ZipArchive } from "../archive/zip-reader.ts";
import { AirbackupError } from "../errors.ts";
import type { ArchivedTable } from "./plan.ts";

export interface ArchivedRecord {
  id: string;
  createdTime: string;
  fields: Record<string, unknown>;
}

/** One line of attachments.jsonl. */
export interface ArchivedAttachment {
  id: string;
  sha256: string;
  filename: string;
  type: string;
  size: number;
  table: string;
  record: string;
  field: string;
}

export interface ArchiveSource {
  readonly path: string;
  readonly manifest: Manifest;
  readonly tables: ArchivedTable[];
  records(tableId: string): AsyncIterable<ArchivedRecord>;
  attachments(): AsyncIterable<ArchivedAttachment>;
  /** The file's real (uncompressed) size from the zip's central directory; undefined when it is not there. */
  fileSize(sha256: string): number | undefined;
  fileBytes(sha256: string): Promise<Uint8Array>;
  close(): Promise<void>;
}

export async function openArchiveSource(path: string): Promise<ArchiveSource> {
  const zip = await openZip(path);
  try {
    const manifest = parseManifest(await readText(zip, MANIFEST_PATH), path);
    const schema = JSON.parse(await readText(zip, SCHEMA_PATH)) as { tables?: ArchivedTable[] };
    if (!Array.isArray(schema.tables))
      throw new AirbackupError("ARCHIVE_CORRUPT", `${path}: schema.json has no tables`);
    return {
      path,
      manifest,
      tables: schema.tables,
      records: (tableId) => {
        const entry = manifest.tables.find((t) => t.id === tableId);
        if (!entry) return empty();
        return jsonLines<ArchivedRecord>(zip, entry.path);
      },
      attachments: () =>
        zip.entry(ATTACHMENT_INDEX_PATH) ? jsonLines<ArchivedAttachment>(zip, ATTACHMENT_INDEX_PATH) : empty(),
      fileSize: (sha256) => zip.entry(attachmentPath(sha256))?.size,
      fileBytes: async (sha256) => {
        const bytes = await readBytes(zip, attachmentPath(sha256));
        const actual = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
        if (actual !== sha256)
          throw new AirbackupError("ARCHIVE_CORRUPT", `${path}: attachments/${sha256} does not match its sha256`);
        return bytes;
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

async function readBytes(zip: ZipArchive, name: string): Promise<Uint8Array> {
  const entry = zip.entry(name);
  if (!entry)
    throw new AirbackupError("ARCHIVE_CORRUPT", `${zip.path}: ${name} is missing`, {
      hint: "check the archive with `airbackup verify`",
    });
  const chunks: Uint8Array[] = [];
  for await (const chunk of zip.readEntry(entry)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function readText(zip: ZipArchive, name: string): Promise<string> {
  return new TextDecoder().decode(await readBytes(zip, name));
}

/** Parses a JSON-lines entry as it inflates, one line at a time. */
async function* jsonLines<T>(zip: ZipArchive, name: string): AsyncIterable<T> {
  const entry = zip.entry(name);
  if (!entry) throw new AirbackupError("ARCHIVE_CORRUPT", `${zip.path}: ${name} is missing`);
  let lineNo = 0;
  for await (const line of readLines(zip.readEntry(entry), `${zip.path}: ${name}`)) {
    lineNo++;
    if (!line.trim()) continue;
    let value: T;
    try {
      value = JSON.parse(line) as T;
    } catch (error) {
      throw new AirbackupError("ARCHIVE_CORRUPT", `${zip.path}: ${name} line ${lineNo} is not valid JSON`, {
        cause: error,
      });
    }
    yield value;
  }
}
