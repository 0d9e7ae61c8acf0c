// The streaming writer's output, read back by yauzl, unzip -t, Python's zipfile, bsdtar and 7-Zip.
import { describe, expect, test } from "bun:test";
import { shouldDeflate } from "../../src/archive/compressibility.ts";
import { openZip } from "../../src/archive/zip-reader.ts";
import { createZipWriter } from "../../src/archive/zip-writer.ts";
import { skipWithout, ZIP_READERS } from "../support/tools.ts";
import {
  checkWithAllReaders,
  hashStreamWithBsdtar,
  hashWithBsdtar,
  listWithBsdtar,
  listWithYauzl,
  readWithPython,
  readWithYauzl,
  sha256Hex,
  testWith7z,
  testWithUnzip,
} from "../support/zip-oracles.ts";
import { chunked, type EntrySpec, randomBytes, tempDir, writeZip } from "./helpers.ts";

const json = Array.from({ length: 2000 }, (_, i) =>
  JSON.stringify({ id: `rec${i}`, fields: { Name: `Row ${i}`, Notes: "lorem ipsum ".repeat(5) } }),
).join("\n");
const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Uint8Array(5000).fill(7)]);

function sampleEntries(): EntrySpec[] {
  return [
    ["tables/tbl1.jsonl", chunked(json, 1000)],
    ["empty.txt", ""],
    ["empty-stream.jsonl", chunked("", 10)],
    ["ünïcødé/日本語 ファイル.json", '{"ok":true}'],
    ["attachments/photo.png", png],
    ["random.bin", randomBytes(100_000)],
    ["forced-store.json", json, { compress: false }],
  ];
}

async function expectReadable(path: string, entries: EntrySpec[]) {
  const listing = await checkWithAllReaders(path);
  expect([...listing.keys()]).toEqual(entries.map(([name]) => name));
  // A streaming reader relies on the local headers' zip64 announcement to size each data descriptor.
  const all = new Bun.CryptoHasher("sha256");
  for (const [name, data] of entries) {
    if (typeof data === "string" || data instanceof Uint8Array) all.update(data);
    else all.update(await readEntryBytes(path, name)); // streamed inputs are consumed: take our reader's bytes (checked against yauzl above)
  }
  expect(hashStreamWithBsdtar(path)).toBe(all.digest("hex"));
  const zip = await openZip(path);
  for (const entry of zip.entries) {
    const hash = new Bun.CryptoHasher("sha256");
    for await (const chunk of zip.readEntry(entry)) hash.update(chunk);
    expect(hash.digest("hex")).toBe(listing.get(entry.name)!);
  }
  await zip.close();
  return listing;
}

async function readEntryBytes(path: string, name: string): Promise<Uint8Array> {
  const zip = await openZip(path);
  const parts: Uint8Array[] = [];
  for await (const chunk of zip.readEntry(zip.entry(name)!)) parts.push(chunk);
  await zip.close();
  return Buffer.concat(parts);
}

describe("zip writer round trips through independent readers", () => {
  test("an archive with no entries", async () => {
    using dir = tempDir();
    await writeZip(dir.file("empty.zip"), []);
    expect(await readWithYauzl(dir.file("empty.zip"))).toEqual(new Map());
    expect((await Bun.file(dir.file("empty.zip")).bytes()).length).toBe(22);
    // unzip and 7z treat an empty zip as a warning, python and our reader as fine
    const zip = await openZip(dir.file("empty.zip"));
    expect(zip.entries).toHaveLength(0);
    await zip.close();
  });

  test.skipIf(skipWithout(...ZIP_READERS))(
    "unicode names, 0-byte files, deflated and stored entries, streamed and whole",
    async () => {
      using dir = tempDir();
      const entries = sampleEntries();
      const results = await writeZip(dir.file("a.zip"), entries);
      const listing = await expectReadable(dir.file("a.zip"), entries);
      expect(listing.get("tables/tbl1.jsonl")).toBe(sha256Hex(json));
      expect(results[0]!.sha256).toBe(sha256Hex(json));
      expect(results[0]!.compressedSize).toBeLessThan(results[0]!.size / 4); // JSON deflated
      expect(results[1]).toMatchObject({ size: 0, compressedSize: 0, crc32: 0 });
      expect(results[4]!.compressedSize).toBe(png.length); // PNG stored by magic number
      expect(results[5]!.compressedSize).toBe(100_000); // random bytes stored by the entropy probe
      expect(results[6]!.compressedSize).toBe(json.length); // compress: false
      const zip = await openZip(dir.file("a.zip"));
      expect(zip.entries.map((e) => e.method)).toEqual([8, 0, 0, 8, 0, 0, 0]);
      await zip.close();
    },
  );

  test.skipIf(skipWithout(...ZIP_READERS))(
    "forceZip64: every record in zip64 form, still read by every tool",
    async () => {
      using dir = tempDir();
      const entries = sampleEntries();
      await writeZip(dir.file("z64.zip"), entries, { forceZip64: true });
      await expectReadable(dir.file("z64.zip"), entries);
      const bytes = await Bun.file(dir.file("z64.zip")).bytes();
      const tail = Buffer.from(bytes.subarray(bytes.length - 22 - 20 - 56));
      expect(tail.readUInt32LE(0)).toBe(0x06064b50); // zip64 EOCD
      expect(tail.readUInt32LE(56)).toBe(0x07064b50); // locator
    },
  );

  test.skipIf(skipWithout(...ZIP_READERS))(
    "more than 65,535 entries: a real zip64 end of central directory",
    async () => {
      using dir = tempDir();
      const path = dir.file("many.zip");
      const count = 70_000;
      const chunks: Uint8Array[] = [];
      const zip = createZipWriter(
        { write: (c) => void chunks.push(c.slice()) },
        { now: new Date("2024-01-01T00:00:00Z") },
      );
      for (let i = 0; i < count; i++) await zip.addEntry(`f/${i}`, `${i}`, { compress: false });
      expect(await zip.finish()).toMatchObject({ entries: count });
      await Bun.write(path, new Blob(chunks));
      // yauzl reads 70,000 entries' data slowly (~10 s): it lists them here, and the others read every byte.
      expect(await listWithYauzl(path)).toHaveLength(count);
      testWithUnzip(path);
      testWith7z(path);
      const python = readWithPython(path);
      expect(python.size).toBe(count);
      expect(python.get("f/69999")).toBe(sha256Hex("69999"));
      expect(listWithBsdtar(path)).toHaveLength(count);
      expect(hashWithBsdtar(path, "f/65535")).toBe(sha256Hex("65535"));
      const ours = await openZip(path);
      expect(ours.entries).toHaveLength(count);
      await ours.close();
    },
    120_000,
  );

  test.skipIf(skipWithout("unzip"))("the same input and `now` give byte-identical archives", async () => {
    using dir = tempDir();
    await writeZip(dir.file("1.zip"), [["a.json", json]]);
    await writeZip(dir.file("2.zip"), [["a.json", chunked(json, 777)]]);
    await writeZip(dir.file("3.zip"), [["a.json", json]]);
    const [a, c] = [await Bun.file(dir.file("1.zip")).bytes(), await Bun.file(dir.file("3.zip")).bytes()];
    expect(Buffer.compare(a, c)).toBe(0);
    testWithUnzip(dir.file("2.zip"));
  });
});

describe("zip writer refuses what it must not write", () => {
  const cases = ["/etc/passwd", "../x", "a/../../x", "a\\b", "C:/x", "c:x", "", "a//b", "./a"];
  for (const name of cases) {
    test(`entry name ${JSON.stringify(name)}`, async () => {
      const zip = createZipWriter({ write() {} });
      await expect(zip.addEntry(name, "x")).rejects.toThrow(/refusing zip entry name/);
    });
  }

  test("a duplicate name, an entry added while another is being written, and entries after finish", async () => {
    const zip = createZipWriter({ write() {} });
    await zip.addEntry("a", "x");
    await expect(zip.addEntry("a", "y")).rejects.toThrow(/duplicate/);
    let release!: () => void;
    const slow = (async function* () {
      yield new Uint8Array(5000);
      await new Promise<void>((r) => (release = r));
    })();
    const first = zip.addEntry("b", slow);
    await Bun.sleep(5);
    await expect(zip.addEntry("c", "z")).rejects.toThrow(/writing another entry/);
    release();
    await first;
    await zip.finish();
    await expect(zip.addEntry("d", "z")).rejects.toThrow(/finished/);
  });
});

describe("compressibility rule", () => {
  const text = new TextEncoder().encode("hello ".repeat(1000));
  const cases: [label: string, type: string | undefined, bytes: Uint8Array, deflate: boolean][] = [
    ["text/plain text", "text/plain", text, true],
    ["untyped text", undefined, text, true],
    ["image/jpeg by type", "image/jpeg", text, false],
    ["video/mp4 by type", "video/mp4", text, false],
    ["pdf by type with parameters", "application/pdf; charset=binary", text, false],
    ["JPEG magic", undefined, new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2]), false],
    ["gzip magic", undefined, new Uint8Array([0x1f, 0x8b, 8, 0]), false],
    ["mp4 'ftyp' at offset 4", undefined, new Uint8Array([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70]), false],
    [
      "WebP 'WEBP' at offset 8",
      undefined,
      new Uint8Array([0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50]),
      false,
    ],
    ["random-looking octet-stream", "application/octet-stream", randomBytes(4096), false],
    ["small JSON", "application/json", new TextEncoder().encode('{"a":1}'), true],
  ];
  for (const [label, type, bytes, expected] of cases) {
    test(`${label}: ${expected ? "deflate" : "store"}`, () => expect(shouldDeflate(type, bytes)).toBe(expected));
  }
});
