// The reader trusts nothing: truncated, damaged, hostile and non-zip files each get one clear error,
// from openZip/readEntry and from verifyArchive. It also reads what other tools write.
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { deflateSync } from "fflate";
import { crc32 } from "../../src/archive/crc32.ts";
import { OUT_CHUNK } from "../../src/archive/inflate.ts";
import { verifyArchive } from "../../src/archive/verify.ts";
import { openZip, type ZipEntry } from "../../src/archive/zip-reader.ts";
import {
  centralDirectoryHeader,
  dataDescriptor,
  dosDateTime,
  endOfCentralDirectory,
  localFileHeader,
} from "../../src/archive/zip-records.ts";
import { AirbackupError } from "../../src/errors.ts";
import { requireTool, skipWithout } from "../support/tools.ts";
import { sha256Hex } from "../support/zip-oracles.ts";
import { randomBytes, tempDir, writeZip } from "./helpers.ts";

/** Reads every entry fully; returns name -> sha256. */
async function readAll(path: string): Promise<Map<string, string>> {
  const zip = await openZip(path);
  try {
    const out = new Map<string, string>();
    for (const entry of zip.entries) {
      const hash = new Bun.CryptoHasher("sha256");
      for await (const chunk of zip.readEntry(entry)) hash.update(chunk);
      out.set(entry.name, hash.digest("hex"));
    }
    return out;
  } finally {
    await zip.close();
  }
}

async function corruptError(path: string): Promise<string> {
  try {
    await readAll(path);
  } catch (error) {
    expect(error).toBeInstanceOf(AirbackupError);
    expect((error as AirbackupError).code).toBe("ARCHIVE_CORRUPT");
    return (error as Error).message;
  }
  throw new Error(`expected ${path} to be refused`);
}

/** A one-entry zip built from raw records, so tests can lie in any field. */
function rawZip(o: { name: string; data: Uint8Array; method: 0 | 8; size: number; crc?: number }): Uint8Array {
  const name = new TextEncoder().encode(o.name);
  const { dosTime, dosDate } = dosDateTime(new Date("2024-01-01T00:00:00Z"));
  const crc = o.crc ?? 0;
  const local = localFileHeader({
    name,
    method: o.method,
    dosTime,
    dosDate,
    extra: new Uint8Array(0),
    versionNeeded: 20,
  });
  const descriptor = dataDescriptor(crc, o.data.length, o.size, false);
  const cdOffset = local.length + o.data.length + descriptor.length;
  const central = centralDirectoryHeader({
    name,
    method: o.method,
    dosTime,
    dosDate,
    crc,
    compressedSize: o.data.length,
    size: o.size,
    localHeaderOffset: 0,
    zip64: false,
    versionNeeded: 20,
    extra: new Uint8Array(0),
  });
  const end = endOfCentralDirectory({
    entries: 1,
    centralDirectorySize: central.length,
    centralDirectoryOffset: cdOffset,
  });
  return Buffer.concat([local, o.data, descriptor, central, end]);
}

const text = JSON.stringify({ records: Array.from({ length: 500 }, (_, i) => ({ id: i, name: `row ${i}` })) });

describe("reads what other tools write", () => {
  test.skipIf(skipWithout("zip", "python3"))("Info-ZIP zip -6 and Python's zipfile (forced zip64)", async () => {
    requireTool("zip");
    requireTool("python3");
    using dir = tempDir();
    writeFileSync(dir.file("data.json"), text);
    writeFileSync(dir.file("empty"), "");
    const zip = Bun.spawnSync(["zip", "-q", "-6", "-X", dir.file("info.zip"), "data.json", "empty"], { cwd: dir.path });
    expect(zip.exitCode).toBe(0);
    expect(await readAll(dir.file("info.zip"))).toEqual(
      new Map([
        ["data.json", sha256Hex(text)],
        ["empty", sha256Hex("")],
      ]),
    );
    const py = Bun.spawnSync([
      "python3",
      "-c",
      "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED)\nwith z.open('a/b.json', 'w', force_zip64=True) as f: f.write(sys.argv[2].encode())\nz.close()",
      dir.file("py.zip"),
      text,
    ]);
    expect(py.exitCode).toBe(0);
    expect(await readAll(dir.file("py.zip"))).toEqual(new Map([["a/b.json", sha256Hex(text)]]));
  });
});

describe("copies without a buffer per chunk", () => {
  test("a stored entry read `into` a buffer comes as views of it, same bytes; a deflated one ignores it", async () => {
    using dir = tempDir();
    const path = dir.file("copy.zip");
    const stored = randomBytes(700_000);
    await writeZip(path, [
      ["file.bin", stored, { compress: false }],
      ["table.jsonl", text, { compress: true }],
    ]);
    await using zip = await openZip(path);
    const into = new Uint8Array(64 * 1024);
    const hash = new Bun.CryptoHasher("sha256");
    let chunks = 0;
    for await (const chunk of zip.readEntry(zip.entry("file.bin")!, { into })) {
      expect(chunk.buffer).toBe(into.buffer); // no new buffer: a 300 MB copy allocates 64 KB, not 300 MB
      hash.update(chunk);
      chunks++;
    }
    expect(chunks).toBe(Math.ceil(700_000 / into.length));
    expect(hash.digest("hex")).toBe(sha256Hex(stored));
    let inflated = "";
    for await (const chunk of zip.readEntry(zip.entry("table.jsonl")!, { into })) {
      expect(chunk.buffer).not.toBe(into.buffer); // the inflater may still hold its input
      inflated += new TextDecoder().decode(chunk, { stream: true });
    }
    expect(inflated).toBe(text);
  });
});

describe("refuses damaged and hostile input with a clear error", () => {
  async function sample(dir: { file(n: string): string }): Promise<Uint8Array> {
    await writeZip(dir.file("good.zip"), [
      ["a.json", text],
      ["b.bin", new Uint8Array(3000).map((_, i) => (i * 7919) % 251), { compress: false }],
    ]);
    return Bun.file(dir.file("good.zip")).bytes();
  }

  test("truncation at several points", async () => {
    using dir = tempDir();
    const good = await sample(dir);
    const cdStart =
      good.length - 22 - (good.length - Buffer.from(good).lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]))) + 22;
    for (const length of [0, 3, 30, Math.floor(good.length / 2), cdStart, good.length - 23, good.length - 1]) {
      writeFileSync(dir.file("cut.zip"), good.subarray(0, length));
      const message = await corruptError(dir.file("cut.zip"));
      expect(message).toMatch(
        length === 0 ? /empty file/ : length === 3 ? /not a zip archive/ : /truncated|incomplete|central directory/,
      );
      const report = await verifyArchive(dir.file("cut.zip"));
      expect(report.ok).toBe(false);
      expect(report.problems[0]).toStartWith(message);
    }
  });

  test("a flipped byte in deflated data, in stored data, and in the central directory", async () => {
    using dir = tempDir();
    const good = await sample(dir);
    const cd = Buffer.from(good).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    const flips: [at: number, expected: RegExp][] = [
      [60, /a\.json: (deflate data is damaged|CRC-32 mismatch|is \d+ bytes)/], // inside a.json's deflate stream
      [cd - 16 - 100, /b\.bin: CRC-32 mismatch/], // inside b.bin, stored
      [cd + 1, /central directory record 1 of 2 is damaged/], // a central directory signature
      [cd + 16, /a\.json: CRC-32 mismatch/], // the crc-32 recorded in the directory
      [cd + 46, /local header names a different file/], // first byte of the name in the directory
    ];
    for (const [at, expected] of flips) {
      const bad = good.slice();
      bad[at]! ^= 0x55;
      writeFileSync(dir.file("bad.zip"), bad);
      expect(await corruptError(dir.file("bad.zip"))).toMatch(expected);
      const report = await verifyArchive(dir.file("bad.zip"));
      expect(report.ok).toBe(false);
      expect(report.problems.join("\n")).toMatch(expected);
    }
  });

  for (const name of ["../evil.txt", "a/../../evil.txt", "/etc/cron.d/evil", "a\\..\\evil.txt", "C:/evil.txt"]) {
    test(`an entry named ${JSON.stringify(name)}`, async () => {
      using dir = tempDir();
      const data = new TextEncoder().encode("pwned");
      writeFileSync(dir.file("evil.zip"), rawZip({ name, data, method: 0, size: 5, crc: crc32(data, 0) }));
      const message = await corruptError(dir.file("evil.zip"));
      expect(message).toContain(`refusing entry ${JSON.stringify(name)}`);
      expect((await verifyArchive(dir.file("evil.zip"))).problems[0]).toStartWith(message);
    });
  }

  test("an absurd compression ratio: 10 MB of zeros declared as 1,000 bytes", async () => {
    using dir = tempDir();
    const real = new Uint8Array(10 * 1024 * 1024);
    writeFileSync(
      dir.file("bomb.zip"),
      rawZip({ name: "bomb.bin", data: deflateSync(real), method: 8, size: 1000, crc: crc32(real, 0) }),
    );
    const zip = await openZip(dir.file("bomb.zip"));
    let produced = 0;
    const reading = (async () => {
      for await (const chunk of zip.readEntry(zip.entries[0]!)) produced += chunk.length;
    })();
    await expect(reading).rejects.toThrow(/inflates beyond its declared size of 1000 bytes .*zip bomb/);
    expect(produced).toBeLessThanOrEqual(1000); // nothing past the declared size is handed out
    await zip.close();
    expect((await verifyArchive(dir.file("bomb.zip"))).problems.join("\n")).toMatch(/zip bomb/);
  });

  test("inflating (node:zlib) hands out bounded pieces, as they are taken; stopping early ends it", async () => {
    using dir = tempDir();
    const real = new Uint8Array(64 * 1024 * 1024);
    real.fill(7, 1000, 2000);
    const data = deflateSync(real);
    writeFileSync(
      dir.file("zeros.zip"),
      rawZip({ name: "zeros.bin", data, method: 8, size: real.length, crc: crc32(real, 0) }),
    );
    const zip = await openZip(dir.file("zeros.zip"));
    let largest = 0;
    let total = 0;
    for await (const chunk of zip.readEntry(zip.entries[0]!)) {
      largest = Math.max(largest, chunk.length);
      total += chunk.length;
    }
    expect(total).toBe(real.length);
    expect(largest).toBeLessThanOrEqual(OUT_CHUNK);
    let pieces = 0;
    for await (const _ of zip.readEntry(zip.entries[0]!)) if (++pieces === 2) break;
    expect(pieces).toBe(2);
    // damaged deflate data after a good start: refused as damaged, not hung
    const broken = data.slice();
    broken.fill(0xff, 40, 80);
    writeFileSync(
      dir.file("broken.zip"),
      rawZip({ name: "b.bin", data: broken, method: 8, size: real.length, crc: crc32(real, 0) }),
    );
    const bad = await openZip(dir.file("broken.zip"));
    await expect(
      (async () => {
        for await (const _ of bad.readEntry(bad.entries[0]!));
      })(),
    ).rejects.toThrow(/b\.bin: (deflate data is damaged|CRC-32 mismatch|is \d+ bytes)/);
    await Promise.all([zip.close(), bad.close()]);
  });

  test("an entry whose data reaches into the next entry (a longer local extra field, consistent CRC) is refused", async () => {
    using dir = tempDir();
    await writeZip(dir.file("good.zip"), [
      ["a.bin", new Uint8Array(200).map((_, i) => i), { compress: false }],
      ["b.bin", new Uint8Array(200).map((_, i) => 255 - i), { compress: false }],
    ]);
    const bad = (await Bun.file(dir.file("good.zip")).bytes()).slice();
    const v = new DataView(bad.buffer);
    const zip = await openZip(dir.file("good.zip"));
    const [a, b] = zip.entries as [ZipEntry, ZipEntry];
    await zip.close();
    expect(a.localHeaderOffset).toBe(0);
    // Claim 20 more bytes of local extra field: a.bin's 200 bytes now start 20 later and run past the
    // data descriptor into b.bin's local header. The central directory (sizes, offsets) is untouched, and
    // its CRC is made to match the bytes now read, so only the bound on the entry can catch it.
    const extra = v.getUint16(28, true) + 20;
    v.setUint16(28, extra, true);
    const dataStart = 30 + v.getUint16(26, true) + extra;
    expect(dataStart + a.compressedSize).toBeGreaterThan(b.localHeaderOffset);
    const cd = Buffer.from(bad).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    v.setUint32(cd + 16, crc32(bad.subarray(dataStart, dataStart + a.compressedSize), 0) >>> 0, true);
    writeFileSync(dir.file("bad.zip"), bad);
    const expected = /a\.bin: data runs into the next entry, "b\.bin"/;
    expect(await corruptError(dir.file("bad.zip"))).toMatch(expected);
    const report = await verifyArchive(dir.file("bad.zip"));
    expect(report.ok).toBe(false);
    expect(report.problems.join("\n")).toMatch(expected);
  });

  test("files that are not zips", async () => {
    using dir = tempDir();
    writeFileSync(dir.file("notes.txt"), "hello, this is not a zip file at all\n".repeat(10));
    writeFileSync(
      dir.file("image.png"),
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Uint8Array(100)]),
    );
    writeFileSync(dir.file("empty.zip"), "");
    for (const [file, expected] of [
      ["notes.txt", /not a zip archive/],
      ["image.png", /not a zip archive/],
      ["empty.zip", /empty file/],
    ] as const) {
      expect(await corruptError(dir.file(file))).toMatch(expected);
      expect((await verifyArchive(dir.file(file))).problems[0]).toMatch(expected);
    }
    mkdirSync(dir.file("folder.zip"));
    expect((await verifyArchive(dir.file("folder.zip"))).problems[0]).toMatch(/is a directory/);
    expect((await verifyArchive(dir.file("missing.zip"))).problems[0]).toMatch(/no such file/);
    writeFileSync(dir.file("locked.zip"), "x");
    chmodSync(dir.file("locked.zip"), 0);
    if (process.getuid?.() !== 0) expect((await verifyArchive(dir.file("locked.zip"))).ok).toBe(false);
  });
});
