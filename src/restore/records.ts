// First pass: every archived record of a table created ten per request, links to tables already filled
// included (through the old->new id map), several requests in flight (pipeline.ts). Each batch is
// journaled `pending` before it is sent and settled after: created, refused, or (after a lost answer)
// reconciled by reading the table back before anything is sent again. A refused batch is bisected down
// to the record; a refused record is bisected over its fields (field-bisect.ts).
import { type AirtableRequestError, AmbiguousWriteError, isRefusal } from "../airtable/recoverable-errors.ts";
import { createRecords, MAX_RECORDS_PER_REQUEST } from "../airtable/write.ts";
import type { ArchivedRecord } from "../archive/contents.ts";
import { withReadBack } from "../retry.ts";
import { throwIfInterrupted } from "../shutdown.ts";
import { contentHash, writeFields } from "./cells.ts";
import type { RestoreContext, TableRun } from "./context.ts";
import { addFields, isolateFields } from "./field-bisect.ts";
import { createPipeline, inFlightFor, type Pipeline } from "./pipeline.ts";
import { reconcileTable } from "./reconcile.ts";

export interface Item {
  old: string;
  fields: Record<string, unknown>;
  /** Target keys left out of this create, to be added by updates once the record exists. */
  rest?: string[];
}

/** What the passes of one table share while its writes are in flight. */
export interface TableWriter {
  ctx: RestoreContext;
  table: TableRun;
  pipeline: Pipeline;
}

/** Creates the table's records that the journal does not already map, and finishes partial ones. */
export async function restoreRecords(ctx: RestoreContext, table: TableRun, total: number): Promise<void> {
  const { state } = ctx.journal;
  const w: TableWriter = { ctx, table, pipeline: createPipeline(() => inFlightFor(ctx.client.latencyMs)) };
  await reconcileTable(ctx, table); // creates an earlier run sent and never saw answered
  const failed = new Set(state.failed.filter((f) => f.table === table.oldId).map((f) => f.record));
  let batch: Item[] = [];
  let done = state.records.get(table.oldId)?.size ?? 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    await w.pipeline.add(async () => {
      await createIsolated(w, items);
      done += items.length;
      ctx.onEvent({ type: "records", table: table.name, done, total });
    });
  };
  for await (const record of ctx.source.records(table.oldId)) {
    const id = state.records.get(table.oldId)?.get(record.id);
    if (id) {
      const rest = state.partial.get(table.oldId)?.get(record.id)?.rest ?? [];
      if (rest.length > 0) {
        const fields = await itemFields(ctx, table, record);
        await w.pipeline.add(() => addFields(w, { old: record.id, fields }, id, [{ keys: rest }]));
      }
      continue;
    }
    if (failed.has(record.id)) continue;
    batch.push({ old: record.id, fields: await itemFields(ctx, table, record) });
    if (batch.length === MAX_RECORDS_PER_REQUEST) await flush();
  }
  await flush();
  await w.pipeline.drain();
}

/**
 * Creates the items (journaled `pending` before and settled after). After a lost answer the table is read
 * back (with no other create of it in flight) and only what is missing is sent again. Returns Airtable's
 * refusal (422), if any: then nothing was written.
 */
export async function createItems(w: TableWriter, items: Item[]): Promise<AirtableRequestError | undefined> {
  const { ctx, table } = w;
  const { state } = ctx.journal;
  let left = items;
  return withReadBack(
    async () => {
      throwIfInterrupted(ctx.signal);
      const batch = state.nextBatch;
      const after = state.lastCreated.get(table.oldId);
      ctx.journal.append({
        t: "pending",
        table: table.oldId,
        batch,
        at: new Date().toISOString(),
        ...(after ? { after } : {}),
        items: left.map((i) => ({
          old: i.old,
          hash: contentHash(i.fields, table.fields),
          ...(i.rest ? { rest: i.rest } : {}),
        })),
      });
      try {
        const created = await createRecords(
          ctx.client,
          ctx.baseId,
          table.newId,
          left.map((i) => ({ fields: i.fields })),
          { typecast: ctx.typecast, signal: ctx.signal },
        );
        ctx.journal.append({
          t: "created",
          table: table.oldId,
          pairs: left.map((item, i) => [item.old, created[i]!.id]),
          batches: [batch],
          ...newest(created.map((r) => r.createdTime)),
        });
        return undefined;
      } catch (error) {
        if (!isRefusal(error)) throw error;
        ctx.journal.append({ t: "refused", table: table.oldId, batch });
        return error;
      }
    },
    async () => {
      await w.pipeline.exclusive(() => reconcileTable(ctx, table));
      left = left.filter((i) => !state.records.get(table.oldId)?.has(i.old));
      return left.length === 0 ? { value: undefined } : undefined;
    },
    { isLost: (error) => error instanceof AmbiguousWriteError },
  );
}

// --- internal ---

/** Creates a batch; on a refusal, bisects down to single records and isolates the refused values. */
async function createIsolated(w: TableWriter, items: Item[]): Promise<void> {
  const refused = await createItems(w, items);
  if (!refused) return;
  if (items.length > 1) {
    const half = Math.ceil(items.length / 2);
    await createIsolated(w, items.slice(0, half));
    await createIsolated(w, items.slice(half));
    return;
  }
  await isolateFields(w, items[0]!, refused);
}

/** The create body's fields for an archived record: values, links to records already created, staged files. */
async function itemFields(
  ctx: RestoreContext,
  table: TableRun,
  record: ArchivedRecord,
): Promise<Record<string, unknown>> {
  const fields = writeFields(record.fields, table.fields);
  for (const field of table.fields) {
    const files = field.staged ? ctx.staging?.cells.get(`${table.oldId}/${record.id}/${field.key}`) : undefined;
    if (files?.length)
      fields[field.key] = await Promise.all(
        files.map(async (f) => ({ url: await ctx.staging!.url(f.sha256), filename: f.filename })),
      );
  }
  const dropped: { record: string; field: string; missing: string[] }[] = [];
  for (const link of table.fields) {
    if (!link.linkedTableId) continue;
    const value = record.fields[link.name];
    if (!Array.isArray(value) || value.length === 0) continue;
    const targets = ctx.journal.state.records.get(link.linkedTableId);
    const ids = value.map((old) => targets?.get(String(old)));
    const missing = value.filter((_, i) => ids[i] === undefined).map(String);
    if (missing.length > 0) dropped.push({ record: record.id, field: link.name, missing });
    const present = ids.filter((id): id is string => id !== undefined);
    if (present.length > 0) fields[link.key] = present;
  }
  if (dropped.length > 0) {
    ctx.journal.append({ t: "links", table: table.oldId, records: [], dropped });
    for (const d of dropped)
      ctx.onEvent({
        type: "skip",
        message: `${table.name}/${d.record}/${d.field}: link to ${d.missing.join(", ")} dropped (not restored)`,
      });
  }
  return fields;
}

/** Airtable's createdTime of the newest record of an answer, for the journal's `created` entry. */
function newest(times: string[]): { last?: string } {
  const valid = times.filter((t) => typeof t === "string" && t !== "");
  return valid.length === 0 ? {} : { last: valid.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a)) };
}
