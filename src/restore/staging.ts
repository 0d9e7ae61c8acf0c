// Files the original design's way: each distinct file is staged once in the user's bucket at
// `<prefix>restore-staging/<sha256>`, and its cells go inside the record's own create request as
// `{url, filename}` with a presigned GET URL (records.ts), so no request is spent per file and files of
// any size come back. Airtable fetches the URL on its own and drops a file it could not fetch without an
// error, so once every record exists the records holding files are read back (a few at a time, by
// record id): a staged object whose every cell shows the file at its size is deleted; any other is kept
// and each cell that lacks it is reported.
import { listRecordPages } from "../airtable/read.ts";
import type { AirtableAttachment } from "../airtable/schemas.ts";
import { throwIfInterrupted } from "../shutdown.ts";
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

/** Files uploaded at once while staging. */
const STAGING_IN_FLIGHT = 4;

/**
 * Uploads every distinct file of the fields in `wanted` (`archivedTableId/field` keys), a few at once, and
 * once only (an earlier run's staged copies are reused). Needs no target ids, so it runs beside the schema.
 */
export async function stageFiles(
  ctx: RestoreContext,
  storage: S3Storage,
  wanted: ReadonlySet<string>,
): Promise<ArchivedFileCell[]> {
  const { state } = ctx.journal;
  const cells: ArchivedFileCell[] = [];
  const needed = new Set<string>();
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
    needed.add(att.sha256);
  }
  let staged = 0;
  const queue = [...needed];
  const worker = async () => {
    for (let sha256 = queue.shift(); sha256 !== undefined; sha256 = queue.shift()) {
      throwIfInterrupted(ctx.signal);
      const size = ctx.source.fileSize(sha256);
      if ((await storage.stat(sha256))?.size === size) continue; // staged by an earlier run
      try {
        await storage.write(sha256, ctx.source.fileStream(sha256), {
          ...(size === undefined ? {} : { size }),
          signal: ctx.signal,
        });
      } catch (error) {
        queue.length = 0; // the others finish the file they are on, and take no more
        throw error;
      }
      staged++;
    }
  };
  // Every worker settles before the first failure is thrown: none is left writing.
  const results = await Promise.allSettled(Array.from({ length: STAGING_IN_FLIGHT }, worker));
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  if (staged > 0) ctx.onEvent({ type: "step", message: `staged ${staged} files at ${storage.where("")}` });
  return cells;
}

/** The staged files by target cell, once the target's field ids are known. */
export function bindStaging(storage: S3Storage, files: ArchivedFileCell[], targets: AttachmentTargets): Staging {
  const cells = new Map<string, StagedFile[]>();
  for (const { table, record, field, ...file } of files) {
    const target = targets.get(`${table}/${field}`);
    if (!target) continue;
    const cell = `${table}/${record}/${target.fieldId}`;
    cells.set(cell, [...(cells.get(cell) ?? []), file]);
  }
  return {
    cells,
    url: (sha256) => storage.presign(sha256, STAGED_URL_SECONDS),
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
