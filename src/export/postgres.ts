// PostgreSQL target (Bun.sql): one connection, one transaction for the whole export (DDL included), rows
// loaded with COPY ... FROM STDIN in text format; a join table's indexes and its key to its records table built
// behind its load (while the next table is read), the other indexes and keys after the load. An error or
// Ctrl-C rolls it all back. The password never reaches a message: errors are rebuilt without it.
import type { ReservedSQL, SQL } from "bun";
import { AirbackupError } from "../errors.ts";
import { type ForeignKey, postgresType, type TableSpec } from "./mapping.ts";
import { type CopyLoader, createCopyLoader } from "./postgres-copy.ts";
import { quote } from "./sqlite.ts";
import type { ExportTarget } from "./target.ts";

/** The URL without its password (for messages). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = "";
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, "//$1@");
  }
}

/** A schema name from the base's name: lower case, letters and digits joined by "_". */
export function schemaSlug(baseName: string): string {
  const slug = baseName
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 63);
  return slug || "airtable";
}

export function postgresTarget(url: string, schemaOption?: string): ExportTarget {
  const label = redactUrl(url);
  const password = safeUrl(url)?.password ?? "";
  let sql: SQL | undefined;
  let conn: ReservedSQL | undefined;
  let schema = schemaOption ?? "";
  const name = (table: string) => `${quote(schema)}.${quote(table)}`;
  const fail = (error: unknown, doing: string): never => {
    if (error instanceof AirbackupError) throw error;
    const raw = error instanceof Error ? error.message : String(error);
    const message = password ? raw.replaceAll(password, "***").replaceAll(encodeURIComponent(password), "***") : raw;
    // Bun.sql's error is not kept as the cause: nothing of the URL may reach --verbose output.
    throw new AirbackupError("DATABASE", `${label}: ${doing}: ${message}`);
  };
  let loader: CopyLoader | undefined;
  let streamed = new Set<TableSpec>();
  /** Indexes and foreign keys already added (behind a join table's load, or by removeDangling): commit() adds the others. */
  const early = new Set<string>();
  const exec = async (text: string, params: unknown[] = [], doing = "a statement failed") => {
    await loader?.flush(); // every row copied in before anything else runs
    try {
      return await conn!.unsafe(text, params);
    } catch (error) {
      return fail(error, doing);
    }
  };
  /** Statements in one round trip (simple protocol): Bun.sql sends one query per turn of the event loop. */
  const execAll = async (statements: string[], doing = "a statement failed") => {
    await loader?.flush();
    if (statements.length === 0) return;
    try {
      await conn!.unsafe(statements.join(";\n")).simple();
    } catch (error) {
      fail(error, doing);
    }
  };

  return {
    label,
    maxIdentifierBytes: 63,
    joinTables: true,
    async begin(plan, tables, { replace, baseName }) {
      schema ||= schemaSlug(baseName);
      try {
        sql = new Bun.SQL(url, { max: 1, connectionTimeout: 30 });
        conn = await sql.reserve();
      } catch (error) {
        fail(error, "cannot connect");
      }
      await exec("BEGIN");
      await exec(`CREATE SCHEMA IF NOT EXISTS ${quote(schema)}`);
      const existing = async () =>
        new Set(
          (
            (await exec(
              "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1",
              [schema],
            )) as { relname: string }[]
          ).map((r) => r.relname),
        );
      if ((await existing()).has(plan.index.name)) {
        const [base] = (await exec(`SELECT base_id, base_name FROM ${name(plan.meta.name)} LIMIT 1`).catch(
          () => [],
        )) as {
          base_id: string;
          base_name: string;
        }[];
        if (!replace)
          throw new AirbackupError(
            "EXPORT_EXISTS",
            `schema ${schema} already holds an export${base ? ` of ${base.base_name} (${base.base_id})` : ""}`,
            { hint: "add --replace to replace it, or choose another --schema" },
          );
        const earlier = (await exec(`SELECT "table" FROM ${name(plan.index.name)}`)) as { table: string }[];
        const drop = [...earlier.map((r) => r.table).filter((t) => t !== plan.index.name), plan.index.name];
        await exec(`DROP TABLE IF EXISTS ${drop.map(name).join(", ")}`, [], "cannot drop the earlier export");
      }
      const names = await existing();
      const clash = tables.find((t) => names.has(t.name) || t.indexes.some((i) => names.has(i.name)));
      if (clash)
        throw new AirbackupError(
          "EXPORT_EXISTS",
          `schema ${schema} already has a table named ${clash.name} that no airbackup export made`,
          { hint: "choose another --schema; airbackup never drops a table it did not create" },
        );
      // A records table's primary key is there from the start: the server keeps it up while it waits for the
      // next rows (reading the archive is the slower side), instead of building it after the load while we
      // wait. The other indexes and keys come after the load: one sorted build beats row-by-row upkeep there.
      streamed = new Set(plan.tables.map((t) => t.spec));
      await execAll(
        tables.map((spec) => {
          const columns = spec.columns.map((c) => `${quote(c.name)} ${postgresType(c.kind)}`);
          if (streamed.has(spec) && spec.primaryKey) columns.push(`PRIMARY KEY (${quote(spec.primaryKey)})`);
          return `CREATE TABLE ${name(spec.name)} (${columns.join(", ")})`;
        }),
      );
      // A join table is whole once its records table is loaded (its rows come only from that table's records):
      // its indexes and its key to that table are built then, while the next table is read.
      const owners = new Map(plan.tables.flatMap((t) => t.links.map((l) => [l.join, t.spec] as const)));
      loader = createCopyLoader(conn!, name, streamed, fail, (spec, ended) => {
        const owner = owners.get(spec);
        if (!owner || owner !== ended) return [];
        const statements = [
          ...spec.indexes.map(createIndex(spec)),
          ...spec.foreignKeys.filter((key) => key.column === "record_id").map((key) => addForeignKey(spec, key)),
        ];
        for (const statement of statements) early.add(statement);
        return statements;
      });
    },
    async insert(spec, rows) {
      await loader!.add(spec, rows);
    },
    async writeFile(sha256, bytes) {
      await exec(`INSERT INTO ${name("_files")} VALUES ($1, $2)`, [
        sha256,
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length),
      ]);
    },
    async removeDangling(join, column, table) {
      if (!table) return 0;
      // The foreign key's own check finds dangling links too, so it is tried first (the linked table's primary
      // key is there from the start): one scan of the linked table, not two, when nothing dangles (the usual
      // case). Only when it fails are the dangling rows deleted, and the key is added at commit.
      const key = join.foreignKeys.find((k) => k.column === column && k.table === table);
      if (key) {
        await exec("SAVEPOINT dangling");
        try {
          await conn!.unsafe(addForeignKey(join, key));
          await exec("RELEASE SAVEPOINT dangling");
          early.add(addForeignKey(join, key));
          return 0;
        } catch (error) {
          if ((error as { errno?: unknown }).errno !== FOREIGN_KEY_VIOLATION) fail(error, "a statement failed");
          await exec("ROLLBACK TO SAVEPOINT dangling");
        }
      }
      const result = await exec(
        `DELETE FROM ${name(join.name)} j WHERE NOT EXISTS (SELECT 1 FROM ${name(table)} t WHERE t."id" = j.${quote(column)})`,
      );
      return (result as { count?: number }).count ?? 0;
    },
    async commit(tables) {
      await execAll([
        ...tables
          .filter((spec) => spec.primaryKey && !streamed.has(spec))
          .map((spec) => `ALTER TABLE ${name(spec.name)} ADD PRIMARY KEY (${quote(spec.primaryKey!)})`),
        ...tables
          .flatMap((spec) => [
            ...spec.indexes.map(createIndex(spec)),
            ...spec.foreignKeys.map((key) => addForeignKey(spec, key)),
          ])
          .filter((statement) => !early.has(statement)),
      ]);
      await exec("COMMIT", [], "cannot commit");
      await loader?.discard(); // nothing left to discard but the spool directory
      await close();
    },
    async abort() {
      await loader?.discard();
      if (conn) await conn.unsafe("ROLLBACK").catch(() => {});
      await close();
    },
  };

  function createIndex(spec: TableSpec) {
    return (index: { name: string; column: string }) =>
      `CREATE INDEX ${quote(index.name)} ON ${name(spec.name)} (${quote(index.column)})`;
  }

  function addForeignKey(spec: TableSpec, key: ForeignKey): string {
    return `ALTER TABLE ${name(spec.name)} ADD FOREIGN KEY (${quote(key.column)}) REFERENCES ${name(key.table)} ("id")`;
  }

  async function close() {
    conn?.release();
    conn = undefined;
    await sql?.close().catch(() => {});
    sql = undefined;
  }
}

// --- internal ---

/** SQLSTATE foreign_key_violation. */
const FOREIGN_KEY_VIOLATION = "23503";

function safeUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}
