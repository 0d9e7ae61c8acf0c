// Loading rows into PostgreSQL with COPY ... FROM STDIN (text format) on the export's one connection. One COPY
// stays open for the records table being read, so its rows stream to the server (which parses them while the
// next batch is read); rows for other tables at the same time (join tables, _attachments) go to spool files
// and are copied in when that COPY ends. One COPY per table, memory flat. What can be built as soon as a
// spooled table is loaded (a join table's indexes, say: `afterLoad`) is sent right behind it without waiting,
// so the server builds it while the next table is read; a failure there is thrown by the next flush.

import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FileSink, ReservedSQL } from "bun";
import type { CellValue } from "./cells.ts";
import type { TableSpec } from "./mapping.ts";

export interface CopyLoader {
  add(spec: TableSpec, rows: CellValue[][]): Promise<void>;
  /** Ends the open COPY, copies every spool in, waits for what was sent behind them; throws the first failure through `fail`. */
  flush(): Promise<void>;
  /** Stores nothing more: aborts the open COPY, removes the spools. */
  discard(): Promise<void>;
}

export function createCopyLoader(
  conn: ReservedSQL,
  qualified: (table: string) => string,
  streamed: ReadonlySet<TableSpec>,
  fail: (error: unknown, doing: string) => never,
  /** Statements to run once `spec` is loaded, given the records table whose COPY just ended. */
  afterLoad: (spec: TableSpec, ended: TableSpec | undefined) => string[] = () => [],
): CopyLoader {
  let open: { spec: TableSpec; writer: WritableStreamDefaultWriter; query: Promise<unknown> } | undefined;
  const spools = new Map<TableSpec, { path: string; sink: FileSink }>();
  let dir: string | undefined;
  const removing: Promise<void>[] = [];
  /** Statements sent behind the loads and not waited for; the first failure among them. */
  let pipelined: Promise<void>[] = [];
  let pipelineFailure: unknown;
  let spooled = 0;

  const start = (spec: TableSpec) => {
    const query = conn.unsafe(`COPY ${qualified(spec.name)} FROM STDIN`);
    const writer = query.writable().getWriter();
    return { spec, writer, query: Promise.resolve(query) };
  };

  /** `wait` false: what afterLoad gives is sent and left running (the next table's COPY queues behind it). */
  const flush = async (wait = true) => {
    const current = open;
    open = undefined;
    if (current)
      try {
        await current.writer.close();
        await current.query;
      } catch (error) {
        fail(pipelineFailure ?? error, `cannot load ${current.spec.name}`);
      }
    const after: string[] = [];
    for (const [spec, { path, sink }] of spools) {
      spools.delete(spec);
      try {
        await sink.end();
        const query = conn.unsafe(`COPY ${qualified(spec.name)} FROM STDIN`);
        await Bun.file(path).stream().pipeTo(query.writable());
        await query;
      } catch (error) {
        fail(pipelineFailure ?? error, `cannot load ${spec.name}`);
      } finally {
        // Removed on an I/O thread while the load goes on: unlinking a file just written can take a tenth of a
        // second (its pages still being written back), and discard() waits for it at the end.
        removing.push(rm(path, { force: true }).catch(() => {}));
      }
      after.push(...afterLoad(spec, current?.spec));
    }
    if (after.length)
      pipelined.push(
        Promise.resolve(conn.unsafe(after.join(";\n")).simple().execute()).then(
          () => {},
          (error) => {
            pipelineFailure ??= error;
          },
        ),
      );
    if (!wait) return;
    await Promise.all(pipelined);
    pipelined = [];
    if (pipelineFailure) fail(pipelineFailure, "a statement failed");
  };

  return {
    async add(spec, rows) {
      if (open?.spec !== spec && streamed.has(spec)) {
        await flush(false);
        open = start(spec);
      }
      const target = open?.spec === spec ? open : undefined;
      let spool = target ? undefined : spools.get(spec);
      if (!target && !spool) {
        dir ??= mkdtempSync(join(tmpdir(), "airbackup-copy-"));
        const path = join(dir, `${++spooled}.copy`); // never a name still being removed
        spool = { path, sink: Bun.file(path).writer({ highWaterMark: 1 << 20 }) };
        spools.set(spec, spool);
      }
      for (const piece of encode(spec, rows)) {
        if (spool) spool.sink.write(piece);
        else
          try {
            await target!.writer.write(piece);
          } catch (error) {
            fail(error, `cannot load ${spec.name}`);
          }
      }
    },
    flush: () => flush(),
    async discard() {
      const current = open;
      open = undefined;
      if (current) {
        await current.writer.abort().catch(() => {});
        await current.query.catch(() => {});
      }
      for (const { sink } of spools.values()) await Promise.resolve(sink.end()).catch(() => {});
      spools.clear();
      await Promise.all([...removing, ...pipelined]);
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

// --- internal ---

/**
 * A write is ROWS rows, or PIECE characters when rows are long. Small pieces stay out of the large-object
 * heap (less CPU), but long rows in small pieces make the heap hold more between collections: measured with
 * bench/export.ts, 64 KB pieces of 8 KB records took peak RSS from 127 MB to 145 MB.
 */
const ROWS = 256;
const PIECE = 1 << 20;

/** The rows in COPY's text format, in pieces. */
function* encode(spec: TableSpec, rows: CellValue[][]): Iterable<string> {
  const json = spec.columns.map((c) => c.kind === "json");
  let text = "";
  let count = 0;
  for (const row of rows) {
    let line = copyField(row[0] ?? null, json[0]!);
    for (let i = 1; i < row.length; i++) line += `\t${copyField(row[i] ?? null, json[i]!)}`;
    text += `${line}\n`;
    if (++count === ROWS || text.length >= PIECE) {
      yield text;
      text = "";
      count = 0;
    }
  }
  if (text) yield text;
}

/** One field of COPY's text format: \N for NULL, backslash escapes; PostgreSQL text cannot hold NUL. */
function copyField(value: CellValue, json: boolean): string {
  if (value === null || value === undefined) return "\\N";
  if (json) return jsonField(JSON.stringify(value));
  if (typeof value === "string")
    return SPECIAL.test(value) ? value.replaceAll("\u0000", "").replace(SPECIALS, escapeChar) : value;
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "t" : "f";
  if (value instanceof Uint8Array) return `\\\\x${Buffer.from(value).toString("hex")}`;
  return jsonField(JSON.stringify(value));
}

/** JSON text holds no raw tab or newline (JSON.stringify escapes them): only its backslashes need doubling. */
function jsonField(text: string): string {
  return text.includes("\\") ? text.replaceAll("\\u0000", "").replaceAll("\\", "\\\\") : text;
}

const SPECIAL = /[\\\t\n\r\0]/;
const SPECIALS = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };

function escapeChar(c: string): string {
  return ESCAPES[c]!;
}
