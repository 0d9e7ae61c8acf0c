// End to end: the compiled binary exports archives (made by its own backup from the simulator) into SQLite,
// and the `sqlite3` shell reads them back: every value against the archive, column types with typeof(),
// foreign keys with PRAGMA foreign_key_check, join tables, attachments and file bytes. Also: a re-run is
// refused unless --replace, a table no export made is never dropped, and Ctrl-C leaves the target as it was.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createArchive } from "../../src/archive/archive-writer.ts";
import { runCli } from "../support/cli.ts";
import {
  type ArchiveContents,
  AWKWARD,
  type ExportArchives,
  expectedCell,
  makeExportArchives,
  readArchive,
} from "../support/export-fixtures.ts";
import { writeSyntheticArchive } from "../support/synthetic-archive.ts";
import { skipWithout } from "../support/tools.ts";

const skip = skipWithout("sqlite3", "unzip");
let archives: ExportArchives;

beforeAll(async () => {
  if (!skip) archives = await makeExportArchives();
}, 120_000);

afterAll(async () => {
  await archives?.cleanup();
});

describe.skipIf(skip)("airbackup export -o file.db (read back with the sqlite3 shell)", () => {
  test("the sample CRM: every value, type, link, attachment and file as the archive holds it", async () => {
    const db = join(archives.dir, "crm.db");
    const run = await runCli(["export", archives.sample, "-o", db, "--files"]);
    expect(run.stderr).toContain("exported Sample CRM");
    expect(run.code).toBe(0);
    const archive = await readArchive(archives.sample);
    await checkDatabase(db, archive);
    // _files: one row per distinct file, its bytes hashing to its key
    const files = sqlite(db, 'SELECT sha256, hex(data) AS hex FROM "_files"') as { sha256: string; hex: string }[];
    expect(files.map((f) => f.sha256).sort()).toEqual([...new Set(archive.attachments.map((a) => a.sha256))].sort());
    for (const f of files)
      expect(new Bun.CryptoHasher("sha256").update(Buffer.from(f.hex, "hex")).digest("hex")).toBe(f.sha256);
    // the awkward names: kept exactly; "id" made unique (and reported); the empty table is there, empty
    const tasks = sqlite(db, `SELECT "id (2)" AS v, ${q(AWKWARD.quoted)} AS w FROM "Tasks" ORDER BY "Task ID"`);
    expect(tasks[0]).toEqual({ v: "T-1", w: null });
    expect(tasks[1]!.w).toBe('line one\nline two, with a "quote" and a tab\there');
    expect(run.stderr).toContain("Tasks.id -> id (2)");
    expect(sqlite(db, `SELECT count(*) AS n FROM ${q(AWKWARD.emptyTable)}`)).toEqual([{ n: 0 }]);
    // an example from the README: a link table joined both ways
    const query = `SELECT c."Name" AS company, count(*) AS contacts FROM "Companies" c
      JOIN "Companies__Contacts" l ON l.record_id = c.id GROUP BY c.id ORDER BY contacts DESC, company LIMIT 1`;
    expect(sqlite(db, query)).toEqual([{ company: "Acme Corp", contacts: 2 }]);
  }, 60_000);

  test("the 2022 capture: every Airtable field type, emoji names, a table with no records", async () => {
    const db = join(archives.dir, "capture.sqlite3");
    const run = await runCli(["export", archives.capture, "-o", db]);
    expect(run.code).toBe(0);
    const archive = await readArchive(archives.capture);
    const types = new Set(archive.tables.flatMap((t) => t.fields.map((f) => f.type)));
    expect(types.size).toBeGreaterThanOrEqual(30);
    await checkDatabase(db, archive);
  }, 60_000);

  test("a second export is refused; --replace replaces it; a table no export made is never dropped", async () => {
    const db = join(archives.dir, "again.db");
    expect((await runCli(["export", archives.sample, "-o", db])).code).toBe(0);
    const before = await Bun.file(db).bytes();
    const again = await runCli(["export", archives.capture, "-o", db]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${db} already holds an export of Sample CRM`);
    expect(again.stderr).toContain("--replace");
    expect(await Bun.file(db).bytes()).toEqual(before);

    const replaced = await runCli(["export", archives.capture, "-o", db, "--replace"]);
    expect(replaced.code).toBe(0);
    expect(sqlite(db, "SELECT base_name FROM _meta")).toEqual([{ base_name: "[CI Test] Marketing Campaign Tracking" }]);
    const tables = sqlite(db, "SELECT name FROM sqlite_master WHERE type = 'table'").map((r) => r.name);
    expect(tables).not.toContain("Companies"); // the earlier export's tables are gone
    await checkDatabase(db, await readArchive(archives.capture));

    const mine = join(archives.dir, "mine.db");
    sqlite(mine, 'CREATE TABLE "Companies" (x); INSERT INTO "Companies" VALUES (42)');
    const mineBefore = await Bun.file(mine).bytes();
    for (const flags of [[], ["--replace"]]) {
      const clash = await runCli(["export", archives.sample, "-o", mine, ...flags]);
      expect(clash.code).toBe(1);
      expect(clash.stderr).toContain("already has a table named Companies that no airbackup export made");
      expect(await Bun.file(mine).bytes()).toEqual(mineBefore);
    }
  }, 60_000);

  test("-t exports only the named tables; usage errors are one line and exit 2", async () => {
    const db = join(archives.dir, "deals.db");
    const run = await runCli(["export", archives.sample, "-o", db, "-t", "Deals", "-t", "Tasks"]);
    expect(run.code).toBe(0);
    expect(sqlite(db, "SELECT \"table\" FROM _tables WHERE kind = 'records' ORDER BY 1")).toEqual([
      { table: "Deals" },
      { table: "Tasks" },
    ]);
    expect(sqlite(db, "PRAGMA foreign_key_check")).toEqual([]);
    const cases: [string[], string][] = [
      [["-o", join(archives.dir, "out.txt")], "cannot tell the format of -o"],
      [["-o", db, "--format", "xml"], "--format xml: expected sqlite, postgres, csv or ndjson"],
      [["-o", join(archives.dir, "t.db"), "-t", "Nope"], "-t Nope: no such table in the archive"],
      [["-o", join(archives.dir, "t.db"), "--schema", "x"], "--schema applies to PostgreSQL targets only"],
    ];
    for (const [args, message] of cases) {
      const bad = await runCli(["export", archives.sample, ...args]);
      expect(bad.stderr).toContain(message);
      expect(bad.code).toBe(2);
    }
    expect(existsSync(join(archives.dir, "t.db"))).toBe(false);
  }, 60_000);

  test("a value that does not fit its column is NULL, named in a warning, and the exit code is 3", async () => {
    const path = join(archives.dir, "misfit-appMISFIT0000000001-20261130T030000Z.zip");
    const archive = await createArchive(path, {
      tool: { name: "airbackup", version: "0.1.0" },
      base: { id: "appMISFIT00000001", name: "Misfits" },
      startedAt: new Date("2026-11-30T03:00:00Z"),
    });
    const fields = [
      { id: "fldNAME0000000001", name: "Name", type: "singleLineText" },
      {
        id: "fldRATIO000000001",
        name: "Ratio",
        type: "formula",
        options: { formula: "{A}/{B}", result: { type: "number", options: { precision: 2 } } },
      },
    ];
    await archive.writeSchema({ tables: [{ id: "tblMISFIT0000001", name: "Sheet", fields }] });
    const at = "2026-11-30T03:00:00.000Z";
    const records = [
      { id: "recMISFIT00000001", createdTime: at, fields: { Name: "ok", Ratio: 0.5 } },
      { id: "recMISFIT00000002", createdTime: at, fields: { Name: "nan", Ratio: { specialValue: "NaN" } } },
      { id: "recMISFIT00000003", createdTime: at, fields: { Name: "error", Ratio: { error: "#ERROR!" } } },
    ];
    await archive.writeTable(
      { id: "tblMISFIT0000001", name: "Sheet" },
      (async function* () {
        yield records;
      })(),
    );
    await archive.writeAttachmentIndex([]);
    await archive.finish({ warnings: [], finishedAt: new Date("2026-11-30T03:01:00Z") });
    const db = join(archives.dir, "misfit.db");
    const run = await runCli(["export", path, "-o", db]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("airbackup: warning: Sheet.Ratio: 2 values that are not a number exported as NULL");
    expect(sqlite(db, 'SELECT "Name", "Ratio", typeof("Ratio") AS t FROM "Sheet" ORDER BY id')).toEqual([
      { Name: "ok", Ratio: 0.5, t: "real" },
      { Name: "nan", Ratio: null, t: "null" },
      { Name: "error", Ratio: null, t: "null" },
    ]);
  }, 30_000);

  test("Ctrl-C exits 130 and leaves the target as it was: no new file, an existing one unchanged", async () => {
    const big = join(archives.dir, "big.zip");
    await writeSyntheticArchive(big, { records: 80_000 });
    const fresh = join(archives.dir, "fresh.db");
    const interrupt = { signal: "SIGINT" as const, when: (stderr: string) => stderr.includes("exporting Contacts") };
    const first = await runCli(["export", big, "-o", fresh, "--verbose"], { interrupt });
    expect(first.code).toBe(130);
    expect(readdirSync(archives.dir).filter((f) => f.startsWith("fresh.db"))).toEqual([]);

    const existing = join(archives.dir, "existing.db");
    expect((await runCli(["export", archives.sample, "-o", existing])).code).toBe(0);
    const before = await Bun.file(existing).bytes();
    const second = await runCli(["export", big, "-o", existing, "--replace", "--verbose"], { interrupt });
    expect(second.code).toBe(130);
    expect(await Bun.file(existing).bytes()).toEqual(before);
    expect(readdirSync(archives.dir).filter((f) => f.startsWith("existing.db"))).toEqual(["existing.db"]);
  }, 60_000);
});

// --- internal ---

type Row = Record<string, unknown>;

function sqlite(db: string, sql: string): Row[] {
  const proc = Bun.spawnSync(["sqlite3", "-json", db, sql], { stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) throw new Error(`sqlite3 ${sql}: ${proc.stderr.toString()}`);
  const text = proc.stdout.toString().trim();
  return text ? JSON.parse(text) : [];
}

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
const lit = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** Every table, row, value and type of the export against the archive, through the sqlite3 shell. */
async function checkDatabase(db: string, archive: ArchiveContents): Promise<void> {
  expect(sqlite(db, "PRAGMA foreign_key_check")).toEqual([]);
  expect(sqlite(db, "PRAGMA integrity_check")).toEqual([{ integrity_check: "ok" }]);
  const meta = sqlite(db, "SELECT * FROM _meta");
  expect(meta).toEqual([
    expect.objectContaining({ base_id: archive.manifest.base.id, base_name: archive.manifest.base.name }),
  ]);
  const columnsOf = new Map(
    (sqlite(db, 'SELECT "table", table_id, field_id, "column" FROM _fields') as Record<string, string>[]).map((r) => [
      `${r.table_id}/${r.field_id}`,
      r,
    ]),
  );
  let attachmentCells = 0;
  for (const table of archive.tables) {
    const records = archive.records.get(table.id)!;
    const sqlName = columnsOf.get(`${table.id}/${table.fields[0]!.id}`)!.table!;
    const columns = table.fields.map((f) => columnsOf.get(`${table.id}/${f.id}`)!.column!);
    const select = ["id", "createdTime", ...columns].map((c, i) => `${q(c)} AS c${i}, typeof(${q(c)}) AS t${i}`);
    const rows = sqlite(db, `SELECT ${select.join(", ")} FROM ${q(sqlName)}`);
    expect(rows).toHaveLength(records.length);
    const byId = new Map(rows.map((r) => [r.c0, r]));
    for (const record of records) {
      const row = byId.get(record.id)!;
      expect(row.c1).toBe(record.createdTime);
      for (const [f, field] of table.fields.entries()) {
        const at = `${table.name}.${field.name} (${field.type}) of ${record.id}`;
        const expected = expectedCell(field, record.fields[field.name]);
        const [value, type] = [row[`c${f + 2}`], row[`t${f + 2}`]];
        if (expected.value === null) expect({ at, type }).toEqual({ at, type: "null" });
        else if (expected.kind === "json") {
          expect({ at, type }).toEqual({ at, type: "text" });
          expect({ at, value: JSON.parse(String(value)) }).toEqual({ at, value: expected.value });
        } else if (expected.kind === "boolean")
          expect({ at, type, value }).toEqual({ at, type: "integer", value: expected.value ? 1 : 0 });
        else expect({ at, type, value }).toEqual({ at, type: expected.kind, value: expected.value });
      }
      // join tables: one row per linked id, in order
      for (const field of table.fields.filter((f) => f.type === "multipleRecordLinks")) {
        const join = `${sqlName}__${columnsOf.get(`${table.id}/${field.id}`)!.column}`;
        const linked = sqlite(
          db,
          `SELECT linked_id FROM ${q(join)} WHERE record_id = ${lit(record.id)} ORDER BY position`,
        );
        expect(linked.map((r) => r.linked_id)).toEqual((record.fields[field.name] as string[] | undefined) ?? []);
      }
      for (const field of table.fields.filter((f) => f.type === "multipleAttachments")) {
        const cell = (record.fields[field.name] as { id: string; filename: string }[] | undefined) ?? [];
        attachmentCells += cell.length;
        const rows = sqlite(
          db,
          `SELECT attachment_id, filename, sha256 FROM _attachments WHERE record_id = ${lit(record.id)} AND field = ${lit(columnsOf.get(`${table.id}/${field.id}`)!.column!)} ORDER BY position`,
        );
        expect(rows).toEqual(
          cell.map((a) => ({
            attachment_id: a.id,
            filename: a.filename,
            sha256: archive.attachments.find((x) => x.id === a.id)!.sha256,
          })),
        );
      }
    }
  }
  expect(sqlite(db, "SELECT count(*) AS n FROM _attachments")).toEqual([{ n: attachmentCells }]);
  const formulas = archive.tables.flatMap((t) => t.fields.filter((f) => typeof f.options?.formula === "string"));
  for (const f of formulas)
    expect(sqlite(db, `SELECT formula FROM _fields WHERE field_id = ${lit(f.id)}`)).toEqual([
      { formula: f.options!.formula },
    ]);
}
