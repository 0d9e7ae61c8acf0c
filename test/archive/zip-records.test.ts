// Golden bytes for each APPNOTE encoder, written out by hand from the spec's field tables.
import { describe, expect, test } from "bun:test";
import { crc32 } from "../../src/archive/crc32.ts";
import {
  centralDirectoryHeader,
  dataDescriptor,
  dosDateTime,
  endOfCentralDirectory,
  extendedTimestampExtraField,
  localFileHeader,
  zip64EndOfCentralDirectory,
  zip64ExtraField,
  zip64Locator,
} from "../../src/archive/zip-records.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const clean = (spaced: string) => spaced.replace(/\s+/g, "");
const name = new TextEncoder().encode("a.txt"); // 61 2e 74 78 74
const at = new Date("2024-05-06T07:08:09Z");

describe("crc32", () => {
  test("matches node's zlib.crc32 for 'hello' (907060870)", () => {
    expect(crc32("hello", 0)).toBe(907060870);
  });
  test("continues across chunks from an explicit seed", () => {
    const bytes = new TextEncoder().encode("hello world");
    expect(crc32(bytes.subarray(5), crc32(bytes.subarray(0, 5), 0))).toBe(crc32(bytes, 0));
  });
});

describe("dosDateTime", () => {
  test("2024-05-06 07:08:09 UTC: time 0x3904 (seconds halved), date 0x58a6", () => {
    expect(dosDateTime(at)).toEqual({ dosTime: 0x3904, dosDate: 0x58a6 });
  });
  test("dates before 1980 clamp to 1980-01-01 00:00", () => {
    expect(dosDateTime(new Date("1970-01-01T00:00:00Z"))).toEqual({ dosTime: 0, dosDate: (0 << 9) | (1 << 5) | 1 });
  });
});

describe("encoders", () => {
  const { dosTime, dosDate } = dosDateTime(at);

  test("local file header: bits 3 and 11, deflate, zero crc and sizes", () => {
    const bytes = localFileHeader({ name, method: 8, dosTime, dosDate, extra: new Uint8Array(0), versionNeeded: 20 });
    expect(hex(bytes)).toBe(clean("504b0304 1400 0808 0800 0439 a658 00000000 00000000 00000000 0500 0000 612e747874"));
  });

  test("local file header with a zip64 extra field of zero sizes", () => {
    const bytes = localFileHeader({
      name,
      method: 0,
      dosTime,
      dosDate,
      extra: zip64ExtraField([0, 0]),
      versionNeeded: 45,
    });
    expect(hex(bytes)).toBe(
      clean(
        "504b0304 2d00 0808 0000 0439 a658 00000000 00000000 00000000 0500 1400 612e747874 0100 1000 0000000000000000 0000000000000000",
      ),
    );
  });

  test("data descriptor: 16 bytes, or 24 with 8-byte sizes", () => {
    expect(hex(dataDescriptor(0x12345678, 100, 200, false))).toBe(clean("504b0708 78563412 64000000 c8000000"));
    expect(hex(dataDescriptor(0x12345678, 100, 0x1_0000_0000, true))).toBe(
      clean("504b0708 78563412 6400000000000000 0000000001000000"),
    );
  });

  test("central directory header: unix, version 4.5 made by, mode 0100600", () => {
    const bytes = centralDirectoryHeader({
      name,
      method: 8,
      dosTime,
      dosDate,
      crc: 0x12345678,
      compressedSize: 100,
      size: 200,
      localHeaderOffset: 0x10,
      zip64: false,
      versionNeeded: 20,
      extra: new Uint8Array(0),
    });
    expect(hex(bytes)).toBe(
      clean(
        "504b0102 2d03 1400 0808 0800 0439 a658 78563412 64000000 c8000000 0500 0000 0000 0000 0000 00008081 10000000 612e747874",
      ),
    );
  });

  test("central directory header, zip64: all three fields marked and a 28-byte extra field", () => {
    const bytes = centralDirectoryHeader({
      name,
      method: 0,
      dosTime,
      dosDate,
      crc: 1,
      compressedSize: 5,
      size: 5,
      localHeaderOffset: 0x1_0000_0000,
      zip64: true,
      versionNeeded: 45,
      extra: new Uint8Array(0),
    });
    expect(hex(bytes)).toBe(
      clean(
        "504b0102 2d03 2d00 0808 0000 0439 a658 01000000 ffffffff ffffffff 0500 1c00 0000 0000 0000 00008081 ffffffff 612e747874" +
          "0100 1800 0500000000000000 0500000000000000 0000000001000000",
      ),
    );
  });

  test("extended timestamp (UT) extra field: mtime in unix seconds", () => {
    expect(hex(extendedTimestampExtraField(at))).toBe(clean("5554 0500 01 d9813866"));
  });

  test("zip64 end of central directory record and locator", () => {
    expect(
      hex(zip64EndOfCentralDirectory({ entries: 3, centralDirectorySize: 150, centralDirectoryOffset: 1000 })),
    ).toBe(
      clean(
        "504b0606 2c00000000000000 2d03 2d00 00000000 00000000 0300000000000000 0300000000000000 9600000000000000 e803000000000000",
      ),
    );
    expect(hex(zip64Locator(5000))).toBe(clean("504b0607 00000000 8813000000000000 01000000"));
  });

  test("end of central directory: plain, overflowing count, and forced markers", () => {
    expect(hex(endOfCentralDirectory({ entries: 3, centralDirectorySize: 150, centralDirectoryOffset: 1000 }))).toBe(
      clean("504b0506 0000 0000 0300 0300 96000000 e8030000 0000"),
    );
    expect(
      hex(endOfCentralDirectory({ entries: 70000, centralDirectorySize: 150, centralDirectoryOffset: 1000 })),
    ).toBe(clean("504b0506 0000 0000 ffff ffff 96000000 e8030000 0000"));
    expect(
      hex(endOfCentralDirectory({ entries: 3, centralDirectorySize: 150, centralDirectoryOffset: 1000 }, true)),
    ).toBe(clean("504b0506 0000 0000 ffff ffff ffffffff ffffffff 0000"));
  });
});
