// Pure encoders, one per APPNOTE record (PKWARE APPNOTE.TXT 6.3.x), all little-endian, returning bytes.
// Sizes and offsets are plain numbers (exact to 2^53); BigInt appears only inside setBigUint64.

export const LOCAL_FILE_HEADER_SIGNATURE = 0x04034b50; // 4.3.7
export const DATA_DESCRIPTOR_SIGNATURE = 0x08074b50; // 4.3.9.3
export const CENTRAL_DIRECTORY_SIGNATURE = 0x02014b50; // 4.3.12
export const ZIP64_EOCD_SIGNATURE = 0x06064b50; // 4.3.14
export const ZIP64_LOCATOR_SIGNATURE = 0x07064b50; // 4.3.15
export const EOCD_SIGNATURE = 0x06054b50; // 4.3.16
export const ZIP64_EXTRA_ID = 0x0001; // 4.5.3
export const EXTENDED_TIMESTAMP_EXTRA_ID = 0x5455; // Info-ZIP "UT" extra field (APPNOTE 4.6.1 lists it)

export const FLAG_DATA_DESCRIPTOR = 1 << 3; // 4.4.4 bit 3: crc-32 and sizes follow the data
export const FLAG_UTF8 = 1 << 11; // 4.4.4 bit 11: name is UTF-8
export const FLAG_ENCRYPTED = 1 << 0; // 4.4.4 bit 0

export const METHOD_STORED = 0; // 4.4.5
export const METHOD_DEFLATE = 8; // 4.4.5

export const VERSION_NEEDED_DEFAULT = 20; // 4.4.3.2: 2.0 for deflate
export const VERSION_NEEDED_ZIP64 = 45; // 4.4.3.2: 4.5 for zip64
export const VERSION_MADE_BY = (3 << 8) | 45; // 4.4.2: upper byte 3 = UNIX (so external attributes hold a mode), spec 4.5
export const EXTERNAL_ATTRIBUTES_FILE = (0o100600 << 16) >>> 0; // 4.4.15: regular file, rw------- (backups are private)

/** 0xFFFFFFFF / 0xFFFF mean "see the zip64 record" (4.4.8, 4.4.1.4). */
export const ZIP64_MARKER_32 = 0xffffffff;
export const ZIP64_MARKER_16 = 0xffff;

export const LOCAL_FILE_HEADER_SIZE = 30;
export const CENTRAL_DIRECTORY_HEADER_SIZE = 46;
export const EOCD_SIZE = 22;
export const ZIP64_EOCD_SIZE = 56;
export const ZIP64_LOCATOR_SIZE = 20;

export interface LocalFileHeaderFields {
  name: Uint8Array; // UTF-8
  method: number;
  dosTime: number;
  dosDate: number;
  /** Local extra fields, already encoded (zip64 and/or UT). */
  extra: Uint8Array;
  versionNeeded: number;
}

/** 4.3.7 local file header; crc and sizes are zero because bit 3 puts them in the data descriptor. */
export function localFileHeader(f: LocalFileHeaderFields): Uint8Array {
  const bytes = new Uint8Array(LOCAL_FILE_HEADER_SIZE + f.name.length + f.extra.length);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, LOCAL_FILE_HEADER_SIGNATURE, true); // local file header signature  4 bytes
  v.setUint16(4, f.versionNeeded, true); // version needed to extract  2 bytes
  v.setUint16(6, FLAG_DATA_DESCRIPTOR | FLAG_UTF8, true); // general purpose bit flag  2 bytes
  v.setUint16(8, f.method, true); // compression method  2 bytes
  v.setUint16(10, f.dosTime, true); // last mod file time  2 bytes
  v.setUint16(12, f.dosDate, true); // last mod file date  2 bytes
  v.setUint32(14, 0, true); // crc-32  4 bytes: in the data descriptor (bit 3)
  v.setUint32(18, 0, true); // compressed size  4 bytes: in the data descriptor
  v.setUint32(22, 0, true); // uncompressed size  4 bytes: in the data descriptor
  v.setUint16(26, f.name.length, true); // file name length  2 bytes
  v.setUint16(28, f.extra.length, true); // extra field length  2 bytes
  bytes.set(f.name, 30); // file name (variable size)
  bytes.set(f.extra, 30 + f.name.length); // extra field (variable size)
  return bytes;
}

/** 4.3.9 data descriptor, always with its optional signature (Archive Utility needs it, per yazl); 24 bytes when zip64. */
export function dataDescriptor(crc: number, compressedSize: number, size: number, zip64: boolean): Uint8Array {
  const bytes = new Uint8Array(zip64 ? 24 : 16);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, DATA_DESCRIPTOR_SIGNATURE, true); // signature  4 bytes (optional in APPNOTE, always written)
  v.setUint32(4, crc, true); // crc-32  4 bytes
  if (zip64) {
    v.setBigUint64(8, BigInt(compressedSize), true); // compressed size  8 bytes (4.3.9.2)
    v.setBigUint64(16, BigInt(size), true); // uncompressed size  8 bytes
  } else {
    v.setUint32(8, compressedSize, true); // compressed size  4 bytes
    v.setUint32(12, size, true); // uncompressed size  4 bytes
  }
  return bytes;
}

export interface CentralDirectoryFields {
  name: Uint8Array;
  method: number;
  dosTime: number;
  dosDate: number;
  crc: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  /** yazl's rule: when true, all three of sizes and offset are 0xFFFFFFFF and live in the zip64 extra field. */
  zip64: boolean;
  versionNeeded: number;
  /** Extra fields other than zip64 (encoded), e.g. UT. */
  extra: Uint8Array;
}

/** 4.3.12 central directory file header. */
export function centralDirectoryHeader(f: CentralDirectoryFields): Uint8Array {
  const zip64Extra = f.zip64 ? zip64ExtraField([f.size, f.compressedSize, f.localHeaderOffset]) : new Uint8Array(0);
  const extraLength = zip64Extra.length + f.extra.length;
  const bytes = new Uint8Array(CENTRAL_DIRECTORY_HEADER_SIZE + f.name.length + extraLength);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, CENTRAL_DIRECTORY_SIGNATURE, true); // central file header signature  4 bytes
  v.setUint16(4, VERSION_MADE_BY, true); // version made by  2 bytes
  v.setUint16(6, f.versionNeeded, true); // version needed to extract  2 bytes
  v.setUint16(8, FLAG_DATA_DESCRIPTOR | FLAG_UTF8, true); // general purpose bit flag  2 bytes
  v.setUint16(10, f.method, true); // compression method  2 bytes
  v.setUint16(12, f.dosTime, true); // last mod file time  2 bytes
  v.setUint16(14, f.dosDate, true); // last mod file date  2 bytes
  v.setUint32(16, f.crc, true); // crc-32  4 bytes
  v.setUint32(20, f.zip64 ? ZIP64_MARKER_32 : f.compressedSize, true); // compressed size  4 bytes
  v.setUint32(24, f.zip64 ? ZIP64_MARKER_32 : f.size, true); // uncompressed size  4 bytes
  v.setUint16(28, f.name.length, true); // file name length  2 bytes
  v.setUint16(30, extraLength, true); // extra field length  2 bytes
  v.setUint16(32, 0, true); // file comment length  2 bytes
  v.setUint16(34, 0, true); // disk number start  2 bytes
  v.setUint16(36, 0, true); // internal file attributes  2 bytes
  v.setUint32(38, EXTERNAL_ATTRIBUTES_FILE, true); // external file attributes  4 bytes
  v.setUint32(42, f.zip64 ? ZIP64_MARKER_32 : f.localHeaderOffset, true); // relative offset of local header  4 bytes
  bytes.set(f.name, 46); // file name (variable size)
  bytes.set(zip64Extra, 46 + f.name.length); // extra field (variable size): zip64 first
  bytes.set(f.extra, 46 + f.name.length + zip64Extra.length);
  return bytes;
}

/**
 * 4.5.3 zip64 extended information extra field: 8-byte values in the order
 * uncompressed size, compressed size, local header offset (only those given).
 */
export function zip64ExtraField(values: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(4 + 8 * values.length);
  const v = new DataView(bytes.buffer);
  v.setUint16(0, ZIP64_EXTRA_ID, true); // header id 0x0001  2 bytes
  v.setUint16(2, 8 * values.length, true); // size of this extra block  2 bytes
  values.forEach((value, i) => {
    v.setBigUint64(4 + 8 * i, BigInt(value), true); // 8 bytes each
  });
  return bytes;
}

/** Info-ZIP extended timestamp ("UT"), modification time only: seconds since 1970, UTC. */
export function extendedTimestampExtraField(mtime: Date): Uint8Array {
  const bytes = new Uint8Array(9);
  const v = new DataView(bytes.buffer);
  v.setUint16(0, EXTENDED_TIMESTAMP_EXTRA_ID, true); // header id "UT"  2 bytes
  v.setUint16(2, 5, true); // data size  2 bytes
  v.setUint8(4, 1); // flags  1 byte: bit 0 = modification time present
  v.setUint32(5, clampUint32(Math.floor(mtime.getTime() / 1000)), true); // mtime  4 bytes
  return bytes;
}

export interface EndOfCentralDirectoryFields {
  entries: number;
  centralDirectorySize: number;
  centralDirectoryOffset: number;
}

/** 4.3.14 zip64 end of central directory record (version 1, no extensible data). */
export function zip64EndOfCentralDirectory(f: EndOfCentralDirectoryFields): Uint8Array {
  const bytes = new Uint8Array(ZIP64_EOCD_SIZE);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, ZIP64_EOCD_SIGNATURE, true); // zip64 end of central dir signature  4 bytes
  v.setBigUint64(4, BigInt(ZIP64_EOCD_SIZE - 12), true); // size of zip64 end of central directory record  8 bytes
  v.setUint16(12, VERSION_MADE_BY, true); // version made by  2 bytes
  v.setUint16(14, VERSION_NEEDED_ZIP64, true); // version needed to extract  2 bytes
  v.setUint32(16, 0, true); // number of this disk  4 bytes
  v.setUint32(20, 0, true); // disk with the start of the central directory  4 bytes
  v.setBigUint64(24, BigInt(f.entries), true); // entries in the central directory on this disk  8 bytes
  v.setBigUint64(32, BigInt(f.entries), true); // total entries in the central directory  8 bytes
  v.setBigUint64(40, BigInt(f.centralDirectorySize), true); // size of the central directory  8 bytes
  v.setBigUint64(48, BigInt(f.centralDirectoryOffset), true); // offset of start of central directory  8 bytes
  return bytes;
}

/** 4.3.15 zip64 end of central directory locator. */
export function zip64Locator(zip64EocdOffset: number): Uint8Array {
  const bytes = new Uint8Array(ZIP64_LOCATOR_SIZE);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, ZIP64_LOCATOR_SIGNATURE, true); // zip64 end of central dir locator signature  4 bytes
  v.setUint32(4, 0, true); // disk with the start of the zip64 end of central directory  4 bytes
  v.setBigUint64(8, BigInt(zip64EocdOffset), true); // relative offset of the zip64 end of central directory  8 bytes
  v.setUint32(16, 1, true); // total number of disks  4 bytes
  return bytes;
}

/** 4.3.16 end of central directory record; fields that overflow carry the 0xFFFF/0xFFFFFFFF marker. */
export function endOfCentralDirectory(f: EndOfCentralDirectoryFields, forceMarkers = false): Uint8Array {
  const entries = forceMarkers || f.entries >= ZIP64_MARKER_16 ? ZIP64_MARKER_16 : f.entries;
  const size = forceMarkers || f.centralDirectorySize >= ZIP64_MARKER_32 ? ZIP64_MARKER_32 : f.centralDirectorySize;
  const offset =
    forceMarkers || f.centralDirectoryOffset >= ZIP64_MARKER_32 ? ZIP64_MARKER_32 : f.centralDirectoryOffset;
  const bytes = new Uint8Array(EOCD_SIZE);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, EOCD_SIGNATURE, true); // end of central dir signature  4 bytes
  v.setUint16(4, 0, true); // number of this disk  2 bytes
  v.setUint16(6, 0, true); // disk with the start of the central directory  2 bytes
  v.setUint16(8, entries, true); // entries in the central directory on this disk  2 bytes
  v.setUint16(10, entries, true); // total entries in the central directory  2 bytes
  v.setUint32(12, size, true); // size of the central directory  4 bytes
  v.setUint32(16, offset, true); // offset of start of central directory  4 bytes
  v.setUint16(20, 0, true); // .ZIP file comment length  2 bytes: no comment
  return bytes;
}

/** 4.4.6 MS-DOS date and time, taken in UTC so the same `now` gives the same bytes on every machine. */
export function dosDateTime(date: Date): { dosTime: number; dosDate: number } {
  const year = Math.min(Math.max(date.getUTCFullYear(), 1980), 2107);
  const clamped = year !== date.getUTCFullYear();
  const dosDate =
    ((year - 1980) << 9) | ((clamped ? 1 : date.getUTCMonth() + 1) << 5) | (clamped ? 1 : date.getUTCDate());
  const dosTime = clamped ? 0 : (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | (date.getUTCSeconds() >> 1);
  return { dosTime, dosDate };
}

// --- internal ---

function clampUint32(value: number): number {
  return Math.min(Math.max(value, 0), ZIP64_MARKER_32);
}
