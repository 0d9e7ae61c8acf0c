// End to end: the compiled binary exports archives into a real PostgreSQL server started for this file
// (test/support/postgres.ts), read back with psql: column types, every value against the archive, join tables
// with enforced foreign keys, attachments and file bytes. Also: re-run refused unless --replace, a table no
// export made never dropped, Ctrl-C leaves the database as it was, and the password never appears in output.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../support/cli.ts";
import {
  type ArchiveContents,
  AWKWARD,
  type ExportArchives,
  expectedCell,
  makeExportArchives,
  readArchive,
} from "../support/export-fixtures.ts";
import { PG_PASSWORD, type PostgresServer, startPostgres } from "../support/postgres.ts";
import { writeSyntheticArchive } from "../support/synthetic-archive.ts";
import { POSTGRES_TOOLS, skipWithout } from "../support/tools.ts";

const skip = skipWithout(...POSTGRES_TOOLS, "unzip");
let pg: PostgresServer;
let archives: ExportArchives;

beforeAll(async () => {
  if (skip) return;
  pg = await startPostgres();
  archives = await makeExportArchives();
}, 120_000);

afterAll(async () => {
  await pg?.stop();
  await archives?.cleanup();
});

describe.skipIf(skip)("airbackup export -o postgres://... (read back with psql)", () => {
  test("the sample CRM into schema sample_crm: types, values, links, attachments, files", async () => {
    const run = await runCli(["export", archives.sample, "-o", pg.url, "--files"]);
    expect(run.stderr).toContain(`to postgres://postgres@127.0.0.1:${pg.port}/postgres`);
    expect(run.code).toBe(0);
    const archive = await readArchive(archives.sample);
    await checkSchema("sample_crm", archive);
    const files = await pg.psql("SELECT count(*) FROM sample_crm._files WHERE encode(sha256(data), 'hex') = sha256");
    expect(Number(files)).toBe(new Set(archive.attachments.map((a) => a.sha256)).size);
    expect(await pg.psql(`SELECT "id (2)" FROM sample_crm."Tasks" WHERE "Task ID" = 1`)).toBe("T-1\n");
    expect(await pg.psql(`SELECT count(*) FROM sample_crm."${AWKWARD.emptyTable}"`)).toBe("0\n");
    // names alike in their first 63 bytes: cut, made unique, reported; values where they belong
    const columns = (
      await pg.psql(`SELECT "column" FROM sample_crm._fields WHERE name LIKE 'Un nom de champ%' ORDER BY name`)
    )
      .trim()
      .split("\n");
    expect(columns).toHaveLength(2);
    for (const column of columns) expect(Buffer.byteLength(column)).toBeLessThanOrEqual(63);
    expect(columns[0]).not.toBe(columns[1]);
    expect(run.stderr).toContain(`renamed Tasks.${AWKWARD.longA} -> ${columns[0]}`);
    expect(run.stderr).toContain(`renamed Tasks.${AWKWARD.longB} -> ${columns[1]}`);
    const values = `SELECT "${columns[0]}", "${columns[1]}" FROM sample_crm."Tasks" WHERE "${columns[0]}" IS NOT NULL`;
    expect(await pg.psql(values)).toBe("long A|2.5\n");
    expect(readdirSync("/tmp").filter((f) => f.startsWith("airbackup-copy-"))).toEqual([]); // spools removed
    // foreign keys are enforced
    await expect(
      pg.psql(`INSERT INTO sample_crm."Companies__Contacts" VALUES ('recNOPE', 'recNOPE', 0)`),
    ).rejects.toThrow("violates foreign key constraint");
  }, 60_000);

  test("the 2022 capture into --schema capture: every Airtable field type, emoji names, an empty table", async () => {
    const run = await runCli([
      "export",
      archives.capture,
      "-o",
      pg.url.replace("postgres://", "postgresql://"),
      "--schema",
      "capture",
    ]);
    expect(run.code).toBe(0);
    await checkSchema("capture", await readArchive(archives.capture));
  }, 60_000);

  test("a re-run is refused unless --replace; a table no export made is never dropped", async () => {
    const args = ["export", archives.sample, "-o", pg.url, "--schema", "again"];
    expect((await runCli(args)).code).toBe(0);
    const refused = await runCli(["export", archives.capture, "-o", pg.url, "--schema", "again"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("schema again already holds an export of Sample CRM");
    expect(await pg.psql("SELECT base_name FROM again._meta")).toBe("Sample CRM\n");
    const replaced = await runCli(["export", archives.capture, "-o", pg.url, "--schema", "again", "--replace"]);
    expect(replaced.code).toBe(0);
    expect(await pg.psql("SELECT base_name FROM again._meta")).toBe("[CI Test] Marketing Campaign Tracking\n");
    expect(await pg.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'again' AND tablename = 'Companies'")).toBe(
      "0\n",
    );

    await pg.psql(`CREATE SCHEMA mine; CREATE TABLE mine."Deals" (x int); INSERT INTO mine."Deals" VALUES (7)`);
    for (const flags of [[], ["--replace"]]) {
      const clash = await runCli(["export", archives.sample, "-o", pg.url, "--schema", "mine", ...flags]);
      expect(clash.code).toBe(1);
      expect(clash.stderr).toContain("schema mine already has a table named Deals that no airbackup export made");
    }
    expect(await pg.psql('SELECT x FROM mine."Deals"')).toBe("7\n");
    expect(await pg.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'mine'")).toBe("1\n");
  }, 60_000);

  test("links to records the archive does not hold are left out and reported; every foreign key is there", async () => {
    // 10 records over 4 tables: 3, 3, 3 and 1, so two of the Deals' links point at Tasks the archive lacks
    const partial = join(archives.dir, "partial-links.zip");
    await writeSyntheticArchive(partial, { records: 10 });
    const run = await runCli(["export", partial, "-o", pg.url, "--schema", "partial"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("Deals__Next: 2 links to records not in the archive left out");
    expect(await pg.psql('SELECT record_id, linked_id FROM partial."Deals__Next"')).toBe(
      "rec20000000000002|rec30000000000000\n",
    );
    expect(await pg.psql(`SELECT "table", "rows" FROM partial._tables WHERE "table" LIKE '%Next' ORDER BY 1`)).toBe(
      "Companies__Next|3\nContacts__Next|3\nDeals__Next|1\nTasks__Next|1\n",
    );
    const keys = await pg.psql(
      "SELECT count(*) FROM pg_constraint WHERE contype IN ('f', 'p') AND connamespace = 'partial'::regnamespace",
    );
    expect(keys).toBe(`${4 * 2 + 4 + 1}\n`); // both sides of 4 join tables; 4 records tables and _tables
    const joinIndexes = await pg.psql(
      "SELECT count(*) FROM pg_indexes WHERE schemaname = 'partial' AND tablename LIKE '%Next'",
    );
    expect(joinIndexes).toBe(`${4 * 2}\n`); // record_id and linked_id of each join table
  }, 60_000);

  test("Ctrl-C exits 130 and rolls everything back: no new schema, an earlier export untouched", async () => {
    const big = join(archives.dir, "big-pg.zip");
    await writeSyntheticArchive(big, { records: 80_000 });
    const interrupt = { signal: "SIGINT" as const, when: (stderr: string) => stderr.includes("exporting Contacts") };
    const first = await runCli(["export", big, "-o", pg.url, "--verbose"], { interrupt });
    expect(first.code).toBe(130);
    expect(await pg.psql("SELECT count(*) FROM pg_namespace WHERE nspname = 'synthetic_crm'")).toBe("0\n");

    expect((await runCli(["export", archives.sample, "-o", pg.url, "--schema", "kept"])).code).toBe(0);
    const second = await runCli(["export", big, "-o", pg.url, "--schema", "kept", "--replace", "--verbose"], {
      interrupt,
    });
    expect(second.code).toBe(130);
    expect(await pg.psql('SELECT base_name, (SELECT count(*) FROM kept."Contacts") FROM kept._meta')).toBe(
      "Sample CRM|8\n",
    );
    expect(readdirSync("/tmp").filter((f) => f.startsWith("airbackup-copy-"))).toEqual([]); // spools removed
  }, 90_000);

  test("the password never appears in output, errors or --verbose traces; PGPASSWORD works too", async () => {
    const wrong = pg.url.replace(PG_PASSWORD, "Wrong-Pass-77");
    for (const flags of [[], ["--verbose"], ["--json"]]) {
      const run = await runCli(["export", archives.sample, "-o", wrong, "--schema", "nope", ...flags]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("password authentication failed");
      expect(run.stdout + run.stderr).not.toContain("Wrong-Pass-77");
    }
    const refused = await runCli([
      "export",
      archives.sample,
      "-o",
      `postgres://u:Secret-Port-1@127.0.0.1:1/db`,
      "--verbose",
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("postgres://u@127.0.0.1:1/db");
    expect(refused.stdout + refused.stderr).not.toContain("Secret-Port-1");
    const clash = await runCli(["export", archives.sample, "-o", pg.url, "--schema", "mine", "--verbose", "--json"]);
    expect(clash.code).toBe(1);
    const ok = await runCli(["export", archives.sample, "-o", pg.url, "--schema", "verbose", "--verbose", "--json"]);
    expect(ok.code).toBe(0);
    for (const run of [clash, ok]) expect(run.stdout + run.stderr).not.toContain(PG_PASSWORD);
    const viaEnv = await runCli(
      ["export", archives.sample, "-o", `postgres://postgres@127.0.0.1:${pg.port}/postgres`, "--schema", "env"],
      { env: { PGPASSWORD: PG_PASSWORD } },
    );
    expect(viaEnv.code).toBe(0);
    expect(viaEnv.stdout + viaEnv.stderr).not.toContain(PG_PASSWORD);
  }, 60_000);
});

// --- internal ---

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
const lit = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** The PostgreSQL type design.md names for a field. */
function expectedType(field: { type: string; options?: Record<string, unknown> }): string {
  const result = field.options?.result as { type: string; options?: Record<string, unknown> } | undefined;
  if ((field.type === "formula" || field.type === "rollup") && result) return expectedType(result);
  if (field.type === "currency") return "numeric";
  if (
    field.type === "date" ||
    ((field.type === "createdTime" || field.type === "lastModifiedTime") && result?.type === "date")
  )
    return "date";
  if (["dateTime", "createdTime", "lastModifiedTime"].includes(field.type)) return "timestamp with time zone";
  const expected = expectedCell(field, undefined);
  return { integer: "bigint", real: "double precision", boolean: "boolean", text: "text", json: "jsonb" }[
    expected.kind
  ];
}

async function checkSchema(schema: string, archive: ArchiveContents): Promise<void> {
  const fields = new Map(
    (await pg.psql(`SELECT table_id || '/' || field_id, "table", "column" FROM ${schema}._fields`))
      .trim()
      .split("\n")
      .map((l) => l.split("|"))
      .map(([key, table, column]) => [key!, { table: table!, column: column! }]),
  );
  const meta = (await pg.psql(`SELECT base_id, base_name FROM ${schema}._meta`)).trim();
  expect(meta).toBe(`${archive.manifest.base.id}|${archive.manifest.base.name}`);
  let joins = 0;
  let links = 0;
  for (const table of archive.tables) {
    const sqlName = fields.get(`${table.id}/${table.fields[0]!.id}`)!.table;
    const types = new Map(
      (
        await pg.psql(
          `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ${lit(schema)} AND table_name = ${lit(sqlName)}`,
        )
      )
        .trim()
        .split("\n")
        .map((l) => l.split("|") as [string, string]),
    );
    expect(types.get("id")).toBe("text");
    expect(types.get("createdTime")).toBe("timestamp with time zone");
    const text = await pg.psql(`SELECT to_jsonb(t) FROM ${q(schema)}.${q(sqlName)} t`);
    const rows = new Map(
      text
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .map((r) => [r.id, r]),
    );
    const records = archive.records.get(table.id)!;
    expect(rows.size).toBe(records.length);
    for (const field of table.fields) {
      const column = fields.get(`${table.id}/${field.id}`)!.column;
      expect({ field: field.name, type: types.get(column) }).toEqual({ field: field.name, type: expectedType(field) });
    }
    for (const record of records) {
      const row = rows.get(record.id)!;
      expect(Date.parse(String(row.createdTime))).toBe(Date.parse(record.createdTime));
      for (const field of table.fields) {
        const column = fields.get(`${table.id}/${field.id}`)!.column;
        const at = `${table.name}.${field.name} (${field.type}) of ${record.id}`;
        const expected = expectedCell(field, record.fields[field.name]);
        let value = row[column];
        if (types.get(column) === "timestamp with time zone" && value !== null)
          value = new Date(String(value)).toISOString();
        expect({ at, value }).toEqual({ at, value: expected.value });
      }
      for (const field of table.fields.filter((f) => f.type === "multipleRecordLinks")) {
        const ids = (record.fields[field.name] as string[] | undefined) ?? [];
        links += ids.length;
      }
    }
    for (const field of table.fields.filter((f) => f.type === "multipleRecordLinks")) {
      joins++;
      const join = `${sqlName}__${fields.get(`${table.id}/${field.id}`)!.column}`;
      const got = (
        await pg.psql(`SELECT record_id, linked_id FROM ${q(schema)}.${q(join)} ORDER BY record_id, position`)
      )
        .trim()
        .split("\n")
        .filter(Boolean);
      const want = records.flatMap((r) =>
        ((r.fields[field.name] as string[] | undefined) ?? []).map((id) => `${r.id}|${id}`),
      );
      expect(got.sort()).toEqual(want.sort());
    }
  }
  expect(links).toBeGreaterThan(0);
  const keys = await pg.psql(
    `SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = ${lit(schema)}::regnamespace`,
  );
  expect(Number(keys)).toBe(joins * 2);
  const formulas = archive.tables.flatMap((t) => t.fields.filter((f) => typeof f.options?.formula === "string"));
  for (const f of formulas)
    expect(await pg.psql(`SELECT formula FROM ${schema}._fields WHERE field_id = ${lit(f.id)}`)).toBe(
      `${f.options!.formula}\n`,
    );
}
