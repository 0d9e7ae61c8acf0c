// Finds and parses a zip's end records and central directory, trusting nothing: every offset, size and
// count is checked against the file and against each other before an entry is listed.
import { AirbackupError } from "../errors.ts";
import { unsafeNameReason } from "./entry-names.ts";
import type { RandomAccessFile } from "./random-access-file.ts";
import {
  CENTRAL_DIRECTORY_HEADER_SIZE,
  CENTRAL_DIRECTORY_SIGNATURE,
  EOCD_SIGNATURE,
  EOCD_SIZE,
  FLAG_UTF8,
  LOCAL_FILE_HEADER_SIGNATURE,
  LOCAL_FILE_HEADER_SIZE,
  ZIP64_EOCD_SIGNATURE,
  ZIP64_EOCD_SIZE,
  ZIP64_EXTRA_ID,
  ZIP64_LOCATOR_SIGNATURE,
  ZIP64_LOCATOR_SIZE,
  ZIP64_MARKER_16,
  ZIP64_MARKER_32,
} from "./zip-records.ts";

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  mtime: Date;
}

export interface CentralDirectory {
  entries: ZipEntry[];
  /** Where the central directory starts: entry data must end before it. */
  offset: number;
}

const MAX_COMMENT = 0xffff;
const WINDOW = 1024 * 1024;

export async function readCentralDirectory(file: RandomAccessFile, label: string): Promise<CentralDirectory> {
  const corrupt = (message: string, hint?: string) =>
    new AirbackupError("ARCHIVE_CORRUPT", `${label}: ${message}`, { hint });
  if (file.size < EOCD_SIZE)
    throw corrupt(file.size === 0 ? "empty file, not a zip archive" : "not a zip archive (too short)");
  const tailStart = Math.max(0, file.size - EOCD_SIZE - MAX_COMMENT);
  const tail = await file.read(tailStart, file.size - tailStart);
  const eocdAt = findEocd(tail);
  if (eocdAt < 0) {
    const head = await file.read(0, 4);
    const looksZip = new DataView(head.buffer, head.byteOffset).getUint32(0, true) === LOCAL_FILE_HEADER_SIGNATURE;
    throw looksZip
      ? corrupt(
          "truncated or incomplete: no end-of-central-directory record",
          "the file was cut short, perhaps by an interrupted copy or download; use another copy of the archive",
        )
      : corrupt("not a zip archive (no end-of-central-directory record)");
  }
  const eocdOffset = tailStart + eocdAt;
  const eocd = view(tail, eocdAt);
  if (eocd.getUint16(4, true) !== 0 || eocd.getUint16(6, true) !== 0)
    throw corrupt("multi-disk zip archives are not supported");
  let count = eocd.getUint16(10, true);
  let cdSize = eocd.getUint32(12, true);
  let cdOffset = eocd.getUint32(16, true);
  let cdEnd = eocdOffset; // where the central directory must end

  const locatorOffset = eocdOffset - ZIP64_LOCATOR_SIZE;
  const locator = locatorOffset >= 0 ? view(await file.read(locatorOffset, ZIP64_LOCATOR_SIZE)) : undefined;
  if (locator && locator.getUint32(0, true) === ZIP64_LOCATOR_SIGNATURE) {
    const z64Offset = u64(locator, 8, corrupt);
    if (z64Offset + ZIP64_EOCD_SIZE > locatorOffset) throw corrupt("zip64 end record points outside the file");
    const z64 = view(await file.read(z64Offset, ZIP64_EOCD_SIZE));
    if (z64.getUint32(0, true) !== ZIP64_EOCD_SIGNATURE)
      throw corrupt("zip64 end-of-central-directory record is missing or damaged");
    count = u64(z64, 32, corrupt);
    cdSize = u64(z64, 40, corrupt);
    cdOffset = u64(z64, 48, corrupt);
    cdEnd = z64Offset;
  } else if (count === ZIP64_MARKER_16 || cdSize === ZIP64_MARKER_32 || cdOffset === ZIP64_MARKER_32) {
    throw corrupt("zip64 end-of-central-directory locator is missing");
  }
  if (cdOffset + cdSize !== cdEnd)
    throw corrupt(`central directory bounds do not match the file (offset ${cdOffset} + size ${cdSize} ≠ ${cdEnd})`);
  // A central record is at least 46 bytes: a count that cannot fit is a lie (and a way to exhaust memory).
  if (count * CENTRAL_DIRECTORY_HEADER_SIZE > cdSize)
    throw corrupt(`central directory claims ${count} entries in ${cdSize} bytes`);

  const entries: ZipEntry[] = [];
  const names = new Set<string>();
  let buf = new Uint8Array(0);
  let pos = 0;
  let fileAt = cdOffset;
  const need = async (n: number) => {
    if (buf.length - pos >= n) return;
    const want = Math.max(n - (buf.length - pos), Math.min(WINDOW, cdEnd - fileAt));
    if (fileAt + want > cdEnd) throw corrupt("central directory record runs past the end of the central directory");
    const more = await file.read(fileAt, want);
    fileAt += want;
    const next = new Uint8Array(buf.length - pos + more.length);
    next.set(buf.subarray(pos));
    next.set(more, buf.length - pos);
    buf = next;
    pos = 0;
  };
  for (let i = 0; i < count; i++) {
    await need(CENTRAL_DIRECTORY_HEADER_SIZE);
    const h = view(buf, pos);
    if (h.getUint32(0, true) !== CENTRAL_DIRECTORY_SIGNATURE)
      throw corrupt(`central directory record ${i + 1} of ${count} is damaged (bad signature)`);
    const nameLength = h.getUint16(28, true);
    const extraLength = h.getUint16(30, true);
    const commentLength = h.getUint16(32, true);
    await need(CENTRAL_DIRECTORY_HEADER_SIZE + nameLength + extraLength + commentLength);
    const r = view(buf, pos);
    const flags = r.getUint16(8, true);
    const nameBytes = buf.subarray(pos + 46, pos + 46 + nameLength);
    const name = decodeName(nameBytes, (flags & FLAG_UTF8) !== 0);
    const extra = buf.subarray(pos + 46 + nameLength, pos + 46 + nameLength + extraLength);
    const entry: ZipEntry = {
      name,
      flags,
      method: r.getUint16(10, true),
      mtime: fromDos(r.getUint16(12, true), r.getUint16(14, true)),
      crc32: r.getUint32(16, true),
      compressedSize: r.getUint32(20, true),
      size: r.getUint32(24, true),
      localHeaderOffset: r.getUint32(42, true),
    };
    if (r.getUint16(34, true) !== 0 && r.getUint16(34, true) !== ZIP64_MARKER_16)
      throw corrupt(`${JSON.stringify(name)}: multi-disk zip archives are not supported`);
    applyZip64Extra(entry, extra, corrupt);
    const reason = unsafeNameReason(name);
    if (reason)
      throw corrupt(
        `refusing entry ${JSON.stringify(name)}: ${reason}`,
        "this archive was not written by airbackup, or was tampered with",
      );
    if (names.has(name)) throw corrupt(`duplicate entry ${JSON.stringify(name)}`);
    names.add(name);
    entries.push(entry);
    pos += CENTRAL_DIRECTORY_HEADER_SIZE + nameLength + extraLength + commentLength;
  }
  if (fileAt - (buf.length - pos) !== cdEnd) throw corrupt("central directory has bytes after its last record");
  checkNoOverlap(entries, cdOffset, corrupt);
  return { entries, offset: cdOffset };
}

// --- internal ---

type Corrupt = (message: string, hint?: string) => AirbackupError;

function view(bytes: Uint8Array, at = 0): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset + at, bytes.length - at);
}

function u64(v: DataView, at: number, corrupt: Corrupt): number {
  const value = v.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt("a zip64 size or offset is impossibly large");
  return Number(value);
}

/** The EOCD is the last signature whose comment length reaches exactly the end of the file. */
function findEocd(tail: Uint8Array): number {
  const v = view(tail);
  for (let at = tail.length - EOCD_SIZE; at >= 0; at--) {
    if (v.getUint32(at, true) === EOCD_SIGNATURE && at + EOCD_SIZE + v.getUint16(at + 20, true) === tail.length)
      return at;
  }
  return -1;
}

/** 4.5.3: the zip64 extra field holds, in order, only the fields whose 32-bit value is the marker. */
function applyZip64Extra(entry: ZipEntry, extra: Uint8Array, corrupt: Corrupt): void {
  const wanted = (["size", "compressedSize", "localHeaderOffset"] as const).filter((k) => entry[k] === ZIP64_MARKER_32);
  if (wanted.length === 0) return;
  const v = view(extra);
  for (let at = 0; at + 4 <= extra.length; ) {
    const id = v.getUint16(at, true);
    const length = v.getUint16(at + 2, true);
    if (at + 4 + length > extra.length) break;
    if (id === ZIP64_EXTRA_ID) {
      if (length < wanted.length * 8) break;
      wanted.forEach((key, i) => {
        entry[key] = u64(v, at + 4 + 8 * i, corrupt);
      });
      return;
    }
    at += 4 + length;
  }
  throw corrupt(`${JSON.stringify(entry.name)}: zip64 extra field missing or too short`);
}

/** Entries must not share bytes (overlapping entries are the classic zip-bomb trick) and must end before the directory. */
function checkNoOverlap(entries: readonly ZipEntry[], cdOffset: number, corrupt: Corrupt): void {
  const sorted = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i]!;
    const minimumEnd =
      e.localHeaderOffset + LOCAL_FILE_HEADER_SIZE + new TextEncoder().encode(e.name).length + e.compressedSize;
    const limit = sorted[i + 1]?.localHeaderOffset ?? cdOffset;
    if (minimumEnd > limit)
      throw corrupt(
        `entry ${JSON.stringify(e.name)} overlaps ${sorted[i + 1] ? JSON.stringify(sorted[i + 1]!.name) : "the central directory"}`,
      );
  }
}

/** Decodes an entry name: UTF-8 when valid, else Latin-1 (close enough to CP437 for a listing). */
export function decodeName(bytes: Uint8Array, utf8Flag: boolean): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return utf8Flag ? new TextDecoder("utf-8").decode(bytes) : new TextDecoder("latin1").decode(bytes);
  }
}

function fromDos(time: number, date: number): Date {
  return new Date(
    Date.UTC(1980 + (date >> 9), ((date >> 5) & 15) - 1, date & 31, time >> 11, (time >> 5) & 63, (time & 31) * 2),
  );
}
