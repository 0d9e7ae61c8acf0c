// The backup use case: each base into one verified archive, several bases at once under one rate limiter.
// Never prints: it reports through events.
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { type AirtableClient, type AirtableRetryInfo, createAirtableClient } from "../airtable/client.ts";
import { checkAirtableId } from "../airtable/ids.ts";
import { createRateLimiter } from "../airtable/rate-limiter.ts";
import { getBaseSchema, listComments } from "../airtable/read.ts";
import { type ArchiveWriter, createArchive } from "../archive/archive-writer.ts";
import type { AirtableSettings } from "../config/load.ts";
import { AirbackupError } from "../errors.ts";
import { archiveName } from "../storage/archive-names.ts";
import { LocalStorage } from "../storage/local.ts";
import type { Lock } from "../storage/lock.ts";
import { type AttachmentFetcher, type AttachmentStats, createAttachmentFetcher } from "./attachments.ts";
import { backupTables, indexLines, type TableResult } from "./backup-table.ts";
import { type BasePlan, type BaseTarget, describeSchemaChanges, listTargets, planBase } from "./discover.ts";
import { lockBase } from "./housekeeping.ts";
import { type ArchiveShelf, openPreviousArchive, type PreviousArchive } from "./reuse.ts";

export interface BackupOptions {
  airtable: AirtableSettings;
  /** Bases to back up (with optional tables); undefined = every base the token can read. */
  targets?: BaseTarget[];
  outDir: string;
  attachments: boolean;
  comments: boolean;
  /** Attachment downloads in flight per base. */
  downloads: number;
  /** Bases backed up at once (default 1); all of them share the token's rate limit. */
  concurrency?: number;
  /** Download every file even when an earlier archive holds it (`--full`). */
  full?: boolean;
  /** Where earlier archives are looked for, for files to reuse (e.g. the output directory and S3); default: the output directory. */
  shelves?: ArchiveShelf[];
  /**
   * Steps after a base's archive is written and verified, before its path is reported, still under the
   * base's lock (upload, then prune): it may change `report.path` (e.g. to where the archive now lives);
   * a throw fails that base (its local archive stays).
   */
  afterBase?: (report: BaseReport, signal: AbortSignal) => Promise<void>;
  tool: { name: string; version: string };
  signal: AbortSignal;
  now?: () => Date;
  onEvent?: (event: BackupEvent) => void;
}

export type BackupEvent =
  | { type: "base-start"; baseId: string; baseName: string; tables: number }
  | { type: "records"; baseId: string; table: string; count: number }
  | { type: "table-done"; baseId: string; table: string; records: number }
  | { type: "attachment-bytes"; baseId: string; bytes: number }
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
  attachments: AttachmentStats;
  /** The earlier archive files were reused from, if any. */
  reusedFrom?: string;
  apiCalls: number;
  seconds: number;
}

export interface BackupReport {
  bases: BaseReport[];
}

/** What the steps of one base share. */
export interface BaseRun {
  readonly options: BackupOptions;
  readonly client: AirtableClient;
  readonly report: BaseReport;
  /** Aborted on interruption, or as soon as any part of this base fails (stopping its other tables and downloads). */
  readonly signal: AbortSignal;
  readonly stop: AbortController;
  warn(message: string): void;
  notice(message: string): void;
  emit(event: BackupEvent): void;
}

/** Backs up every target base, `concurrency` at a time; one failing base does not stop the others. */
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
  const reports: (BaseReport | undefined)[] = targets.map(() => undefined);
  await inParallel(targets, options.concurrency ?? 1, async (target, i) => {
    if (options.signal.aborted) return; // an interrupted run starts no new base
    const report = await backupBase(target, names.get(target.id), newClient(), options);
    reports[i] = report;
    options.onEvent?.({ type: "base-done", report });
  });
  return { bases: reports.filter((r): r is BaseReport => r !== undefined) };
}

// --- internal ---

/** One base, step by step, into `<name>.zip`; any failure leaves nothing behind and is in the report. */
async function backupBase(
  target: BaseTarget,
  name: string | undefined,
  client: AirtableClient,
  options: BackupOptions,
): Promise<BaseReport> {
  const now = options.now ?? (() => new Date());
  const started = now();
  const run = startRun(target, name, client, options);
  const { report } = run;
  let tmpDir: string | undefined;
  let archive: ArchiveWriter | undefined;
  let previous: PreviousArchive | undefined;
  let fetcher: AttachmentFetcher | undefined;
  let lock: Lock | undefined;
  try {
    // One backup of a base per output directory at a time; its killed runs' old leftovers go first.
    lock = await lockBase(options.outDir, target.id, started, (message) =>
      run.emit({ type: "notice", baseId: target.id, message, attention: true }),
    );
    const plan = await planChecked(run, target, name);
    tmpDir = await mkdtemp(join(options.outDir, `.airbackup-${plan.id}-`));
    archive = await openArchive(run, plan, started);
    previous = await findPrevious(run, plan, started);
    fetcher = startDownloads(run, plan, archive, tmpDir, previous);
    // The schema is read again as soon as the last page is in (records are stored by field name, so a
    // rename after that changes nothing archived), while the tables are still being written.
    let schemaChanges: Promise<string[]> | undefined;
    const readSchemaAgain = () => {
      if (!plan.schema) return;
      schemaChanges = changesSince(run, plan);
      schemaChanges.catch(() => {}); // awaited below; a failure of the tables comes first
    };
    const tables = await backupTables(run, plan, archive, fetcher, tmpDir, readSchemaAgain);
    await fetcher.drain();
    report.attachments = fetcher.stats;
    if (options.attachments) await archive.writeAttachmentIndex(indexLines(tables, fetcher));
    if (options.comments) await writeComments(run, plan, archive, tables);
    for (const change of (await schemaChanges) ?? []) run.warn(`schema changed: ${change}`);
    report.path = await archive.finish({
      warnings: report.warnings,
      finishedAt: now(),
      apiCalls: client.calls,
      ...(options.attachments ? { reused: report.attachments.reused } : {}),
      tableOrder: plan.tables.map((t) => t.key),
      onVerify: () => run.emit({ type: "verifying", baseId: plan.id, path: archive!.partialPath }),
    });
    await options.afterBase?.(report, run.signal);
  } catch (error) {
    report.error = options.signal.aborted ? (options.signal.reason ?? error) : error;
    run.stop.abort(error);
    await fetcher?.drain().catch(() => {});
    await archive?.abort();
  } finally {
    await previous?.close().catch(() => {});
    if (tmpDir) await rm(tmpDir, { recursive: true, force: true });
    lock?.release();
    report.apiCalls = client.calls;
    report.seconds = (now().getTime() - started.getTime()) / 1000;
  }
  return report;
}

function startRun(target: BaseTarget, name: string | undefined, client: AirtableClient, options: BackupOptions) {
  const report: BaseReport = {
    baseId: target.id,
    baseName: name ?? target.id,
    warnings: [],
    tables: [],
    attachments: { files: 0, bytes: 0, failed: 0, reused: { files: 0, bytes: 0 } },
    apiCalls: 0,
    seconds: 0,
  };
  const stop = new AbortController();
  const emit = (event: BackupEvent) => options.onEvent?.(event);
  const run: BaseRun = {
    options,
    client,
    report,
    stop,
    signal: AbortSignal.any([options.signal, stop.signal]),
    emit,
    warn: (message) => {
      report.warnings.push(message);
      emit({ type: "warning", baseId: target.id, message });
    },
    notice: (message) => emit({ type: "notice", baseId: target.id, message }),
  };
  return run;
}

/** The base's schema and tables; ids are checked before they become file and entry names. */
async function planChecked(run: BaseRun, target: BaseTarget, name: string | undefined): Promise<BasePlan> {
  checkAirtableId("base", target.id, "Airtable's list of bases");
  const plan = await planBase(run.client, target, name);
  if (plan.schema) for (const table of plan.tables) checkAirtableId("table", table.id, `the schema of ${plan.id}`);
  run.report.baseName = plan.name;
  plan.warnings.forEach(run.warn);
  run.emit({ type: "base-start", baseId: plan.id, baseName: plan.name, tables: plan.tables.length });
  return plan;
}

async function openArchive(run: BaseRun, plan: BasePlan, started: Date): Promise<ArchiveWriter> {
  const archive = await createArchive(join(run.options.outDir, archiveName(plan.name, plan.id, started)), {
    tool: run.options.tool,
    base: { id: plan.id, name: plan.name },
    startedAt: started,
    signal: run.signal,
  });
  // The archive writer queues its operations in call order: producers call it directly.
  if (plan.schema) await archive.writeSchema(plan.schema);
  return archive;
}

/** The newest earlier intact archive of this base, whose files need no download (none with --full). */
async function findPrevious(run: BaseRun, plan: BasePlan, started: Date): Promise<PreviousArchive | undefined> {
  const { options } = run;
  if (!options.attachments || options.full) return undefined;
  const shelves = options.shelves ?? [new LocalStorage(options.outDir)];
  const previous = await openPreviousArchive(shelves, plan.id, started, run.notice);
  run.report.reusedFrom = previous?.label;
  return previous;
}

function startDownloads(
  run: BaseRun,
  plan: BasePlan,
  archive: ArchiveWriter,
  tmpDir: string,
  previous: PreviousArchive | undefined,
): AttachmentFetcher {
  return createAttachmentFetcher({
    client: run.client,
    baseId: plan.id,
    tmpDir,
    concurrency: run.options.downloads,
    signal: run.signal,
    previous,
    store: (file) =>
      archive.addAttachmentFile(file.sha256, file.path, file.type).then(() => rm(file.path, { force: true })),
    onWarning: run.warn,
    onNotice: run.notice,
    onBytes: (bytes) => run.emit({ type: "attachment-bytes", baseId: plan.id, bytes }),
  });
}

/** comments/<table>.jsonl: one call per record whose commentCount was above zero. */
async function writeComments(run: BaseRun, plan: BasePlan, archive: ArchiveWriter, tables: TableResult[]) {
  for (const { table, commented } of tables) {
    const lines: string[] = [];
    for (const record of commented) {
      const comments = await listComments(run.client, plan.id, table.id, record, { signal: run.signal });
      lines.push(JSON.stringify({ record, comments }));
    }
    await archive.writeComments(table.key, lines);
  }
}

async function changesSince(run: BaseRun, plan: BasePlan): Promise<string[]> {
  const after = await getBaseSchema(run.client, plan.id, { signal: run.signal });
  return describeSchemaChanges(plan.schema!, after, new Set(plan.tables.map((t) => t.id)));
}

/** Runs `fn` over `items`, at most `limit` at a time, starting each as soon as a slot frees. */
async function inParallel<T>(items: T[], limit: number, fn: (item: T, index: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
