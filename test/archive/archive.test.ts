// Format 1 end to end: createArchive -> verifyArchive -> inspectArchive, read back by independent tools;
// nothing half-written survives a failure; verify names what is wrong with a tampered archive.

import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { type ArchiveWriter, createArchive } from "../../src/archive/archive-writer.ts";
import { createDeflatedFile } from "../../src/archive/deflated-file.ts";
import { inspectArchive } from "../../src/archive/inspect.ts";
import type { Manifest } from "../../src/archive/manifest.ts";
import { verifyArchive } from "../../src/archive/verify.ts";
import { createZipWriter } from "../../src/archive/zip-writer.ts";
import { AirbackupError } from "../../src/errors.ts";
import { skipWithout, ZIP_READERS } from "../support/tools.ts";
import { checkWithAllReaders, sha256Hex } from "../support/zip-oracles.ts";
import { tempDir } from "./helpers.ts";

/** A table spooled as backup does: deflated as it is written (archive/deflated-file.ts). */
async function spooled(path: string, text: string) {
  const file = await createDeflatedFile(path);
  await file.append(new TextEncoder().encode(text));
  return file.finish();
}

const tool = { name: "airbackup", version: "0.1.0-test" };
const base = { id: "appTEST0000000001", name: "CRM" };
const startedAt = new Date("2024-05-06T07:08:09.123Z");
const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);
const notes = new TextEncoder().encode("plain text attachment\n".repeat(50));
const records = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({
    id: `rec${from + i}`,
    createdTime: "2024-01-01T00:00:00.000Z",
    fields: { Name: `Row ${from + i}`, "Ünïcode ✓": "é" },
  }));

async function* pages(count: number, size: number): AsyncIterable<unknown[]> {
  for (let at = 0; at < count; at += size) yield records(Math.min(size, count - at), at);
}

async function writeSample(
  dir: { path: string; file(n: string): string },
  options: { forceZip64?: boolean } = {},
): Promise<string> {
  const archive = await createArchive(dir.file("crm.zip"), { tool, base, startedAt, ...options });
  await archive.writeSchema({
    tables: [
      { id: "tblA", name: "Contacts", fields: [] },
      { id: "tblB", name: "Deals", fields: [] },
    ],
  });
  expect(await archive.writeTable({ id: "tblA", name: "Contacts" }, pages(250, 100))).toBe(250);
  const spool = await spooled(
    dir.file("spool.jsonl"),
    records(3)
      .map((r) => `${JSON.stringify(r)}\n`)
      .join(""),
  );
  await archive.writeTableFile({ id: "tblB", name: "Deals" }, spool, 3);
  expect(await archive.addAttachment(sha256Hex(png), png, { contentType: "image/png" })).toBe(true);
  expect(await archive.addAttachment(sha256Hex(png), png)).toBe(false); // same file in another cell: stored once
  writeFileSync(dir.file("notes.txt"), notes);
  expect(await archive.addAttachmentFile(sha256Hex(notes), dir.file("notes.txt"), "text/plain")).toBe(true);
  const line = (id: string, sha256: string, size: number) => ({
    id,
    sha256,
    filename: `${id}.bin`,
    type: "x",
    size,
    table: "tblA",
    record: "rec1",
    field: "Files",
  });
  expect(
    await archive.writeAttachmentIndex([
      line("att1", sha256Hex(png), png.length),
      JSON.stringify(line("att2", sha256Hex(png), png.length)),
      line("att3", sha256Hex(notes), notes.length),
    ]),
  ).toBe(3);
  expect(await archive.writeComments("tblA", [{ record: "rec1", comments: [{ id: "com1", text: "hi" }] }])).toBe(1);
  return archive.finish({ warnings: ["one warning"], finishedAt: new Date("2024-05-06T07:10:00Z"), apiCalls: 42 });
}

describe("createArchive", () => {
  for (const forceZip64 of [false, true]) {
    test.skipIf(skipWithout(...ZIP_READERS))(
      `writes a verified format-1 archive${forceZip64 ? " (forceZip64)" : ""} that every tool reads`,
      async () => {
        using dir = tempDir();
        const path = await writeSample(dir, { forceZip64 });
        expect(path).toBe(dir.file("crm.zip"));
        expect(existsSync(`${path}.partial`)).toBe(false);
        expect(statSync(path).mode & 0o777).toBe(0o600);
        const listing = await checkWithAllReaders(path);
        expect([...listing.keys()]).toEqual([
          "schema.json",
          "tables/tblA.jsonl",
          "tables/tblB.jsonl",
          `attachments/${sha256Hex(png)}`,
          `attachments/${sha256Hex(notes)}`,
          "attachments.jsonl",
          "comments/tblA.jsonl",
          "manifest.json",
        ]);
        const report = await verifyArchive(path);
        expect(report.problems).toEqual([]);
        expect(report.ok).toBe(true);
        const manifest = report.manifest!;
        expect(Object.keys(manifest.entries)).toHaveLength(7); // every entry but the manifest itself
        for (const [name, sha] of Object.entries(manifest.entries)) expect(listing.get(name)).toBe(sha);
        expect(manifest.tables.map((t) => [t.id, t.records, t.path])).toEqual([
          ["tblA", 250, "tables/tblA.jsonl"],
          ["tblB", 3, "tables/tblB.jsonl"],
        ]);
        expect(manifest.attachments).toEqual({
          count: 3,
          files: 2,
          bytes: png.length + notes.length,
          path: "attachments.jsonl",
        });
      },
    );
  }

  test("inspectArchive summarises the manifest", async () => {
    using dir = tempDir();
    const summary = await inspectArchive(await writeSample(dir));
    expect(summary).toMatchObject({
      format: 1,
      tool,
      base,
      startedAt: "2024-05-06T07:08:09.123Z",
      finishedAt: "2024-05-06T07:10:00.000Z",
      tables: [
        { id: "tblA", name: "Contacts", records: 250 },
        { id: "tblB", name: "Deals", records: 3 },
      ],
      records: 253,
      attachments: { count: 3, files: 2, bytes: png.length + notes.length },
      comments: [{ table: "tblA", records: 1 }],
      warnings: ["one warning"],
      apiCalls: 42,
      entries: 8,
    });
  });

  test("an archive with no attachments still has an (empty) attachments.jsonl", async () => {
    using dir = tempDir();
    const archive = await createArchive(dir.file("a.zip"), { tool, base, startedAt });
    await archive.writeTable({ id: "tblA", name: "A" }, pages(0, 100));
    const path = await archive.finish({ warnings: [], finishedAt: startedAt });
    expect((await verifyArchive(path)).ok).toBe(true);
    expect((await inspectArchive(path)).attachments).toEqual({ count: 0, files: 0, bytes: 0 });
  });

  test("the manifest lists tables in the base's order, whatever order they finished in", async () => {
    using dir = tempDir();
    const archive = await createArchive(dir.file("a.zip"), { tool, base, startedAt });
    await archive.writeTable({ id: "tblB", name: "B" }, pages(1, 100));
    await archive.writeTable({ id: "tblA", name: "A" }, pages(2, 100));
    const path = await archive.finish({ warnings: [], finishedAt: startedAt, tableOrder: ["tblA", "tblB"] });
    expect((await inspectArchive(path)).tables.map((t) => t.name)).toEqual(["A", "B"]);
  });
});

describe("nothing half-written survives", () => {
  const leftovers = (dir: { path: string }) => readdirSync(dir.path).filter((f) => f.includes(".zip"));

  test("an existing archive is never overwritten, whether it was there at the start or appeared during the run", async () => {
    using dir = tempDir();
    writeFileSync(dir.file("a.zip"), "precious");
    await expect(createArchive(dir.file("a.zip"), { tool, base, startedAt })).rejects.toThrow(
      "already exists; not overwriting it",
    );

    const archive = await createArchive(dir.file("b.zip"), { tool, base, startedAt });
    await archive.writeSchema("{}");
    expect(() => writeFileSync(dir.file("b.zip.partial"), "x", { flag: "wx" })).toThrow(); // a second run cannot share the partial file
    writeFileSync(dir.file("b.zip"), "precious too");
    await expect(archive.finish({ warnings: [], finishedAt: startedAt })).rejects.toThrow("not overwriting it");
    expect(readFileSync(dir.file("a.zip"), "utf8")).toBe("precious");
    expect(readFileSync(dir.file("b.zip"), "utf8")).toBe("precious too");
    expect(leftovers(dir).sort()).toEqual(["a.zip", "b.zip"]);
  });

  test("abort() removes the partial file", async () => {
    using dir = tempDir();
    const archive = await createArchive(dir.file("a.zip"), { tool, base, startedAt });
    await archive.writeSchema("{}");
    expect(leftovers(dir)).toEqual(["a.zip.partial"]);
    await archive.abort();
    expect(leftovers(dir)).toEqual([]);
  });

  const failures: [string, (a: ArchiveWriter) => Promise<unknown>, RegExp][] = [
    [
      "a table's pages throw",
      (a) =>
        a.writeTable(
          { id: "tblA", name: "A" },
          (async function* () {
            yield records(2);
            throw new Error("network gone");
          })(),
        ),
      /network gone/,
    ],
    ["attachment bytes do not match their hash", (a) => a.addAttachment("0".repeat(64), png), /hash to/],
    [
      "the index names a file not stored",
      (a) => a.writeAttachmentIndex([{ sha256: "1".repeat(64) }]),
      /not in the archive/,
    ],
    [
      "a spooled table has fewer lines than records",
      async (a) => {
        const spool = await spooled(a.finalPath.replace(/a\.zip$/, "table.jsonl"), "{}\n");
        return a.writeTableFile({ id: "tblA", name: "A" }, spool, 2);
      },
      /1 lines, expected 2/,
    ],
    ["an unsafe table id", (a) => a.writeTable({ id: "../x", name: "A" }, pages(1, 1)), /unsafe table id/],
  ];
  for (const [label, act, expected] of failures) {
    test(`${label}: the error comes through and the partial file is gone`, async () => {
      using dir = tempDir();
      const archive = await createArchive(dir.file("a.zip"), { tool, base, startedAt });
      await archive.writeSchema("{}");
      await expect(act(archive)).rejects.toThrow(expected);
      expect(leftovers(dir)).toEqual([]);
      await expect(archive.finish({ warnings: [], finishedAt: startedAt })).rejects.toThrow(/aborted/);
    });
  }
});

describe("verifyArchive names what is wrong", () => {
  // Builds an archive with the plain zip writer and a manifest the test may falsify.
  async function craft(
    path: string,
    entries: Record<string, string>,
    edit: (m: Manifest) => void = () => {},
    extra: Record<string, string> = {},
  ) {
    const chunks: Uint8Array[] = [];
    const zip = createZipWriter({ write: (c) => void chunks.push(c.slice()) });
    const manifest: Manifest = {
      format: 1,
      tool,
      startedAt: startedAt.toISOString(),
      finishedAt: startedAt.toISOString(),
      base,
      tables: [],
      attachments: { count: 0, files: 0, bytes: 0, path: "attachments.jsonl" },
      warnings: [],
      entries: {},
    };
    for (const [name, content] of Object.entries(entries)) {
      const { sha256 } = await zip.addEntry(name, content);
      manifest.entries[name] = sha256;
      if (name.startsWith("tables/"))
        manifest.tables.push({
          id: name.slice(7, -6),
          name: "T",
          records: content.split("\n").filter(Boolean).length,
          path: name,
          sha256,
        });
      if (name === "attachments.jsonl") manifest.attachments.count = content.split("\n").filter(Boolean).length;
    }
    for (const [name, content] of Object.entries(extra)) await zip.addEntry(name, content);
    edit(manifest);
    await zip.addEntry("manifest.json", JSON.stringify(manifest));
    await zip.finish();
    await Bun.write(path, new Blob(chunks));
  }
  const rec = (id: string) => JSON.stringify({ id, createdTime: "x", fields: {} });
  const att = "attachment bytes";
  const good = {
    "schema.json": "{}",
    "tables/tblA.jsonl": `${rec("rec1")}\n${rec("rec2")}\n`,
    [`attachments/${sha256Hex(att)}`]: att,
    "attachments.jsonl": `${JSON.stringify({ sha256: sha256Hex(att) })}\n`,
  };

  test("a crafted archive that is right passes", async () => {
    using dir = tempDir();
    await craft(dir.file("ok.zip"), good);
    expect(await verifyArchive(dir.file("ok.zip"))).toMatchObject({ ok: true, problems: [] });
  });

  const cases: [string, Record<string, string>, (m: Manifest) => void, Record<string, string>, RegExp][] = [
    [
      "a wrong sha256 in the manifest",
      good,
      (m) => (m.entries["schema.json"] = "0".repeat(64)),
      {},
      /schema\.json: sha256 \w+ does not match the manifest's 0{64}/,
    ],
    [
      "a table with fewer records than the manifest says",
      good,
      (m) => (m.tables[0]!.records = 3),
      {},
      /tables\/tblA\.jsonl has 2 records, the manifest says 3/,
    ],
    [
      "a table line that is not JSON",
      { ...good, "tables/tblA.jsonl": `${rec("rec1")}\n{oops\n` },
      () => {},
      {},
      /tables\/tblA\.jsonl: not valid JSON: line 2/,
    ],
    [
      "an entry the manifest does not list",
      good,
      () => {},
      { "stray.txt": "x" },
      /stray\.txt is not listed in the manifest/,
    ],
    [
      "an entry the manifest lists but the zip lacks",
      good,
      (m) => (m.entries["gone.json"] = "0".repeat(64)),
      {},
      /gone\.json is listed in the manifest but missing/,
    ],
    [
      "an index line naming a missing attachment",
      { ...good, "attachments.jsonl": `${JSON.stringify({ sha256: "a".repeat(64) })}\n` },
      () => {},
      {},
      /attachment a{64} is missing/,
    ],
    [
      "an attachment whose bytes do not match its name",
      { ...good, [`attachments/${"b".repeat(64)}`]: "other" },
      () => {},
      {},
      /content hashes to \w+, not to its name/,
    ],
    [
      "a newer format",
      good,
      (m) => ((m as { format: number }).format = 2),
      {},
      /archive format 2 is newer than this airbackup understands \(format 1\); upgrade airbackup to read it/,
    ],
    [
      "an invalid manifest",
      good,
      (m) => ((m as { base: unknown }).base = "x"),
      {},
      /manifest\.json is invalid at base/,
    ],
  ];
  for (const [label, entries, edit, extra, expected] of cases) {
    test(label, async () => {
      using dir = tempDir();
      await craft(dir.file("bad.zip"), entries, edit, extra);
      const report = await verifyArchive(dir.file("bad.zip"));
      expect(report.ok).toBe(false);
      expect(report.problems[0]).toMatch(expected);
    });
  }

  test("a newer format is ARCHIVE_UNSUPPORTED with a hint to upgrade, from inspect", async () => {
    using dir = tempDir();
    await craft(dir.file("v2.zip"), good, (m) => ((m as { format: number }).format = 2));
    const error = await inspectArchive(dir.file("v2.zip")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirbackupError);
    expect(error).toMatchObject({ code: "ARCHIVE_UNSUPPORTED", hint: "upgrade airbackup to read it" });
  });
});
