// One base's tables, read concurrently (each one's pages in order) within the base's rate limit: records to
// a spool file that enters the archive whole, attachments scheduled as their page arrives, and the lines
// of attachments.jsonl spooled beside it until the files' hashes are known.
import { type FileHandle, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { type AirtableRecord, isAttachmentList } from "../airtable/schemas.ts";
import type { ArchiveWriter } from "../archive/archive-writer.ts";
import { readLines } from "../archive/entry-text.ts";
import type { AttachmentFetcher } from "./attachments.ts";
import type { BasePlan, PlannedTable } from "./discover.ts";
import type { BaseRun } from "./run.ts";
import { spoolTable } from "./table-spool.ts";

export interface TableResult {
  table: PlannedTable;
  records: number;
  /** Spooled attachments.jsonl lines of this table, without their sha256 (absent without attachments). */
  indexPath?: string;
  /** Records whose commentCount is above zero (only with comments). */
  commented: string[];
}

/**
 * Every table of the plan; the first failure stops the others (through the run's signal) and is thrown.
 * `onListed` is called once every table's last page is in, while they are still being written.
 */
export async function backupTables(
  run: BaseRun,
  plan: BasePlan,
  archive: ArchiveWriter,
  fetcher: AttachmentFetcher,
  tmpDir: string,
  onListed?: () => void,
): Promise<TableResult[]> {
  let unlisted = plan.tables.length;
  const listed = () => {
    if (--unlisted === 0) onListed?.();
  };
  if (unlisted === 0) onListed?.();
  const settled = await Promise.allSettled(
    plan.tables.map((table) =>
      backupTable(run, plan, table, archive, fetcher, tmpDir, listed).catch((error: unknown) => {
        run.stop.abort(error);
        throw error;
      }),
    ),
  );
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<TableResult>).value);
}

/** One table: pages to a spool file (read again whole if Airtable expires the listing), then into the archive. */
export async function backupTable(
  run: BaseRun,
  plan: BasePlan,
  table: PlannedTable,
  archive: ArchiveWriter,
  fetcher: AttachmentFetcher,
  tmpDir: string,
  onListed?: () => void,
): Promise<TableResult> {
  const { options } = run;
  const spool = join(tmpDir, `table-${table.key}.jsonl`);
  const index = options.attachments ? await openIndexSpool(join(tmpDir, `index-${table.key}.jsonl`)) : undefined;
  let commented: string[] = [];
  try {
    const { records, content } = await spoolTable(run.client, {
      baseId: plan.id,
      table,
      path: spool,
      commentCount: options.comments,
      signal: run.signal,
      onRestart: async () => {
        commented = [];
        await index?.restart();
        // Normal operation, not a warning: the table is read again whole, and the archive is complete.
        run.notice(`Airtable expired the listing of table "${table.name}"; reading it again from the start`);
      },
      onPage: async (page) => {
        run.emit({ type: "records", baseId: plan.id, table: table.name, count: page.length });
        const lines: string[] = [];
        for (const record of page) {
          if (options.comments && (record.commentCount ?? 0) > 0) commented.push(record.id);
          if (index) lines.push(...scheduleAttachments(fetcher, table, record));
        }
        await index?.add(lines);
        await fetcher.room(); // bounded work in flight: the listing waits while the download queue is full
      },
    });
    onListed?.();
    // Without schema access the "id" is the configured name: the key is its safe, unique entry name.
    await archive.writeTableFile({ id: table.key, name: table.name }, content, records);
    run.report.tables.push({ id: table.id, name: table.name, records });
    run.emit({ type: "table-done", baseId: plan.id, table: table.name, records });
    return { table, records, indexPath: index?.path, commented };
  } finally {
    await index?.close();
    await rm(spool, { force: true });
  }
}

/** attachments.jsonl from the tables' spooled lines, each completed with its file's sha256 (failed files left out). */
export async function* indexLines(tables: TableResult[], fetcher: AttachmentFetcher): AsyncIterable<string[]> {
  for (const { indexPath } of tables) {
    if (!indexPath) continue;
    let page: string[] = [];
    for await (const text of readLines(Bun.file(indexPath).stream(), indexPath)) {
      const line = JSON.parse(text) as { id: string };
      const sha256 = fetcher.hashOf(line.id);
      if (sha256) page.push(JSON.stringify({ ...line, sha256 }));
      if (page.length >= 1000) {
        yield page;
        page = [];
      }
    }
    yield page;
  }
}

// --- internal ---

/** The index lines of one cell's attachments (their hash is added once downloaded); schedules the downloads. */
function scheduleAttachments(fetcher: AttachmentFetcher, table: PlannedTable, record: AirtableRecord): string[] {
  const lines: string[] = [];
  for (const [field, value] of Object.entries(record.fields)) {
    const type = table.fieldTypes.get(field);
    // Lookups of attachment fields hold the same files; they are backed up where they live.
    if (type ? type !== "multipleAttachments" : !isAttachmentList(value)) continue;
    for (const attachment of fetcher.scheduleCell(table, record, field)) {
      const { id, filename, type: contentType, size } = attachment;
      lines.push(JSON.stringify({ id, filename, type: contentType, size, table: table.id, record: record.id, field }));
    }
  }
  return lines;
}

interface IndexSpool {
  readonly path: string;
  add(lines: string[]): Promise<void>;
  /** Forgets every line so far (the table is being read again). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

async function openIndexSpool(path: string): Promise<IndexSpool> {
  let file: FileHandle = await open(path, "w", 0o600);
  return {
    path,
    async add(lines) {
      if (lines.length > 0) await file.write(lines.map((l) => `${l}\n`).join(""));
    },
    async restart() {
      await file.close();
      file = await open(path, "w", 0o600);
    },
    close: () => file.close(),
  };
}
