// `restore` as a use case: plan against the target, then schema, records, links and attachments, each
// step journaled so that running it again resumes. Returns the report; never prints.
import { createAirtableClient } from "../airtable/client.ts";
import { createRateLimiter } from "../airtable/rate-limiter.ts";
import { getBaseSchema, listRecordPages } from "../airtable/read.ts";
import { createBase } from "../airtable/write.ts";
import { verifyArchive } from "../archive/verify.ts";
import type { AirtableSettings } from "../config/load.ts";
import { AirbackupError } from "../errors.ts";
import { acquireLock, type Lock, RESTORE_LOCK, restoreLockPath } from "../storage/lock.ts";
import type { S3Storage } from "../storage/s3.ts";
import { type ArchiveSource, openArchiveSource } from "./archive-source.ts";
import { type AttachmentMode, restoreAttachments } from "./attachments.ts";
import { restoreComments } from "./comments.ts";
import type { RestoreContext, RestoreEvent } from "./context.ts";
import { schemaAndRecords } from "./fill.ts";
import { type Journal, journalPath, openJournal } from "./journal.ts";
import { restoreLinks } from "./links.ts";
import { BASE_RATE } from "./pipeline.ts";
import { planRestore, type RestorePlan } from "./plan.ts";
import { buildTableReports, type RestoreReport } from "./report.ts";
import { newTableBody, recordTable } from "./schema-apply.ts";
import { confirmStaged } from "./staging.ts";

export interface RestoreOptions {
  archive: string;
  airtable: AirtableSettings;
  target: { baseId: string } | { workspaceId: string };
  tables?: string[];
  attachments: AttachmentMode;
  /** With `attachments: "s3"`: where files are staged (a bucket prefix ending in `restore-staging/`). */
  staging?: S3Storage;
  dryRun?: boolean;
  append?: boolean;
  typecast?: boolean;
  /** Restore record comments (default true; the archive must have them). */
  comments?: boolean;
  userAgent: string;
  signal?: AbortSignal;
  now?: Date;
  onEvent?: (event: RestoreEvent) => void;
}

/** Extra spacing between a base's sends while writes are pipelined (a fraction of 200 ms). */
const PIPELINED_MARGIN = 0.05;

export async function runRestore(options: RestoreOptions): Promise<RestoreReport> {
  const started = performance.now();
  const onEvent = options.onEvent ?? (() => {});
  const client = createAirtableClient({
    ...options.airtable,
    // Several writes in flight, each answered after ~0.6 s: the server's arrival clock jitters more than
    // for one request at a time, so sends are spaced with a wider margin (210 ms, not 205 ms, per base): a 429 costs 30 s.
    limiter: createRateLimiter({ margin: PIPELINED_MARGIN }),
    userAgent: options.userAgent,
    signal: options.signal,
    onRetry: (i) =>
      onEvent({
        type: "retry",
        message: `retrying ${i.method} ${i.target} in ${Math.round(i.delayMs)} ms: ${i.reason}`,
      }),
  });
  // The whole archive is checked (CRC-32, every entry's sha256, counts) before anything is written:
  // a damaged archive must not half-restore.
  const check = await verifyArchive(options.archive);
  if (!check.ok) {
    throw new AirbackupError("ARCHIVE_CORRUPT", `${check.problems[0]}`, {
      hint: "restore from another archive; nothing was written",
    });
  }
  const source = await openArchiveSource(options.archive);
  try {
    const existingBase = "baseId" in options.target ? options.target.baseId : null;
    const targetTables = existingBase
      ? (await getBaseSchema(client, existingBase, { includeVisibleFieldIds: false, signal: options.signal })).tables
      : [];
    let plan: RestorePlan;
    try {
      plan = planRestore(source.tables, targetTables, options.tables ?? []);
    } catch (error) {
      throw new AirbackupError("USAGE", `--table: ${(error as Error).message}`, { cause: error });
    }
    const counts = new Map(source.manifest.tables.map((t) => [t.id, t.records]));
    const report = (
      baseId: string | null,
      journal: Journal | null,
      ids: Map<string, string>,
      created: boolean,
    ): RestoreReport => ({
      archive: options.archive,
      baseId,
      baseCreated: created,
      dryRun: options.dryRun === true,
      journal: journal?.path ?? null,
      tables: buildTableReports(plan, counts, journal?.state ?? null, ids),
      manualSteps: journal ? journal.state.manual : plan.manual,
      notes: journal ? journal.state.notes : plan.notes,
      apiCalls: client.calls,
      requests: {
        total: client.calls,
        byKind: { ...client.callsByKind },
        seconds: (performance.now() - started) / 1000,
        ceilingSeconds: client.calls / BASE_RATE,
      },
    });
    if (options.dryRun) return report(existingBase, null, new Map(), false);

    let baseId = existingBase;
    let journal: Journal;
    let lock: Lock;
    /** Takes the base's restore lock, then opens its journal (the lock goes again if that fails). */
    const lockAndOpen = (id: string): { lock: Lock; journal: Journal } => {
      const lock = acquireLock(restoreLockPath(journalPath(options.archive, id)), RESTORE_LOCK, (message) =>
        onEvent({ type: "step", message }),
      );
      try {
        return { lock, journal: openJournal(journalPath(options.archive, id)) };
      } catch (error) {
        lock.release();
        throw error;
      }
    };
    const ctxFor = (id: string, j: Journal): RestoreContext => ({
      client,
      baseId: id,
      journal: j,
      source,
      typecast: options.typecast === true,
      signal: options.signal,
      onEvent,
    });
    if (baseId) {
      ({ lock, journal } = lockAndOpen(baseId));
      try {
        await refuseTablesWithRecords(ctxFor(baseId, journal), plan, options.append === true);
      } catch (error) {
        journal.close();
        lock.release();
        throw error;
      }
    } else {
      const first = plan.tables.find((t) => t.action === "create");
      if (!first) throw new AirbackupError("USAGE", "nothing to restore: the archive has no tables");
      const day = (options.now ?? new Date()).toISOString().slice(0, 10);
      const name = `${source.manifest.base.name} (restored ${day})`;
      onEvent({ type: "step", message: `creating base ${JSON.stringify(name)}` });
      const created = await createBase(
        client,
        { name, workspaceId: (options.target as { workspaceId: string }).workspaceId, tables: [newTableBody(first)] },
        { signal: options.signal },
      );
      baseId = created.id;
      onEvent({
        type: "step",
        message: `created base ${baseId}; to resume an interrupted restore, run again with --base ${baseId}`,
      });
      ({ lock, journal } = lockAndOpen(baseId));
      recordTable(ctxFor(baseId, journal), first, created.tables[0]!);
    }
    try {
      const ctx = ctxFor(baseId, journal);
      if (!journal.state.started) {
        journal.append({
          t: "start",
          at: new Date().toISOString(),
          archiveBase: source.manifest.base.id,
          archiveStartedAt: source.manifest.startedAt,
          base: baseId,
        });
      }
      // What this plan asks of a person is kept for the report of whichever run finishes the restore.
      journal.append(
        ...plan.manual
          .filter((m) => !journal.state.manual.some((x) => x.table === m.table && x.field === m.field))
          .map((step) => ({ t: "manual" as const, step })),
        ...plan.notes.filter((n) => !journal.state.notes.includes(n)).map((text) => ({ t: "note" as const, text })),
      );
      const staging = options.attachments === "s3" ? options.staging : undefined;
      const { ids, links, runs, targets } = await schemaAndRecords(ctx, plan, counts, staging);
      for (const run of runs) await restoreLinks(ctx, run, links.second.get(run.oldId) ?? []);
      if (options.comments !== false) await restoreComments(ctx, runs);
      if (ctx.staging) await confirmStaged(ctx, options.staging!, ctx.staging, targets);
      else await restoreAttachments(ctx, targets, options.attachments);
      journal.append({ t: "done", at: new Date().toISOString() });
      return report(baseId, journal, ids.tables, existingBase === null);
    } finally {
      journal.close();
      lock.release();
    }
  } finally {
    await source.close();
  }
}

// --- internal ---

/** Tables of the target that already hold records are not written to unless --append (or we made them). */
async function refuseTablesWithRecords(ctx: RestoreContext, plan: RestorePlan, append: boolean): Promise<void> {
  if (append) return;
  for (const t of plan.tables) {
    if (
      t.action !== "existing" ||
      ctx.journal.state.tables.has(t.source.id) ||
      ctx.journal.state.records.has(t.source.id)
    )
      continue;
    for await (const page of listRecordPages(ctx.client, ctx.baseId, t.targetId!, {
      pageSize: 1,
      signal: ctx.signal,
    })) {
      if (page.length > 0) {
        throw new AirbackupError("USAGE", `table ${t.source.name} of base ${ctx.baseId} already holds records`, {
          hint: "restore into an empty base, pass --append to add the archived records to it, or leave the table out with -t",
        });
      }
      break;
    }
  }
}

export type { ArchiveSource };
