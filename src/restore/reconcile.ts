// After a create whose answer was lost (AmbiguousWriteError), or on resume after creates that were sent
// but never confirmed, read back the target table once and find which records of every pending batch
// of the table exist; the journal then settles all those batches in one `created` entry.
//
// Why a content hash and not a marker: the create body cannot carry a marker Airtable keeps (record ids
// and createdTime are chosen by Airtable, and adding a marker field would change the user's base). The
// journal's `pending` entry keeps, per record, a hash of every first-pass field as sent (cells.ts); a
// read-back record matches when the same hash of the same fields comes back. Records already mapped by
// the journal are never claimed twice. Identical records within one batch are matched by count.
//
// The local clock is never compared with Airtable's (a machine whose clock runs fast would miss its own
// records and create them again). Only Airtable-side times are compared: records created before the
// newest record this restore had already created in the table (`pending.after`, Airtable's createdTime)
// cannot be from this batch, so identical rows that were there before (with --append) are not taken for
// ours. Among the remaining matches the newest (by Airtable's createdTime) are taken first. With several
// batches in flight, `after` is the earliest of theirs. The caller makes sure no other create of the
// table is in flight meanwhile (the pipeline's `exclusive`).
import { listRecordPages } from "../airtable/read.ts";
import { contentHash } from "./cells.ts";
import type { RestoreContext, TableRun } from "./context.ts";
import type { PendingCreate } from "./journal.ts";

/** Settles every pending batch of the table in the journal: what was created is mapped, the rest is free to send. */
export async function reconcileTable(ctx: RestoreContext, table: TableRun): Promise<void> {
  const batches = [...(ctx.journal.state.pending.get(table.oldId)?.values() ?? [])];
  if (batches.length === 0) return;
  const afters = batches.map((b) => b.after);
  const merged: Omit<PendingCreate, "batch"> = {
    at: batches[0]!.at,
    ...(afters.every((a) => a !== undefined)
      ? { after: afters.reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a)) }
      : {}),
    items: batches.flatMap((b) => b.items),
  };
  const matched = await reconcile(ctx, table, merged);
  ctx.journal.append({ t: "created", table: table.oldId, pairs: [...matched], batches: batches.map((b) => b.batch) });
}

// --- internal ---

/** Archived record id -> new record id, for the pending items found in the target table. */
async function reconcile(
  ctx: RestoreContext,
  table: TableRun,
  pending: Omit<PendingCreate, "batch">,
): Promise<Map<string, string>> {
  ctx.onEvent({
    type: "retry",
    message: `${table.name}: reading the table back to see which of ${pending.items.length} records were created`,
  });
  const claimed = new Set(ctx.journal.state.records.get(table.oldId)?.values() ?? []);
  const after = pending.after ? Date.parse(pending.after) : Number.NEGATIVE_INFINITY;
  const wanted = new Map<string, number>();
  for (const item of pending.items) wanted.set(item.hash, (wanted.get(item.hash) ?? 0) + 1);
  const found = new Map<string, { id: string; time: number }[]>(); // hash -> candidates, in table order
  const fields = table.fields.map((f) => f.key);
  for await (const page of listRecordPages(ctx.client, ctx.baseId, table.newId, {
    returnFieldsByFieldId: true,
    fields,
    signal: ctx.signal,
  })) {
    for (const record of page) {
      const time = Date.parse(record.createdTime);
      if (claimed.has(record.id) || time < after) continue;
      const hash = contentHash(record.fields, table.fields);
      if (!wanted.has(hash)) continue;
      const candidates = found.get(hash) ?? [];
      candidates.push({ id: record.id, time: Number.isNaN(time) ? Number.NEGATIVE_INFINITY : time });
      found.set(hash, candidates);
    }
  }
  // Newest first (a stable sort keeps table order among equal times), and the batch's order is the
  // order Airtable created them in: the last items of the batch get the newest records.
  const newestFirst = new Map<string, string[]>();
  for (const [hash, candidates] of found) {
    const count = wanted.get(hash) ?? 0;
    const ids = candidates
      .slice()
      .sort((a, b) => b.time - a.time)
      .slice(0, count)
      .reverse()
      .map((c) => c.id);
    newestFirst.set(hash, ids);
  }
  const matched = new Map<string, string>();
  for (const item of pending.items) {
    const id = newestFirst.get(item.hash)?.shift();
    if (id) matched.set(item.old, id);
  }
  return matched;
}
