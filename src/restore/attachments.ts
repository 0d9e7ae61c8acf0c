// Third pass, without S3 (with S3, staging.ts sends files inside the creates): attachment files from the
// archive into their cells through the upload endpoint (≤ 5 MB, filename and content type kept), in cell
// order, several cells at once. Larger files need S3 staging: they are reported as skipped, judged by the zip entry's real size (not the index's), and so is a
// file the upload endpoint answers 413 for (recorded, so a resume does not send it again). An upload is
// not idempotent, so a journal `att-pending` entry records the cell's length before each upload; after
// a lost answer (or on resume) the record is read back and the upload counts as done when the cell grew.
import { getRecord } from "../airtable/read.ts";
import { AirtableRequestError, AmbiguousWriteError, isRefusal } from "../airtable/recoverable-errors.ts";
import { uploadAttachment } from "../airtable/write.ts";
import type { ArchivedAttachment } from "../archive/contents.ts";
import { withReadBack } from "../retry.ts";
import { throwIfInterrupted } from "../shutdown.ts";
import type { RestoreContext } from "./context.ts";
import { createPipeline, inFlightFor } from "./pipeline.ts";

export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

/** `auto` is resolved by the command: `s3` when S3 is configured, else `upload`. */
export type AttachmentMode = "auto" | "upload" | "s3" | "skip";

/** Where an archived attachment field goes: archived table id + field name -> target table and field id. */
export type AttachmentTargets = Map<string, { tableName: string; tableId: string; fieldId: string }>;

export function attachmentKey(a: Pick<ArchivedAttachment, "table" | "record" | "field" | "id">): string {
  return `${a.table}/${a.record}/${a.field}/${a.id}`;
}

export async function restoreAttachments(
  ctx: RestoreContext,
  targets: AttachmentTargets,
  mode: AttachmentMode,
): Promise<void> {
  const { state } = ctx.journal;
  const perCell = new Map<string, number>(); // new record/field -> items uploaded so far (cell length)
  for (const a of state.attachments.entries()) if (a[1].id) bump(perCell, cellOf(a[0]));
  // Cells are filled several at once (one cell's files in order, so the journal's cell lengths hold).
  const pipeline = createPipeline(() => inFlightFor(ctx.client.latencyMs));
  const chains = new Map<string, Promise<void>>();
  let group: ArchivedAttachment[] = [];
  const flush = async () => {
    if (group.length === 0) return;
    const items = group;
    group = [];
    const cell = cellOf(attachmentKey(items[0]!));
    const previous = chains.get(cell) ?? Promise.resolve();
    let finish = () => {};
    chains.set(cell, new Promise<void>((resolve) => (finish = resolve)));
    await pipeline.add(async () => {
      try {
        await previous;
        for (const att of items) await restoreOne(att);
      } finally {
        finish();
      }
    });
  };
  for await (const att of ctx.source.attachments()) {
    if (!targets.has(`${att.table}/${att.field}`) || state.attachments.has(attachmentKey(att))) continue;
    if (group.length > 0 && cellOf(attachmentKey(group[0]!)) !== cellOf(attachmentKey(att))) await flush();
    group.push(att);
  }
  await flush();
  await pipeline.drain();

  async function restoreOne(att: ArchivedAttachment): Promise<void> {
    const target = targets.get(`${att.table}/${att.field}`)!;
    const key = attachmentKey(att);
    const recordId = state.records.get(att.table)?.get(att.record);
    const where = `${target.tableName}/${att.record}/${att.field}: ${att.filename}`;
    const skip = (reason: string) => {
      ctx.journal.append({ t: "att", key, skipped: reason });
      ctx.onEvent({ type: "skip", message: `${where}: ${reason}` });
    };
    if (!recordId) return; // the record was not restored (reported already)
    if (mode === "skip") return;
    if (!att.sha256) {
      skip("file not in the archive (it could not be downloaded at backup time)");
      return;
    }
    // The size in attachments.jsonl may be missing or wrong: the zip's central directory says what would
    // be read into memory. (A file missing from the zip is reported as corrupt by fileBytes below.)
    const size = ctx.source.fileSize(att.sha256) ?? 0;
    if (size > MAX_UPLOAD_BYTES) {
      skip(
        `${(size / 1e6).toFixed(1)} MB is over the 5 MB upload limit; configure s3: to restore it through S3 staging`,
      );
      return;
    }
    throwIfInterrupted(ctx.signal);
    const cell = cellOf(key);
    const before = perCell.get(cell) ?? 0;
    if (state.attachmentPending.has(key)) {
      const landed = await settled(ctx, target, recordId, state.attachmentPending.get(key)!);
      if (landed) {
        ctx.journal.append({ t: "att", key, id: landed });
        bump(perCell, cell);
        return;
      }
    }
    const bytes = await ctx.source.fileBytes(att.sha256);
    const upload = async (): Promise<string> => {
      ctx.journal.append({ t: "att-pending", key, before });
      const res = await uploadAttachment(
        ctx.client,
        ctx.baseId,
        recordId,
        target.fieldId,
        { contentType: att.type || "application/octet-stream", filename: att.filename, bytes },
        { signal: ctx.signal },
      );
      return (Object.values(res.fields)[0] ?? []).at(-1)?.id ?? "";
    };
    try {
      const id = await withReadBack(
        upload,
        async () => {
          const landed = await settled(ctx, target, recordId, before);
          return landed === undefined ? undefined : { value: landed };
        },
        { isLost: (error) => error instanceof AmbiguousWriteError },
      );
      ctx.journal.append({ t: "att", key, id });
      bump(perCell, cell);
    } catch (error) {
      if (isRefusal(error)) skip(`upload refused: ${error.detail}`);
      else if (isTooLarge(error))
        // Recorded as skipped, so that a resume does not send it again (and get the same answer) forever.
        skip(`upload refused as too large (${error.detail}); configure s3: to restore it through S3 staging`);
      else throw error;
    }
  }
}

// --- internal ---

/** The id of the attachment an unconfirmed upload added, if the cell now holds more than `before` items. */
async function settled(
  ctx: RestoreContext,
  target: { tableId: string; fieldId: string },
  recordId: string,
  before: number,
): Promise<string | undefined> {
  const record = await getRecord(ctx.client, ctx.baseId, target.tableId, recordId, {
    returnFieldsByFieldId: true,
    signal: ctx.signal,
  });
  const cell = record.fields[target.fieldId];
  return Array.isArray(cell) && cell.length > before ? String((cell.at(-1) as { id?: unknown }).id ?? "") : undefined;
}

/** A final 413 from the upload endpoint: the file is more than Airtable takes there. */
function isTooLarge(error: unknown): error is AirtableRequestError {
  return error instanceof AirtableRequestError && error.status === 413;
}

function cellOf(key: string): string {
  return key.slice(0, key.lastIndexOf("/"));
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
