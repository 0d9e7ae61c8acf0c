// The export use case: an archive's tables streamed into a target in batches (memory stays flat), then the
// join tables cleaned of links to records that are not there, _fields, _meta and _tables, and one commit.
import pkg from "../../package.json" with { type: "json" };
import type { ArchivedRecord } from "../archive/contents.ts";
import type { OpenedSource } from "../archive/zip-reader.ts";
import { AirbackupError } from "../errors.ts";
import { openArchiveSource } from "../restore/archive-source.ts";
import { throwIfInterrupted } from "../shutdown.ts";
import { type CellValue, recordRows } from "./cells.ts";
import { type ExportPlan, planExport, type SchemaTable, type TableSpec } from "./mapping.ts";
import type { ExportTarget } from "./target.ts";

export interface ExportOptions {
  /** A local path, or an s3:// archive opened for Range reads. */
  archive: string | OpenedSource;
  target: ExportTarget;
  /** Only these archived tables (names or ids); empty: all. */
  tables: string[];
  files: boolean;
  replace: boolean;
  signal: AbortSignal;
  onEvent?: (event: ExportEvent) => void;
}

export type ExportEvent =
  | { type: "start"; records: number }
  | { type: "table"; table: string; records: number }
  | { type: "records"; table: string; count: number }
  | { type: "files"; count: number };

export interface ExportReport {
  base: { id: string; name: string };
  target: string;
  tables: { name: string; airtableName: string; records: number }[];
  files: number;
  /** Names changed to stay unique, and links to records the archive does not hold (left out). */
  notes: string[];
  /** Values that did not fit their column's type, exported as NULL (exit 3). */
  warnings: string[];
}

/** Rows sent to the target at a time (per table). */
const BATCH = 1000;

export async function runExport(options: ExportOptions): Promise<ExportReport> {
  const { target, signal } = options;
  const source = await openArchiveSource(options.archive);
  try {
    const { manifest } = source;
    const chosen = chooseTables(source.tables, manifest.tables, options.tables);
    const plan = planExport(chosen, {
      joinTables: target.joinTables,
      ...(target.maxIdentifierBytes ? { maxIdentifierBytes: target.maxIdentifierBytes } : {}),
    });
    const specs = allTables(plan, options.files && target.joinTables);
    const notes = [...plan.renames.map((r) => `renamed ${r}`)];
    const warnings: string[] = [];
    const sha256Of = new Map<string, string>();
    for await (const a of source.attachments()) sha256Of.set(a.id, a.sha256);
    const total = chosen.reduce((sum, t) => sum + (manifest.tables.find((m) => m.id === t.id)?.records ?? 0), 0);
    options.onEvent?.({ type: "start", records: total });

    const batch = target.batchRows ?? BATCH;
    throwIfInterrupted(signal);
    await target.begin(plan, specs, {
      replace: options.replace,
      baseId: manifest.base.id,
      baseName: manifest.base.name,
    });
    try {
      const counts = new Map<string, number>();
      const buffers = new Map<TableSpec, CellValue[][]>();
      const add = async (spec: TableSpec, row: CellValue[]) => {
        let rows = buffers.get(spec);
        if (!rows) {
          rows = [];
          buffers.set(spec, rows);
        }
        rows.push(row);
        counts.set(spec.name, (counts.get(spec.name) ?? 0) + 1);
        if (rows.length >= batch) await flush(spec);
      };
      const flush = async (spec: TableSpec) => {
        const rows = buffers.get(spec);
        if (!rows?.length) return;
        throwIfInterrupted(signal);
        buffers.set(spec, []);
        await target.insert(spec, rows);
        collectGarbage();
      };
      const specByName = new Map(specs.map((s) => [s.name, s]));
      for (const table of plan.tables) {
        const misfits: number[] = [];
        let done = 0;
        const records = manifest.tables.find((m) => m.id === table.tableId)?.records ?? 0;
        options.onEvent?.({ type: "table", table: table.spec.name, records });
        for await (const record of source.records(table.tableId) as AsyncIterable<ArchivedRecord>) {
          const rows = recordRows(table, record, (id) => sha256Of.get(id), misfits);
          await add(table.spec, rows.row);
          for (const link of rows.links) for (const row of link.rows) await add(specByName.get(link.join)!, row);
          for (const row of rows.attachments) await add(plan.attachments, row);
          if (++done % BATCH === 0) options.onEvent?.({ type: "records", table: table.spec.name, count: BATCH });
        }
        options.onEvent?.({ type: "records", table: table.spec.name, count: done % BATCH });
        counts.set(table.spec.name, done);
        misfits.forEach((n, index) => {
          const f = table.fields.find((f) => f.index === index)!;
          if (n)
            warnings.push(
              `${table.spec.name}.${f.column}: ${n} value${n === 1 ? "" : "s"} that ${n === 1 ? "is" : "are"} not ${describeKind(f.kind)} exported as NULL`,
            );
        });
        for (const spec of [table.spec, ...table.links.map((l) => l.join)]) await flush(spec);
      }
      await flush(plan.attachments);

      let files = 0;
      if (options.files) {
        for (const sha256 of new Set(sha256Of.values())) {
          throwIfInterrupted(signal);
          if (source.fileSize(sha256) === undefined) continue; // a file the backup could not fetch
          await target.writeFile(sha256, await source.fileBytes(sha256));
          collectGarbage();
          files++;
          options.onEvent?.({ type: "files", count: files });
        }
        counts.set(plan.files.name, files);
      }

      for (const table of plan.tables)
        for (const link of table.links) {
          const gone = await target.removeDangling(link.join, "linked_id", link.linkedTable ?? "");
          counts.set(link.join.name, (counts.get(link.join.name) ?? 0) - gone);
          if (gone)
            notes.push(
              `${link.join.name}: ${gone} link${gone === 1 ? "" : "s"} to records not in the archive left out`,
            );
        }

      for (const table of plan.tables)
        for (const f of table.fields) {
          const options = f.field.options ?? null;
          const formula = typeof options?.formula === "string" ? options.formula : null;
          await add(plan.fields, [
            table.spec.name,
            table.tableId,
            f.field.id,
            f.field.name,
            f.column,
            f.field.type,
            options,
            formula,
          ]);
        }
      await add(plan.meta, [
        manifest.base.id,
        manifest.base.name,
        source.path.split(/[\\/]/).pop() ?? source.path,
        manifest.startedAt,
        manifest.finishedAt,
        manifest.tool.version,
        new Date().toISOString(),
        `airbackup ${pkg.version}`,
      ]);
      for (const spec of specs) if (spec !== plan.index) await add(plan.index, indexRow(plan, spec, counts));
      await add(plan.index, [plan.index.name, "system", null, null, specs.length]);
      for (const spec of specs) await flush(spec);
      throwIfInterrupted(signal);
      await target.commit(specs);
      return {
        base: manifest.base,
        target: target.label,
        tables: plan.tables.map((t) => ({
          name: t.spec.name,
          airtableName: t.airtableName,
          records: counts.get(t.spec.name) ?? 0,
        })),
        files,
        notes,
        warnings,
      };
    } catch (error) {
      await target.abort();
      throw error;
    }
  } finally {
    await source.close();
  }
}

// --- internal ---

/** Bytes the resident set may grow by before the garbage is collected. */
const GARBAGE_SLACK = 32 * 1024 * 1024;
let settled = 0;

/**
 * A batch leaves megabytes of dead strings and buffers; JavaScriptCore collects them late, and RSS climbs
 * past 150 MB on an 80 MB table (measured with bench/export.ts --memory). A full collection whenever RSS grew
 * by GARBAGE_SLACK since the last one keeps it flat. RSS is read after every batch and file (8 us a read):
 * read at most every 100 ms, it let a fast run grow far past the slack between two reads (--files on a
 * quiet machine: 147-184 MB; read every time: 116-138 MB).
 */
function collectGarbage(): void {
  const rss = process.memoryUsage.rss();
  if (rss < settled + GARBAGE_SLACK) return;
  Bun.gc(true);
  settled = process.memoryUsage.rss();
}

/** The archived tables to export, in schema order: every table the archive holds records for, or those named. */
function chooseTables(
  schema: readonly SchemaTable[],
  archived: readonly { id: string; name: string }[],
  wanted: readonly string[],
): SchemaTable[] {
  const present = schema.filter((t) => archived.some((a) => a.id === t.id));
  if (wanted.length === 0) return present;
  for (const name of wanted)
    if (!present.some((t) => t.id === name || t.name === name))
      throw new AirbackupError("USAGE", `-t ${name}: no such table in the archive`, {
        hint: `tables: ${present.map((t) => t.name).join(", ")}`,
      });
  return present.filter((t) => wanted.includes(t.id) || wanted.includes(t.name));
}

function allTables(plan: ExportPlan, files: boolean): TableSpec[] {
  return [
    ...plan.tables.flatMap((t) => [t.spec, ...t.links.map((l) => l.join)]),
    plan.attachments,
    ...(files ? [plan.files] : []),
    plan.fields,
    plan.meta,
    plan.index,
  ];
}

function indexRow(plan: ExportPlan, spec: TableSpec, counts: Map<string, number>): CellValue[] {
  const rows = counts.get(spec.name) ?? 0;
  const table = plan.tables.find((t) => t.spec === spec);
  if (table) return [spec.name, "records", table.tableId, table.airtableName, rows];
  const owner = plan.tables.find((t) => t.links.some((l) => l.join === spec));
  if (owner) return [spec.name, "links", owner.tableId, owner.airtableName, rows];
  return [spec.name, "system", null, null, rows];
}

function describeKind(kind: string): string {
  return (
    { integer: "a whole number", real: "a number", decimal: "a number", boolean: "true or false" }[kind] ??
    (kind === "date" ? "a date" : kind === "timestamp" ? "a date and time" : kind)
  );
}
