// CSV and NDJSON targets: a directory with one file per table (`<table>.csv` or `.ndjson`) and, with --files,
// `attachments/<sha256>`. Written into `<dir>.airbackup-<pid>.partial` and renamed into place at the end, so an
// error or Ctrl-C leaves the target as it was.

import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { FileSink } from "bun";
import { AirbackupError } from "../errors.ts";
import type { CellValue } from "./cells.ts";
import type { TableSpec } from "./mapping.ts";
import { createNamer } from "./names.ts";
import type { ExportTarget } from "./target.ts";

export type DirectoryFormat = "csv" | "ndjson";

export function directoryTarget(path: string, format: DirectoryFormat): ExportTarget {
  const staging = `${path}.airbackup-${process.pid}.partial`;
  const writers = new Map<TableSpec, { sink: FileSink; encode: (row: CellValue[]) => string }>();
  let started = false;

  const closeAll = async () => {
    for (const { sink } of writers.values()) await sink.end();
    writers.clear();
  };

  return {
    label: path,
    joinTables: false,
    async begin(_plan, tables, { replace }) {
      checkTarget(path, format, replace);
      started = true;
      mkdirSync(staging, { mode: 0o700 });
      const fileName = createNamer(200);
      for (const spec of tables) {
        const sink = Bun.file(join(staging, `${fileName(safeFileName(spec.name))}.${format}`)).writer({
          highWaterMark: 1 << 20,
        });
        const encode = format === "csv" ? csvEncoder(spec) : ndjsonEncoder(spec);
        if (format === "csv") sink.write(`${spec.columns.map((c) => csvField(c.name)).join(",")}\r\n`);
        writers.set(spec, { sink, encode });
      }
    },
    async insert(spec, rows) {
      const { sink, encode } = writers.get(spec)!;
      let text = "";
      for (const row of rows) text += encode(row);
      sink.write(text);
      await sink.flush();
    },
    async writeFile(sha256, bytes) {
      mkdirSync(join(staging, "attachments"), { recursive: true, mode: 0o700 });
      await Bun.write(join(staging, "attachments", sha256), bytes);
    },
    async removeDangling() {
      return 0; // no join tables: links stay JSON arrays of record ids
    },
    async commit() {
      await closeAll();
      const old = `${path}.airbackup-${process.pid}.old`;
      if (existsSync(path)) renameSync(path, old);
      renameSync(staging, path);
      rmSync(old, { recursive: true, force: true });
    },
    async abort() {
      await closeAll().catch(() => {});
      if (started) rmSync(staging, { recursive: true, force: true });
    },
  };
}

/** A table name as a file name: path separators, control characters and a leading dot replaced. */
export function safeFileName(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
  const safe = name.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, "_").replace(/^\./, "_");
  return safe || "_";
}

// --- internal ---

function checkTarget(path: string, format: DirectoryFormat, replace: boolean): void {
  if (!existsSync(path)) return;
  if (!statSync(path).isDirectory())
    throw new AirbackupError("EXPORT_EXISTS", `${path} exists and is not a directory`, {
      hint: `-o names the directory that will hold one .${format} file per table`,
    });
  const entries = readdirSync(path);
  if (entries.length === 0) return;
  const earlier = entries.includes("_meta.csv") || entries.includes("_meta.ndjson");
  if (!earlier)
    throw new AirbackupError("EXPORT_EXISTS", `${path} is not empty and holds no airbackup export`, {
      hint: "export into a new or empty directory",
    });
  if (!replace)
    throw new AirbackupError("EXPORT_EXISTS", `${path} already holds an export`, {
      hint: "add --replace to replace it, or export into another directory",
    });
}

function csvEncoder(spec: TableSpec): (row: CellValue[]) => string {
  const json = spec.columns.map((c) => c.kind === "json");
  return (row) => {
    let line = "";
    for (let i = 0; i < row.length; i++) {
      const v = row[i];
      if (i > 0) line += ",";
      if (v === null || v === undefined) continue;
      line += csvField(json[i] ? JSON.stringify(v) : typeof v === "object" ? JSON.stringify(v) : String(v));
    }
    return `${line}\r\n`;
  };
}

/** RFC 4180: quoted when it holds a comma, quote or line break; an empty string is "" (an empty field is NULL). */
function csvField(text: string): string {
  return text === "" || /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function ndjsonEncoder(spec: TableSpec): (row: CellValue[]) => string {
  const names = spec.columns.map((c) => c.name);
  return (row) => {
    const object: Record<string, CellValue> = {};
    for (let i = 0; i < names.length; i++) object[names[i]!] = row[i] ?? null;
    return `${JSON.stringify(object)}\n`;
  };
}
