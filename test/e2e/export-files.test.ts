// End to end: the compiled binary exports archives to a directory of CSV (read back with Python's csv module)
// or NDJSON files, one per table, and with --files the attachment files as attachments/<sha256>. Every value
// against the archive; a re-run is refused unless --replace; Ctrl-C leaves the directory as it was.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../support/cli.ts";
import {
  type ArchiveContents,
  type ExportArchives,
  expectedCell,
  makeExportArchives,
  readArchive,
} from "../support/export-fixtures.ts";
import { writeSyntheticArchive } from "../support/synthetic-archive.ts";
import { skipWithout } from "../support/tools.ts";

const skip = skipWithout("python3", "unzip");
let archives: ExportArchives;

beforeAll(async () => {
  if (!skip) archives = await makeExportArchives();
}, 120_000);

afterAll(async () => {
  await archives?.cleanup();
});

describe.skipIf(skip)("airbackup export --format csv|ndjson", () => {
  test("CSV: one file per table, every value as the archive holds it; files under attachments/", async () => {
    for (const archivePath of [archives.sample, archives.capture]) {
      const out = join(archives.dir, `csv-${archivePath === archives.sample ? "sample" : "capture"}`);
      const run = await runCli(["export", archivePath, "-o", out, "--format", "csv", "--files"]);
      expect(run.code).toBe(0);
      const archive = await readArchive(archivePath);
      const csv = readCsvFiles(out);
      for (const table of archive.tables) {
        const [header, ...rows] = csv.get(`${table.name}.csv`)!;
        expect(header).toEqual(["id", "createdTime", ...table.fields.map((f) => columnOf(archive, table.id, f.name))]);
        const records = archive.records.get(table.id)!;
        expect(rows).toHaveLength(records.length);
        for (const [r, record] of records.entries()) {
          const row = rows[r]!;
          expect(row.slice(0, 2)).toEqual([record.id, record.createdTime]);
          for (const [f, field] of table.fields.entries()) {
            const at = `${table.name}.${field.name} of ${record.id}`;
            const expected = expectedCell(field, record.fields[field.name]);
            const text = row[f + 2]!;
            const value =
              expected.value === null
                ? text === ""
                  ? null
                  : text
                : expected.kind === "json"
                  ? JSON.parse(text)
                  : expected.kind === "boolean"
                    ? text === "true"
                      ? true
                      : text === "false"
                        ? false
                        : text
                    : expected.kind === "text"
                      ? text
                      : Number(text);
            expect({ at, value }).toEqual({ at, value: expected.value });
          }
        }
      }
      const files = existsSync(join(out, "attachments")) ? readdirSync(join(out, "attachments")) : [];
      expect(files.sort()).toEqual([...new Set(archive.attachments.map((a) => a.sha256))].sort());
      for (const name of files)
        expect(new Bun.CryptoHasher("sha256").update(readFileSync(join(out, "attachments", name))).digest("hex")).toBe(
          name,
        );
      const [, meta] = csv.get("_meta.csv")!;
      expect(meta!.slice(0, 2)).toEqual([archive.manifest.base.id, archive.manifest.base.name]);
      expect(csv.get("_attachments.csv")).toHaveLength(1 + countAttachmentCells(archive));
    }
  }, 60_000);

  test("NDJSON: one object per record with typed values; links as arrays of ids", async () => {
    const out = join(archives.dir, "ndjson");
    const run = await runCli(["export", archives.capture, "-o", out, "--format", "ndjson"]);
    expect(run.code).toBe(0);
    const archive = await readArchive(archives.capture);
    for (const table of archive.tables) {
      const text = readFileSync(join(out, `${table.name}.ndjson`), "utf8");
      const rows = text
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l)) as Record<string, unknown>[];
      const records = archive.records.get(table.id)!;
      expect(rows.map((r) => r.id)).toEqual(records.map((r) => r.id));
      for (const [r, record] of records.entries()) {
        expect(rows[r]!.createdTime).toBe(record.createdTime);
        for (const field of table.fields) {
          const expected = expectedCell(field, record.fields[field.name]);
          const at = `${table.name}.${field.name} of ${record.id}`;
          expect({ at, value: rows[r]![field.name] }).toEqual({ at, value: expected.value });
        }
      }
    }
    expect(existsSync(join(out, "attachments"))).toBe(false); // no --files
  }, 60_000);

  test("a re-run is refused unless --replace; a directory with other files is never touched", async () => {
    const out = join(archives.dir, "again");
    expect((await runCli(["export", archives.sample, "-o", out, "--format", "ndjson"])).code).toBe(0);
    const before = readdirSync(out).sort();
    const again = await runCli(["export", archives.capture, "-o", out, "--format", "ndjson"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already holds an export");
    expect(readdirSync(out).sort()).toEqual(before);
    const replaced = await runCli(["export", archives.capture, "-o", out, "--format", "ndjson", "--replace"]);
    expect(replaced.code).toBe(0);
    expect(readdirSync(out)).toContain("All.ndjson");
    expect(readdirSync(out)).not.toContain("Companies.ndjson");

    const mine = join(archives.dir, "mine");
    mkdirSync(mine);
    writeFileSync(join(mine, "notes.txt"), "keep me");
    const refused = await runCli(["export", archives.sample, "-o", mine, "--format", "csv", "--replace"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("is not empty and holds no airbackup export");
    expect(readdirSync(mine)).toEqual(["notes.txt"]);
  }, 60_000);

  test("Ctrl-C exits 130 and leaves no directory and no partial files behind", async () => {
    const big = join(archives.dir, "big-csv.zip");
    await writeSyntheticArchive(big, { records: 80_000 });
    const out = join(archives.dir, "interrupted");
    const run = await runCli(["export", big, "-o", out, "--format", "csv", "--verbose"], {
      interrupt: { signal: "SIGINT", when: (stderr) => stderr.includes("exporting Contacts") },
    });
    expect(run.code).toBe(130);
    expect(readdirSync(archives.dir).filter((f) => f.startsWith("interrupted"))).toEqual([]);
  }, 60_000);
});

// --- internal ---

/** Python's csv module, not ours, parses every .csv file of the directory (one python3 start: they are slow). */
function readCsvFiles(dir: string): Map<string, string[][]> {
  const script = [
    "import csv, json, os, sys",
    "d = sys.argv[1]",
    "out = {f: list(csv.reader(open(os.path.join(d, f), newline='', encoding='utf-8'))) for f in os.listdir(d) if f.endswith('.csv')}",
    "print(json.dumps(out))",
  ].join("\n");
  const proc = Bun.spawnSync(["python3", "-c", script, dir], { stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) throw new Error(`python3 csv ${dir}: ${proc.stderr.toString()}`);
  return new Map(Object.entries(JSON.parse(proc.stdout.toString())));
}

/** The sample CRM has a field called "id": its column is "id (2)". */
function columnOf(_archive: ArchiveContents, _tableId: string, name: string): string {
  return name === "id" ? "id (2)" : name;
}

function countAttachmentCells(archive: ArchiveContents): number {
  let n = 0;
  for (const table of archive.tables)
    for (const field of table.fields.filter((f) => f.type === "multipleAttachments"))
      for (const record of archive.records.get(table.id)!)
        n += ((record.fields[field.name] as unknown[] | undefined) ?? []).length;
  return n;
}
