// SQLite target (bun:sqlite). A new file is built as `<file>.airbackup-<pid>.partial` without a journal (fast)
// and linked into place at the end; an existing file gets the whole export in one transaction. Either way an
// error or Ctrl-C leaves the target as it was.
import { Database, type Statement } from "bun:sqlite";
import { chmodSync, existsSync, linkSync, rmSync } from "node:fs";
import { AirbackupError } from "../errors.ts";
import type { CellValue } from "./cells.ts";
import { type ExportPlan, sqliteType, type TableSpec } from "./mapping.ts";
import type { ExportTarget } from "./target.ts";

type SqlValue = string | number | null | Uint8Array;

export function sqliteTarget(path: string): ExportTarget {
  const fresh = !existsSync(path);
  const file = fresh ? `${path}.airbackup-${process.pid}.partial` : path;
  let db: Database | undefined;
  let open = false;
  const inserts = new Map<TableSpec, { statement: Statement; convert: ((v: CellValue) => SqlValue)[] }>();

  return {
    label: path,
    joinTables: true,
    async begin(plan, tables, { replace }) {
      db = openDatabase(file, path);
      if (fresh) {
        chmodSync(file, 0o600);
        db.run("PRAGMA journal_mode = OFF");
        db.run("PRAGMA synchronous = OFF");
      }
      db.run("PRAGMA foreign_keys = OFF");
      db.run("BEGIN IMMEDIATE");
      open = true;
      if (!fresh) dropEarlierExport(db, path, plan, tables, replace);
      for (const spec of tables) {
        db.run(createTable(spec));
        const marks = spec.columns.map(() => "?").join(", ");
        inserts.set(spec, {
          statement: db.prepare(`INSERT INTO ${quote(spec.name)} VALUES (${marks})`),
          convert: spec.columns.map((c) => (c.kind === "json" ? toJson : toSql)),
        });
      }
    },
    async insert(spec, rows) {
      const { statement, convert } = inserts.get(spec)!;
      for (const row of rows) statement.run(...row.map((v, i) => convert[i]!(v)));
    },
    async writeFile(sha256, bytes) {
      db!.run('INSERT INTO "_files" VALUES (?, ?)', [sha256, bytes]);
    },
    async removeDangling(join, column, table) {
      if (!table) return 0;
      const sql = `DELETE FROM ${quote(join.name)} WHERE ${quote(column)} NOT IN (SELECT "id" FROM ${quote(table)})`;
      return db!.run(sql).changes;
    },
    async commit(tables) {
      for (const spec of tables)
        for (const index of spec.indexes)
          db!.run(`CREATE INDEX ${quote(index.name)} ON ${quote(spec.name)} (${quote(index.column)})`);
      for (const { statement } of inserts.values()) statement.finalize();
      inserts.clear();
      db!.run("COMMIT");
      if (fresh) {
        db!.close();
        open = false;
        try {
          linkSync(file, path); // fails rather than overwrite a file that appeared meanwhile
        } catch (error) {
          throw new AirbackupError("IO", `${path}: cannot put the export in place: ${(error as Error).message}`, {
            cause: error,
          });
        }
        rmSync(file, { force: true });
      } else {
        db!.close();
        open = false;
      }
    },
    async abort() {
      if (open) {
        for (const { statement } of inserts.values()) statement.finalize();
        inserts.clear();
        if (!fresh && db!.inTransaction) db!.run("ROLLBACK"); // a fresh file has no journal: it is deleted instead
        db!.close();
        open = false;
      }
      if (fresh) for (const f of [file, `${file}-journal`]) rmSync(f, { force: true });
    },
  };
}

export function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

// --- internal ---

function openDatabase(file: string, label: string): Database {
  try {
    const db = new Database(file, { create: true });
    db.run("PRAGMA schema_version"); // fails here, not later, for a file that is not SQLite
    return db;
  } catch (error) {
    throw new AirbackupError("IO", `${label}: cannot open as a SQLite database: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Refuses an earlier export unless `replace` (then drops its tables); always refuses a table no export made. */
function dropEarlierExport(db: Database, path: string, plan: ExportPlan, tables: TableSpec[], replace: boolean) {
  const existing = () =>
    new Set(
      db
        .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
        .all()
        .map((r) => r.name.toLowerCase()),
    );
  if (existing().has(plan.index.name)) {
    const base = db.query<{ base_id: string; base_name: string }, []>("SELECT * FROM _meta LIMIT 1").get();
    if (!replace)
      throw new AirbackupError(
        "EXPORT_EXISTS",
        `${path} already holds an export${base ? ` of ${base.base_name} (${base.base_id})` : ""}`,
        { hint: "add --replace to replace it, or export to another file" },
      );
    const earlier = db.query<{ table: string }, []>('SELECT "table" FROM _tables').all();
    for (const { table } of earlier) db.run(`DROP TABLE IF EXISTS ${quote(table)}`);
    db.run(`DROP TABLE IF EXISTS ${quote(plan.index.name)}`);
  }
  const names = existing();
  const clash = tables.find((t) => names.has(t.name.toLowerCase()));
  if (clash)
    throw new AirbackupError(
      "EXPORT_EXISTS",
      `${path} already has a table named ${clash.name} that no airbackup export made`,
      { hint: "export to another file; airbackup never drops a table it did not create" },
    );
}

function createTable(spec: TableSpec): string {
  const columns = spec.columns.map(
    (c) => `${quote(c.name)} ${sqliteType(c.kind)}${c.name === spec.primaryKey ? " PRIMARY KEY" : ""}`,
  );
  const keys = spec.foreignKeys.map((k) => `FOREIGN KEY (${quote(k.column)}) REFERENCES ${quote(k.table)} ("id")`);
  return `CREATE TABLE ${quote(spec.name)} (${[...columns, ...keys].join(", ")})`;
}

function toSql(value: CellValue): SqlValue {
  if (value === null || typeof value === "string" || typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Uint8Array) return value;
  return JSON.stringify(value);
}

function toJson(value: CellValue): SqlValue {
  return value === null ? null : JSON.stringify(value);
}
