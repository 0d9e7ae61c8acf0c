// Streaming zip writer: entries go to the sink one after another as they are produced, with CRC-32, sizes
// and sha256 computed on the way; only the central directory records (~100 bytes an entry) stay in memory.
import { Deflate } from "fflate";
import { PROBE_BYTES, shouldDeflate } from "./compressibility.ts";
import { crc32 } from "./crc32.ts";
import { unsafeNameReason } from "./entry-names.ts";
import {
  centralDirectoryHeader,
  dataDescriptor,
  dosDateTime,
  endOfCentralDirectory,
  extendedTimestampExtraField,
  localFileHeader,
  METHOD_DEFLATE,
  METHOD_STORED,
  VERSION_NEEDED_DEFAULT,
  VERSION_NEEDED_ZIP64,
  ZIP64_MARKER_16,
  ZIP64_MARKER_32,
  zip64EndOfCentralDirectory,
  zip64ExtraField,
  zip64Locator,
} from "./zip-records.ts";

export interface ZipSink {
  write(chunk: Uint8Array): Promise<void> | void;
}

export interface ZipWriterOptions {
  /** Write every entry and the end records in zip64 form, so tests can exercise it with tiny files. */
  forceZip64?: boolean;
  /** Default modification time of entries (default: now). */
  now?: Date;
  /** Deflate level 1-9 (default 6). */
  level?: number;
}

export type ZipEntryData = AsyncIterable<Uint8Array> | Uint8Array | string | Blob;

export interface AddEntryOptions {
  /** true: deflate, false: store, "auto" (default): decide by content type and the first bytes. */
  compress?: boolean | "auto";
  contentType?: string;
  mtime?: Date;
  /** `data` is already a raw deflate stream of bytes with these CRC-32, size and sha256 (see deflated-file.ts). */
  deflated?: { crc32: number; size: number; sha256: string };
}

export interface ZipEntryResult {
  crc32: number;
  size: number;
  compressedSize: number;
  /** sha256 of the uncompressed bytes, lowercase hex. */
  sha256: string;
}

export interface ZipWriter {
  addEntry(name: string, data: ZipEntryData, options?: AddEntryOptions): Promise<ZipEntryResult>;
  /** Writes the central directory and end records; the sink then holds a whole zip. */
  finish(): Promise<{ entries: number; bytes: number }>;
}

/** Uncompressed sizes above this (known in advance) get zip64 local headers: room for deflate's worst-case growth. */
const ZIP64_KNOWN_SIZE_LIMIT = 0xff000000;
const PUSH_BYTES = 64 * 1024;
const CENTRAL_DIRECTORY_BATCH = 1024 * 1024;

export function createZipWriter(sink: ZipSink, options: ZipWriterOptions = {}): ZipWriter {
  const force = options.forceZip64 === true;
  const central: Uint8Array[] = [];
  const names = new Set<string>();
  let offset = 0;
  let state: "idle" | "busy" | "finished" | "failed" = "idle";

  async function write(chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return;
    await sink.write(chunk);
    offset += chunk.length;
  }

  async function addEntry(
    name: string,
    data: ZipEntryData,
    entryOptions: AddEntryOptions = {},
  ): Promise<ZipEntryResult> {
    if (state !== "idle")
      throw new Error(`cannot add ${name}: the zip writer is ${state === "busy" ? "writing another entry" : state}`);
    const reason = unsafeNameReason(name);
    if (reason) throw new Error(`refusing zip entry name ${JSON.stringify(name)}: ${reason}`);
    if (names.has(name)) throw new Error(`duplicate zip entry name ${JSON.stringify(name)}`);
    const nameBytes = new TextEncoder().encode(name);
    if (nameBytes.length > 0xffff) throw new Error(`zip entry name too long: ${name.slice(0, 40)}...`);
    state = "busy";
    try {
      const result = await writeEntry(nameBytes, data, entryOptions);
      names.add(name);
      state = "idle";
      return result;
    } catch (error) {
      state = "failed"; // a partial entry is in the sink: nothing more can be added
      throw error;
    }
  }

  async function writeEntry(nameBytes: Uint8Array, data: ZipEntryData, o: AddEntryOptions): Promise<ZipEntryResult> {
    const { chunks, knownSize } = normalize(data);
    const iterator = chunks[Symbol.asyncIterator]();
    const head = await readHead(iterator);
    const empty = head.done && head.chunks.every((c) => c.length === 0);
    const given = o.deflated;
    // An empty entry is stored: deflate would add a 2-byte empty stream for nothing.
    const deflate =
      !empty &&
      (o.compress === "auto" || o.compress === undefined
        ? shouldDeflate(o.contentType, probeBytes(head.chunks))
        : o.compress);
    // Size unknown in advance: the local header carries a zip64 field (sizes 0) so the 24-byte descriptor is legal.
    const expected = given ? given.size : knownSize;
    const localZip64 = force || expected === undefined || expected > ZIP64_KNOWN_SIZE_LIMIT;
    const mtime = o.mtime ?? options.now ?? new Date();
    const { dosTime, dosDate } = dosDateTime(mtime);
    const ut = extendedTimestampExtraField(mtime);
    const versionNeeded = localZip64 ? VERSION_NEEDED_ZIP64 : VERSION_NEEDED_DEFAULT;
    const method = deflate || given ? METHOD_DEFLATE : METHOD_STORED;
    const localHeaderOffset = offset;
    const localExtra = localZip64 ? concat([zip64ExtraField([0, 0]), ut]) : ut;
    await write(localFileHeader({ name: nameBytes, method, dosTime, dosDate, extra: localExtra, versionNeeded }));

    let crc = 0;
    let size = 0;
    let compressedSize = 0;
    const hasher = new Bun.CryptoHasher("sha256");
    const pending: Uint8Array[] = [];
    const deflater =
      deflate && !given ? new Deflate({ level: (options.level ?? 6) as 6 }, (out) => pending.push(out)) : undefined;
    const flush = async () => {
      for (const out of pending.splice(0)) {
        compressedSize += out.length;
        await write(out);
      }
    };
    const consume = async (chunk: Uint8Array) => {
      if (given) {
        compressedSize += chunk.length;
        return write(chunk);
      }
      for (let at = 0; at < chunk.length; at += PUSH_BYTES) {
        const piece = chunk.subarray(at, at + PUSH_BYTES);
        crc = crc32(piece, crc);
        hasher.update(piece);
        size += piece.length;
        if (deflater) {
          deflater.push(piece);
          await flush();
        } else {
          compressedSize += piece.length;
          await write(piece);
        }
      }
    };
    for (const chunk of head.chunks) await consume(chunk);
    if (!head.done) for (let r = await iterator.next(); !r.done; r = await iterator.next()) await consume(r.value);
    if (deflater) {
      deflater.push(new Uint8Array(0), true);
      await flush();
    }
    if (given) [crc, size] = [given.crc32, given.size];
    if (knownSize !== undefined && knownSize !== (given ? compressedSize : size))
      throw new Error(`entry data was ${size} bytes, expected ${knownSize}`);
    const overflows = size >= ZIP64_MARKER_32 || compressedSize >= ZIP64_MARKER_32;
    if (overflows && !localZip64) throw new Error("entry outgrew its non-zip64 local header"); // unreachable with the margin above
    await write(dataDescriptor(crc, compressedSize, size, localZip64));
    const zip64 = force || overflows || localHeaderOffset >= ZIP64_MARKER_32;
    central.push(
      centralDirectoryHeader({
        name: nameBytes,
        method,
        dosTime,
        dosDate,
        crc,
        compressedSize,
        size,
        localHeaderOffset,
        zip64,
        extra: ut,
        versionNeeded: zip64 || localZip64 ? VERSION_NEEDED_ZIP64 : VERSION_NEEDED_DEFAULT,
      }),
    );
    return { crc32: crc >>> 0, size, compressedSize, sha256: given?.sha256 ?? hasher.digest("hex") };
  }

  async function finish(): Promise<{ entries: number; bytes: number }> {
    if (state !== "idle")
      throw new Error(`cannot finish: the zip writer is ${state === "busy" ? "writing an entry" : state}`);
    state = "busy";
    try {
      const centralDirectoryOffset = offset;
      let batch: Uint8Array[] = [];
      let batchBytes = 0;
      for (const record of central) {
        batch.push(record);
        batchBytes += record.length;
        if (batchBytes >= CENTRAL_DIRECTORY_BATCH) {
          await write(concat(batch));
          batch = [];
          batchBytes = 0;
        }
      }
      await write(concat(batch));
      const end = {
        entries: central.length,
        centralDirectorySize: offset - centralDirectoryOffset,
        centralDirectoryOffset,
      };
      const needZip64 =
        force ||
        end.entries >= ZIP64_MARKER_16 ||
        end.centralDirectorySize >= ZIP64_MARKER_32 ||
        end.centralDirectoryOffset >= ZIP64_MARKER_32;
      if (needZip64) {
        const zip64EocdOffset = offset;
        await write(zip64EndOfCentralDirectory(end));
        await write(zip64Locator(zip64EocdOffset));
      }
      await write(endOfCentralDirectory(end, force));
      state = "finished";
      return { entries: central.length, bytes: offset };
    } catch (error) {
      state = "failed";
      throw error;
    }
  }

  return { addEntry, finish };
}

// --- internal ---

function normalize(data: ZipEntryData): { chunks: AsyncIterable<Uint8Array>; knownSize?: number } {
  if (typeof data === "string") data = new TextEncoder().encode(data);
  if (data instanceof Uint8Array) return { chunks: once(data), knownSize: data.length };
  if (data instanceof Blob)
    return { chunks: data.stream() as unknown as AsyncIterable<Uint8Array>, knownSize: data.size };
  return { chunks: data };
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** Pulls chunks until PROBE_BYTES are in hand (or the data ends), so the compressibility probe can look at them. */
async function readHead(iterator: AsyncIterator<Uint8Array>): Promise<{ chunks: Uint8Array[]; done: boolean }> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  while (bytes < PROBE_BYTES) {
    const r = await iterator.next();
    if (r.done) return { chunks, done: true };
    chunks.push(r.value);
    bytes += r.value.length;
  }
  return { chunks, done: false };
}

function probeBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(
    Math.min(
      PROBE_BYTES,
      chunks.reduce((n, c) => n + c.length, 0),
    ),
  );
  let at = 0;
  for (const c of chunks) {
    if (at >= out.length) break;
    const piece = c.subarray(0, out.length - at);
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
