// Files the original design's way: each distinct file is staged once in the user's bucket at
// `<prefix>restore-staging/<sha256>`, and its cells go inside the record's own create request as
// `{url, filename}` with a presigned GET URL (records.ts), so no request is spent per file and files of
// any size come back. Airtable fetches the URL on its own and drops a file it could not fetch without an
// error, so once every record exists the records holding files are read back (a few at a time, by
// record id): a staged object whose every cell shows the file at its size is deleted; any other is kept
// and each cell that lacks it is reported.
import { listRecordPages } from "../airtable/read.ts";
import type { AirtableAttachment } from "../airtable/schemas.ts";
import type { S3Storage } from "../storage/s3.ts";
import { type AttachmentTargets, attachmentKey } from "./attachments.ts";
import type { RestoreContext } from "./context.ts";

/** Presigned URLs are made as each create is sent; this long is plenty for Airtable to fetch them. */
export const STAGED_URL_SECONDS = 6 * 3600;
/** Records read back per request (their ids in one filterByFormula). */
const READ_BACK_IDS = 50;

export interface StagedFile {
  sha256: string;
  filename: string;
  /** The journal's attachment key (`table/record/field/attachmentId`). */
  key: string;
}

export interface Staging {
  /** `archivedTableId/archivedRecordId/targetFieldId` -> the cell's files, in order. */
  cells: Map<string, StagedFile[]>;
  /** A presigned GET URL for the file, once it is staged. */
  url(sha256: string): Promise<string>;
  where(sha256: string): string;
}

/** A file cell of an archived record, before the target's field ids are known. */
export interface ArchivedFileCell extends StagedFile {
  table: string;
  record: string;
  /** The archived field, as the archive names it (`table/field` is a key of AttachmentTargets). */
  field: string;
}

/** Files being staged: which cells hold them, and when each is in the bucket. */
export interface StagingUploads {
  cells: ArchivedFileCell[];
  /** Settles when that file is staged (or failed to be). */
  ready(sha256: string): Promise<void>;
  /** Settles once every upload has: the first failure, or the count staged. Stops the rest when aborted. */
  done: Promise<number>;
}

/** Files uploaded at once while staging. */
const STAGING_IN_FLIGHT = 4;

/**
 * Starts uploading every distinct file of the fields in `wanted` (`archivedTableId/field` keys), a few at
 * once, once only (an earlier run's staged copies are reused), the files of the tables filled first
 * (`order`, archived table ids) first. Returns once the archive's file index is read: a create waits only
 * for its own files (`ready`), and staging needs no target id, so it runs beside the schema.
 */
export async function stageFiles(
  ctx: RestoreContext,
  storage: S3Storage,
  wanted: ReadonlySet<string>,
  order: string[],
  signal: AbortSignal,
): Promise<StagingUploads> {
  const { state } = ctx.journal;
  const cells: ArchivedFileCell[] = [];
  for await (const att of ctx.source.attachments()) {
    if (!wanted.has(`${att.table}/${att.field}`)) continue;
    const key = attachmentKey(att);
    if (state.attachments.has(key)) continue;
    if (!att.sha256) {
      ctx.journal.append({
        t: "att",
        key,
        skipped: "file not in the archive (it could not be downloaded at backup time)",
      });
      continue;
    }
    cells.push({
      table: att.table,
      record: att.record,
      field: att.field,
      sha256: att.sha256,
      filename: att.filename,
      key,
    });
  }
  const rank = (table: string) => (order.includes(table) ? order.indexOf(table) : order.length);
  const queue = [...new Set([...cells].sort((a, b) => rank(a.table) - rank(b.table)).map((c) => c.sha256))];
  const uploads = new Map(queue.map((sha256) => [sha256, Promise.withResolvers<void>()]));
  for (const u of uploads.values()) u.promise.catch(() => {}); // awaited by the creates that need it, if any
  let staged = 0;
  const worker = async () => {
    for (let sha256 = queue.shift(); sha256 !== undefined; sha256 = queue.shift()) {
      const upload = uploads.get(sha256)!;
      try {
        signal.throwIfAborted();
        const size = ctx.source.fileSize(sha256);
        if ((await storage.stat(sha256))?.size !== size) {
          // not staged by an earlier run
          await storage.write(sha256, ctx.source.fileStream(sha256), {
            ...(size === undefined ? {} : { size }),
            signal,
          });
          staged++;
        }
        upload.resolve();
      } catch (error) {
        upload.reject(error);
        for (const left of queue.splice(0)) uploads.get(left)!.reject(error); // the others take no more
        throw error;
      }
    }
  };
  const done = Promise.allSettled(Array.from({ length: STAGING_IN_FLIGHT }, worker)).then((results) => {
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    if (staged > 0) ctx.onEvent({ type: "step", message: `staged ${staged} files at ${storage.where("")}` });
    return staged;
  });
  done.catch(() => {}); // awaited by the caller
  return { cells, ready: (sha256) => uploads.get(sha256)?.promise ?? Promise.resolve(), done };
}

/** The staged files by target cell, once the target's field ids are known. */
export function bindStaging(storage: S3Storage, uploads: StagingUploads, targets: AttachmentTargets): Staging {
  const cells = new Map<string, StagedFile[]>();
  for (const { table, record, field, ...file } of uploads.cells) {
    const target = targets.get(`${table}/${field}`);
    if (!target) continue;
    const cell = `${table}/${record}/${target.fieldId}`;
    cells.set(cell, [...(cells.get(cell) ?? []), file]);
  }
  return {
    cells,
    url: async (sha256) => {
      await uploads.ready(sha256);
      return await storage.presign(sha256, STAGED_URL_SECONDS);
    },
    where: (sha256) => storage.where(sha256),
  };
}

/** Reads back the records holding staged files; deletes each staged object every cell shows, reports the rest. */
export async function confirmStaged(
  ctx: RestoreContext,
  storage: S3Storage,
  staging: Staging,
  targets: AttachmentTargets,
): Promise<void> {
  const { state } = ctx.journal;
  const tableIds = new Map([...targets.values()].map((t) => [t.tableId, t]));
  const missed = new Set<string>();
  const used = new Set<string>();
  // target table id -> new record id -> [field id, files]
  const expected = new Map<string, Map<string, [string, StagedFile[]][]>>();
  for (const [cell, files] of staging.cells) {
    const [table, record, fieldId] = cell.split("/") as [string, string, string];
    for (const f of files) used.add(f.sha256);
    const recordId = state.records.get(table)?.get(record);
    const tableId = state.tables.get(table) ?? [...targets.values()].find((t) => t.fieldId === fieldId)?.tableId;
    if (!recordId || !tableId) continue; // not restored (reported already)
    const byRecord = expected.get(tableId) ?? new Map<string, [string, StagedFile[]][]>();
    byRecord.set(recordId, [...(byRecord.get(recordId) ?? []), [fieldId, files]]);
    expected.set(tableId, byRecord);
  }
  // One table's reads after another; the tables side by side (the client's limiter paces them).
  const readBack = async ([tableId, byRecord]: [string, Map<string, [string, StagedFile[]][]>]) => {
    const ids = [...byRecord.keys()];
    const fields = [...new Set([...byRecord.values()].flatMap((cells) => cells.map(([fieldId]) => fieldId)))];
    for (let i = 0; i < ids.length; i += READ_BACK_IDS) {
      const chunk = ids.slice(i, i + READ_BACK_IDS);
      const formula = `OR(${chunk.map((id) => `RECORD_ID()='${id}'`).join(",")})`;
      for await (const page of listRecordPages(ctx.client, ctx.baseId, tableId, {
        filterByFormula: formula,
        fields,
        returnFieldsByFieldId: true,
        signal: ctx.signal,
      })) {
        for (const record of page) {
          for (const [fieldId, files] of byRecord.get(record.id) ?? []) {
            const got = (record.fields[fieldId] ?? []) as AirtableAttachment[];
            for (const file of files) {
              const size = ctx.source.fileSize(file.sha256);
              const back = got.find((g) => g.filename === file.filename && (size === undefined || g.size === size));
              if (back) ctx.journal.append({ t: "att", key: file.key, id: back.id });
              else {
                missed.add(file.sha256);
                const where = `${tableIds.get(tableId)?.tableName ?? tableId}/${file.key.split("/")[1]}: ${file.filename}`;
                const reason = `Airtable did not fetch the file from its presigned URL (expired, refused or unreachable); the staged copy is kept at ${staging.where(file.sha256)}`;
                ctx.journal.append({ t: "att", key: file.key, skipped: reason });
                ctx.onEvent({ type: "skip", message: `${where}: ${reason}` });
              }
            }
          }
        }
      }
    }
  };
  const results = await Promise.allSettled([...expected].map(readBack));
  for (const r of results) if (r.status === "rejected") throw r.reason;
  const confirmed = [...used].filter((sha256) => !missed.has(sha256));
  for (let i = 0; i < confirmed.length; i += STAGING_IN_FLIGHT)
    await Promise.all(confirmed.slice(i, i + STAGING_IN_FLIGHT).map((sha256) => storage.delete(sha256)));
}
