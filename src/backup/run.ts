// The backup use case: each base into one verified archive. Never prints: it reports through events.
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { type AirtableRetryInfo, createAirtableClient } from "../airtable/client.ts";
import { checkAirtableId } from "../airtable/ids.ts";
import { createRateLimiter } from "../airtable/rate-limiter.ts";
import { getBaseSchema, listComments } from "../airtable/read.ts";
import { type AirtableRecord, isAttachmentList } from "../airtable/schemas.ts";
import { type ArchiveWriter, createArchive } from "../archive/archive-writer.ts";
import type { AirtableSettings } from "../config/load.ts";
import { AirbackupError } from "../errors.ts";
import { archiveName } from "../storage/archive-names.ts";
import { createAttachmentFetcher } from "./attachments.ts";
import { type BasePlan, type BaseTarget, describeSchemaChanges, listTargets, planBase } from "./discover.ts";
import { lockBase } from "./housekeeping.ts";
import { spoolTable } from "./table-spool.ts";

export interface BackupOptions {
  airtable: AirtableSettings;
  /** Bases to back up (with optional tables); undefined = every base the token can read. */
  targets?: BaseTarget[];
  outDir: string;
  attachments: boolean;
  comments: boolean;
  downloads: number;
  /**
   * Runs once a base's archive is in place, still under the base's lock: the upload, then `--prune`. It may
   * update `report.path`; a throw fails the base (the local archive stays).
   */
  afterArchive?: (report: BaseReport, signal: AbortSignal) => Promise<void>;
  tool: { name: string; version: string };
  signal: AbortSignal;
  now?: () => Date;
  onEvent?: (event: BackupEvent) => void;
}

export type BackupEvent =
  | { type: "base-start"; baseId: string; baseName: string; tables: number }
  | { type: "records"; baseId: string; table: string; count: number }
  | { type: "table-done"; baseId: string; table: string; records: number }
  | { type: "attachment-bytes"; bytes: number }
  | { type: "warning"; baseId: string; message: string }
  /** `attention`: shown even in cron (a killed earlier run), though not a warning about this archive. */
  | { type: "notice"; baseId: string; message: string; attention?: boolean }
  | { type: "verifying"; baseId: string; path: string }
  | { type: "retry"; info: AirtableRetryInfo }
  | { type: "base-done"; report: BaseReport };

export interface BaseReport {
  baseId: string;
  baseName: string;
  /** The archive written, when the base succeeded. */
  path?: string;
  error?: unknown;
  warnings: string[];
  tables: { id: string; name: string; records: number }[];
  attachments: { files: number; bytes: number; failed: number };
  apiCalls: number;
  seconds: number;
}

export interface BackupReport {
  bases: BaseReport[];
}

/** Backs up every target base; one failing base does not stop the others. */
export async function runBackup(options: BackupOptions): Promise<BackupReport> {
  const limiter = createRateLimiter(); // one per token: the 50/s user limit spans every base
  const newClient = () =>
    createAirtableClient({
      ...options.airtable,
      userAgent: `${options.tool.name}/${options.tool.version}`,
      signal: options.signal,
      limiter,
      onRetry: (info) => options.onEvent?.({ type: "retry", info }),
    });
  const { targets, names } = await listTargets(newClient(), options.targets);
  if (targets.length === 0)
    throw new AirbackupError("AIRTABLE_FORBIDDEN", "the token cannot read any base", {
      hint: "add bases to the token at https://airtable.com/create/tokens",
    });
  const reports: BaseReport[] = [];
  for (const target of targets) {
    const report = await backupBase(target, names.get(target.id), newClient(), options);
    reports.push(report);
    options.onEvent?.({ type: "base-done", report });
    if (options.signal.aborted) break;
  }
  return { bases: reports };
}

// --- internal ---

async function backupBase(
  target: BaseTarget,
  name: string | undefined,
  client: ReturnType<typeof createAirtableClient>,
  options: BackupOptions,
): Promise<BaseReport> {
  const now = options.now ?? (() => new Date());
  const started = now();
  const report: BaseReport = {
    baseId: target.id,
    baseName: name ?? target.id,
    warnings: [],
    tables: [],
    attachments: { files: 0, bytes: 0, failed: 0 },
    apiCalls: 0,
    seconds: 0,
  };
  const warn = (message: string) => {
    report.warnings.push(message);
    options.onEvent?.({ type: "warning", baseId: target.id, message });
  };
  let archive: ArchiveWriter | undefined;
  let lock: Awaited<ReturnType<typeof lockBase>> | undefined;
  let tmpDir: string | undefined;
  let fetcher: ReturnType<typeof createAttachmentFetcher> | undefined;
  // Stops this base's remaining work (other tables, downloads) as soon as any part of it fails.
  const stop = new AbortController();
  const signal = AbortSignal.any([options.signal, stop.signal]);
  try {
    // Base ids from the list of bases and table ids from the schema become file and entry names.
    checkAirtableId("base", target.id, "Airtable's list of bases");
    lock = await lockBase(options.outDir, target.id, started, (message) =>
      options.onEvent?.({ type: "notice", baseId: target.id, message, attention: true }),
    );
    const plan = await planBase(client, target, name);
    if (plan.schema) for (const table of plan.tables) checkAirtableId("table", table.id, `the schema of ${plan.id}`);
    report.baseName = plan.name;
    plan.warnings.forEach(warn);
    options.onEvent?.({ type: "base-start", baseId: plan.id, baseName: plan.name, tables: plan.tables.length });
    tmpDir = await mkdtemp(join(options.outDir, `.airbackup-${plan.id}-`));
    const finalPath = join(options.outDir, archiveName(plan.name, plan.id, started));
    archive = await createArchive(finalPath, {
      tool: options.tool,
      base: { id: plan.id, name: plan.name },
      startedAt: started,
      signal,
    });
    const writer = archive;
    // The archive writer queues its operations in call order: producers call it directly.
    if (plan.schema) await writer.writeSchema(plan.schema);

    fetcher = createAttachmentFetcher({
      client,
      baseId: plan.id,
      tmpDir,
      concurrency: options.downloads,
      signal,
      store: (file) =>
        writer.addAttachmentFile(file.sha256, file.path, file.type).then(() => rm(file.path, { force: true })),
      onWarning: warn,
      onBytes: (bytes) => options.onEvent?.({ type: "attachment-bytes", bytes }),
    });

    const index: IndexLine[] = [];
    const commentsByTable = new Map<string, string[]>();
    const attachments = fetcher;
    const tables = await Promise.allSettled(
      plan.tables
        .map(async (table) => {
          const spool = join(tmpDir!, `table-${table.key}.jsonl`);
          let lines: IndexLine[] = [];
          let commented: string[] = [];
          const records = await spoolTable(client, {
            baseId: plan.id,
            table,
            path: spool,
            commentCount: options.comments,
            signal,
            onRestart: () => {
              lines = [];
              commented = [];
              // Normal operation, not a warning: the table is read again whole, and the archive is complete.
              options.onEvent?.({
                type: "notice",
                baseId: plan.id,
                message: `Airtable expired the listing of table "${table.name}"; reading it again from the start`,
              });
            },
            onPage: (page) => {
              options.onEvent?.({ type: "records", baseId: plan.id, table: table.name, count: page.length });
              for (const record of page) {
                if (options.comments && (record.commentCount ?? 0) > 0) commented.push(record.id);
                if (options.attachments) lines.push(...scheduleAttachments(attachments, table, record));
              }
            },
          });
          // Without schema access the "id" is the configured name: the key is its safe, unique entry name.
          await writer.writeTableFile({ id: table.key, name: table.name }, spool, records);
          await rm(spool, { force: true });
          index.push(...lines);
          commentsByTable.set(table.id, commented);
          report.tables.push({ id: table.id, name: table.name, records });
          options.onEvent?.({ type: "table-done", baseId: plan.id, table: table.name, records });
        })
        .map((p) =>
          p.catch((error: unknown) => {
            stop.abort(error);
            throw error;
          }),
        ),
    );
    const failed = tables.find((t) => t.status === "rejected");
    if (failed) throw failed.reason;
    await attachments.drain();
    report.attachments = { ...attachments.stats };

    if (options.attachments) {
      const complete = index.flatMap((line) => {
        const sha256 = attachments.hashOf(line.id);
        return sha256 ? [JSON.stringify({ ...line, sha256 })] : [];
      });
      await writer.writeAttachmentIndex(complete);
    }
    if (options.comments) {
      for (const table of plan.tables) {
        const ids = commentsByTable.get(table.id) ?? [];
        const lines: string[] = [];
        for (const record of ids)
          lines.push(
            JSON.stringify({ record, comments: await listComments(client, plan.id, table.id, record, { signal }) }),
          );
        await writer.writeComments(table.key, lines);
      }
    }
    if (plan.schema) await checkSchemaUnchanged(client, plan, warn);

    report.path = await writer.finish({
      warnings: report.warnings,
      finishedAt: now(),
      apiCalls: client.calls,
      onVerify: () => options.onEvent?.({ type: "verifying", baseId: plan.id, path: writer.partialPath }),
    });
    await options.afterArchive?.(report, signal);
  } catch (error) {
    report.error = options.signal.aborted ? (options.signal.reason ?? error) : error;
    stop.abort(error);
    await fetcher?.drain().catch(() => {});
    await archive?.abort();
  } finally {
    if (tmpDir) await rm(tmpDir, { recursive: true, force: true });
    lock?.release();
    report.apiCalls = client.calls;
    report.seconds = (now().getTime() - started.getTime()) / 1000;
  }
  return report;
}

interface IndexLine {
  id: string;
  filename?: string;
  type?: string;
  size?: number;
  table: string;
  record: string;
  field: string;
}

function scheduleAttachments(
  fetcher: ReturnType<typeof createAttachmentFetcher>,
  table: BasePlan["tables"][number],
  record: AirtableRecord,
): IndexLine[] {
  const lines: IndexLine[] = [];
  for (const [field, value] of Object.entries(record.fields)) {
    const type = table.fieldTypes.get(field);
    // Lookups of attachment fields hold the same files; they are backed up where they live.
    if (type ? type !== "multipleAttachments" : !isAttachmentList(value)) continue;
    for (const attachment of fetcher.scheduleCell(table, record, field)) {
      lines.push({
        id: attachment.id,
        filename: attachment.filename,
        type: attachment.type,
        size: attachment.size,
        table: table.id,
        record: record.id,
        field,
      });
    }
  }
  return lines;
}

async function checkSchemaUnchanged(
  client: ReturnType<typeof createAirtableClient>,
  plan: BasePlan,
  warn: (m: string) => void,
): Promise<void> {
  const after = await getBaseSchema(client, plan.id);
  for (const change of describeSchemaChanges(plan.schema!, after, new Set(plan.tables.map((t) => t.id))))
    warn(`schema changed: ${change}`);
}
