// Reads a zip without trusting it: the directory is found from the end and checked, and each entry is
// streamed in bounded chunks, inflated no further than its declared size, its CRC-32 and size checked.
import { AirbackupError } from "../errors.ts";
import { crc32 } from "./crc32.ts";
import { inflateRaw } from "./inflate.ts";
import { openRandomAccessFile, type RandomAccessFile } from "./random-access-file.ts";
import { type CentralDirectory, decodeName, readCentralDirectory, type ZipEntry } from "./zip-directory.ts";
import {
  FLAG_ENCRYPTED,
  FLAG_UTF8,
  LOCAL_FILE_HEADER_SIGNATURE,
  LOCAL_FILE_HEADER_SIZE,
  METHOD_DEFLATE,
  METHOD_STORED,
} from "./zip-records.ts";

export type { ZipEntry } from "./zip-directory.ts";

export interface ZipArchive {
  readonly path: string;
  /** File size in bytes. */
  readonly size: number;
  /** Entries in central directory order. */
  readonly entries: readonly ZipEntry[];
  entry(name: string): ZipEntry | undefined;
  /**
   * The entry's uncompressed bytes in chunks; throws ARCHIVE_CORRUPT as soon as anything does not add up.
   * With `into`, a stored entry is read into that buffer again and again: each chunk is a view of it, valid
   * only until the next one is asked for (a large copy then allocates nothing per chunk).
   */
  readEntry(entry: ZipEntry, options?: { into?: Uint8Array }): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Compressed bytes read from disk at a time. */
const READ_BYTES = 1024 * 1024;

/** An archive already opened elsewhere (an S3 object read by Range requests), with the name messages use. */
export interface OpenedSource {
  readonly file: RandomAccessFile;
  readonly label: string;
}

export async function openZip(source: string | OpenedSource): Promise<ZipArchive> {
  const path = typeof source === "string" ? source : source.label;
  const file = typeof source === "string" ? await openRandomAccessFile(source) : source.file;
  let directory: CentralDirectory;
  try {
    directory = await readCentralDirectory(file, path);
  } catch (error) {
    await file.close();
    throw error;
  }
  const { entries, offset: cdOffset } = directory;
  const byName = new Map(entries.map((e) => [e.name, e]));
  // Each entry's bytes (local header, data, descriptor) end where the next entry's local header starts, the
  // last one's where the central directory starts: an entry may not read into its neighbour.
  const limits = new Map<ZipEntry, { end: number; next: string }>();
  const byOffset = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  byOffset.forEach((e, i) => {
    const next = byOffset[i + 1];
    limits.set(
      e,
      next ? { end: next.localHeaderOffset, next: JSON.stringify(next.name) } : { end: cdOffset, next: "" },
    );
  });

  async function* readEntry(entry: ZipEntry, options: { into?: Uint8Array } = {}): AsyncIterable<Uint8Array> {
    const corrupt = (message: string, cause?: unknown) =>
      new AirbackupError("ARCHIVE_CORRUPT", `${path}: ${entry.name}: ${message}`, { cause });
    if (entry.flags & FLAG_ENCRYPTED) throw corrupt("is encrypted (not supported)");
    if (entry.method !== METHOD_STORED && entry.method !== METHOD_DEFLATE)
      throw corrupt(`uses compression method ${entry.method} (only stored and deflate are supported)`);
    if (entry.method === METHOD_STORED && entry.compressedSize !== entry.size)
      throw corrupt("stored entry with different compressed and uncompressed sizes");
    const header = new DataView((await file.read(entry.localHeaderOffset, LOCAL_FILE_HEADER_SIZE)).buffer);
    if (header.getUint32(0, true) !== LOCAL_FILE_HEADER_SIGNATURE)
      throw corrupt("local header is damaged (bad signature)");
    if (header.getUint16(8, true) !== entry.method)
      throw corrupt("local header and central directory disagree on the compression method");
    const nameLength = header.getUint16(26, true);
    const localName = await file.read(entry.localHeaderOffset + LOCAL_FILE_HEADER_SIZE, nameLength);
    if (decodeName(localName, (header.getUint16(6, true) & FLAG_UTF8) !== 0) !== entry.name) {
      throw corrupt("local header names a different file than the central directory");
    }
    const dataStart = entry.localHeaderOffset + LOCAL_FILE_HEADER_SIZE + nameLength + header.getUint16(28, true);
    const limit = limits.get(entry) ?? { end: cdOffset, next: "" };
    if (dataStart + entry.compressedSize > limit.end)
      throw corrupt(
        limit.next
          ? `data runs into the next entry, ${limit.next} (local header and extra field counted)`
          : "data runs into the central directory",
      );

    let crc = 0;
    let produced = 0;
    const check = (chunk: Uint8Array) => {
      produced += chunk.length;
      if (produced > entry.size)
        throw corrupt(`inflates beyond its declared size of ${entry.size} bytes (damaged, or a zip bomb); refused`);
      crc = crc32(chunk, crc);
    };
    const end = dataStart + entry.compressedSize;
    if (entry.compressedSize === 0 && entry.method === METHOD_DEFLATE)
      throw corrupt("deflated entry with no compressed data");
    // Inflate may hold on to its input: only a stored entry's chunks are read into the caller's buffer.
    const into = entry.method === METHOD_STORED && file.readInto && options.into?.length ? options.into : undefined;
    async function* compressed(): AsyncIterable<Uint8Array> {
      for (let at = dataStart; at < end; ) {
        const length = Math.min(into?.length ?? READ_BYTES, end - at);
        const chunk = into ? into.subarray(0, length) : await file.read(at, length);
        if (into) await file.readInto?.(chunk, at);
        at += chunk.length;
        yield chunk;
      }
    }
    const data =
      entry.method === METHOD_DEFLATE
        ? inflateRaw(compressed(), (error) => corrupt(`deflate data is damaged (${error.message})`, error))
        : compressed();
    for await (const chunk of data) {
      if (chunk.length === 0) continue;
      check(chunk);
      yield chunk;
    }
    if (produced !== entry.size) throw corrupt(`is ${produced} bytes, the central directory says ${entry.size}`);
    if (crc >>> 0 !== entry.crc32)
      throw corrupt(`CRC-32 mismatch (data is damaged): got ${hex(crc)}, expected ${hex(entry.crc32)}`);
  }

  return {
    path,
    size: file.size,
    entries,
    entry: (name) => byName.get(name),
    readEntry,
    close: () => file.close(),
    [Symbol.asyncDispose]: () => file.close(),
  };
}

// --- internal ---

function hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}
