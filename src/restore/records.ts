// First pass: every archived record of a table created ten per request, without links, attachments or
// computed values. A refused batch (422) is bisected down to the record, and the record is retried without
// one field at a time, so one bad value never sinks the other nine records of its batch.
import { AmbiguousWriteError } from "../airtable/recoverable-errors.ts";
import { createRecords, MAX_RECORDS_PER_REQUEST } from "../airtable/write.ts";
import type { AirbackupError } from "../errors.ts";
import { throwIfInterrupted } from "../shutdown.ts";
import { contentHash, writeFields } from "./cells.ts";
import { isRefusal, type RestoreContext, refusalReason, type TableRun } from "./context.ts";
import type { PendingCreate } from "./journal.ts";
import { reconcile } from "./reconcile.ts";

interface Item {
  old: string;
  fields: Record<string, unknown>;
}

/** Creates the table's records that the journal does not already map. */
export async function restoreRecords(ctx: RestoreContext, table: TableRun, total: number): Promise<void> {
  const { state } = ctx.journal;
  const pending = state.pending.get(table.oldId);
  if (pending) await settle(ctx, table, pending);
  const failed = new Set(state.failed.filter((f) => f.table === table.oldId).map((f) => f.record));
  let batch: Item[] = [];
  let done = state.records.get(table.oldId)?.size ?? 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await sendIsolated(ctx, table, batch);
    done += batch.length;
    batch = [];
    ctx.onEvent({ type: "records", table: table.name, done, total });
  };
  for await (const record of ctx.source.records(table.oldId)) {
    if (state.records.get(table.oldId)?.has(record.id) || failed.has(record.id)) continue;
    batch.push({ old: record.id, fields: writeFields(record.fields, table.fields) });
    if (batch.length === MAX_RECORDS_PER_REQUEST) await flush();
  }
  await flush();
}

// --- internal ---

/** Resume: a create sent by an earlier run whose answer was never recorded. */
async function settle(ctx: RestoreContext, table: TableRun, pending: PendingCreate): Promise<void> {
  const matched = await reconcile(ctx, table, pending);
  ctx.journal.append({ t: "created", table: table.oldId, pairs: [...matched] });
}

/** Sends a batch; on a refusal, bisects down to single records and isolates the offending values. */
async function sendIsolated(ctx: RestoreContext, table: TableRun, items: Item[]): Promise<void> {
  const refused = await trySend(ctx, table, items);
  if (!refused) return;
  if (items.length > 1) {
    const half = Math.ceil(items.length / 2);
    await sendIsolated(ctx, table, items.slice(0, half));
    await sendIsolated(ctx, table, items.slice(half));
    return;
  }
  await isolateFields(ctx, table, items[0]!, refused);
}

/**
 * One record Airtable refuses: drop the field the message names, else try without one field at a time,
 * else drop fields one after another; each dropped value is reported as `table/record/field: reason`.
 */
async function isolateFields(ctx: RestoreContext, table: TableRun, item: Item, first: AirbackupError): Promise<void> {
  let error = first;
  const fields = { ...item.fields };
  const nameOf = (key: string) => table.fields.find((f) => f.key === key)?.name ?? key;
  const skip = (key: string, reason: string) => {
    delete fields[key];
    ctx.journal.append({ t: "skipped", table: table.oldId, record: item.old, field: nameOf(key), reason });
    ctx.onEvent({ type: "skip", message: `${table.name}/${item.old}/${nameOf(key)}: ${reason}` });
  };
  for (let round = 0; round <= Object.keys(item.fields).length; round++) {
    const keys = Object.keys(fields);
    if (keys.length === 0) break;
    const named = namedField(error.message, keys, nameOf);
    if (named) {
      skip(named, refusalReason(error));
      const next = await trySend(ctx, table, [{ old: item.old, fields }]);
      if (!next) return;
      error = next;
      continue;
    }
    for (const key of keys) {
      const { [key]: _, ...without } = fields;
      const next = await trySend(ctx, table, [{ old: item.old, fields: without }]);
      if (!next) {
        const reason = refusalReason(error);
        delete fields[key];
        ctx.journal.append({ t: "skipped", table: table.oldId, record: item.old, field: nameOf(key), reason });
        ctx.onEvent({ type: "skip", message: `${table.name}/${item.old}/${nameOf(key)}: ${reason}` });
        return;
      }
    }
    // No single field explains it: several values are refused. Drop one and look again.
    skip(keys[0]!, `refused together with other values: ${refusalReason(error)}`);
    const next = await trySend(ctx, table, [{ old: item.old, fields }]);
    if (!next) return;
    error = next;
  }
  const reason = refusalReason(error);
  ctx.journal.append({ t: "failed", table: table.oldId, record: item.old, reason });
  ctx.onEvent({ type: "skip", message: `${table.name}/${item.old}: record not restored: ${reason}` });
}

/**
 * Creates the items, journaling `pending` before and `created` after. A lost answer is reconciled by
 * reading the table back, and what is missing is sent again. Returns the refusal (422), if any.
 */
async function trySend(ctx: RestoreContext, table: TableRun, items: Item[]): Promise<AirbackupError | undefined> {
  for (let attempt = 0; items.length > 0; attempt++) {
    throwIfInterrupted(ctx.signal);
    const after = ctx.journal.state.lastCreated.get(table.oldId);
    const pending: PendingCreate = {
      at: new Date().toISOString(),
      ...(after ? { after } : {}),
      items: items.map((i) => ({ old: i.old, hash: contentHash(i.fields, table.fields) })),
    };
    ctx.journal.append({ t: "pending", table: table.oldId, ...pending });
    try {
      const created = await createRecords(
        ctx.client,
        ctx.baseId,
        table.newId,
        items.map((i) => ({ fields: i.fields })),
        { typecast: ctx.typecast, signal: ctx.signal },
      );
      ctx.journal.append({
        t: "created",
        table: table.oldId,
        pairs: items.map((item, i) => [item.old, created[i]!.id]),
        ...newest(created.map((r) => r.createdTime)),
      });
      return undefined;
    } catch (error) {
      if (isRefusal(error)) return error;
      if (!(error instanceof AmbiguousWriteError) || attempt >= 5) throw error;
      const matched = await reconcile(ctx, table, pending);
      ctx.journal.append({ t: "created", table: table.oldId, pairs: [...matched] });
      items = items.filter((i) => !matched.has(i.old));
    }
  }
  return undefined;
}

/** Airtable's createdTime of the newest record of an answer, for the journal's `created` entry. */
function newest(times: string[]): { last?: string } {
  const valid = times.filter((t) => typeof t === "string" && t !== "");
  return valid.length === 0 ? {} : { last: valid.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a)) };
}

/** The field (target id) a refusal message names, by name or id; the longest name wins. */
function namedField(message: string, keys: string[], nameOf: (key: string) => string): string | undefined {
  let best: string | undefined;
  for (const key of keys) {
    const name = nameOf(key);
    const hit = message.includes(key) || message.includes(`"${name}"`) || message.includes(`field ${name}`);
    if (hit && (!best || name.length > nameOf(best).length)) best = key;
  }
  return best;
}
