// After a create whose answer was lost (AmbiguousWriteError), or on resume after a create that was sent
// but never confirmed, read back the target table and find which of the batch's records exist.
//
// Why a content hash and not a marker: the create body cannot carry a marker Airtable keeps (record ids
// and createdTime are chosen by Airtable, and adding a marker field would change the user's base). The
// journal's `pending` entry keeps, per record, a hash of every first-pass field as sent (cells.ts); a
// read-back record matches when the same hash of the same fields comes back. Records already mapped by
// the journal are never claimed twice, and records created before the batch was sent (minus ten minutes
// of clock skew) are ignored, so identical rows that were in the table before (with --append) are not
// mistaken for ours. Identical records within one batch are matched by count.
import { listRecordPages } from "../airtable/read.ts";
import { contentHash } from "./cells.ts";
import type { RestoreContext, TableRun } from "./context.ts";

const CLOCK_SKEW_MS = 10 * 60 * 1000;

/** Archived record id -> new record id, for the pending items found in the target table. */
export async function reconcile(
  ctx: RestoreContext,
  table: TableRun,
  pending: { at: string; items: { old: string; hash: string }[] },
): Promise<Map<string, string>> {
  ctx.onEvent({
    type: "retry",
    message: `${table.name}: reading the table back to see which of ${pending.items.length} records were created`,
  });
  const claimed = new Set(ctx.journal.state.records.get(table.oldId)?.values() ?? []);
  const since = Date.parse(pending.at) - CLOCK_SKEW_MS;
  const wanted = new Map<string, number>();
  for (const item of pending.items) wanted.set(item.hash, (wanted.get(item.hash) ?? 0) + 1);
  const found = new Map<string, string[]>(); // hash -> new ids, in table order
  const fields = table.fields.map((f) => f.key);
  for await (const page of listRecordPages(ctx.client, ctx.baseId, table.newId, {
    returnFieldsByFieldId: true,
    fields,
    signal: ctx.signal,
  })) {
    for (const record of page) {
      if (claimed.has(record.id) || Date.parse(record.createdTime) < since) continue;
      const hash = contentHash(record.fields, table.fields);
      if (!wanted.has(hash)) continue;
      const ids = found.get(hash) ?? [];
      ids.push(record.id);
      found.set(hash, ids);
    }
  }
  const matched = new Map<string, string>();
  for (const item of pending.items) {
    const id = found.get(item.hash)?.shift();
    if (id) matched.set(item.old, id);
  }
  return matched;
}
