// Second pass, for the links no table order allows in the creates (a table linking to itself; see
// link-order.ts): once every record exists, PATCH each such link field through the old->new record id
// map, ten records per request, several requests in flight. Links to records that were not restored
// are dropped and reported. PATCH is idempotent, so a batch is journaled after its answer and simply
// sent again on resume.
import { isRefusal } from "../airtable/recoverable-errors.ts";
import { MAX_RECORDS_PER_REQUEST, updateRecords } from "../airtable/write.ts";
import { throwIfInterrupted } from "../shutdown.ts";
import type { RestoreContext } from "./context.ts";
import { createPipeline, inFlightFor } from "./pipeline.ts";

/** A link field to write: archived name, target field id, and the archived table it points to. */
export interface LinkField {
  name: string;
  key: string;
  linkedTableId: string;
}

interface Update {
  old: string;
  id: string;
  fields: Record<string, string[]>;
  dropped: { record: string; field: string; missing: string[] }[];
}

export async function restoreLinks(
  ctx: RestoreContext,
  table: { oldId: string; name: string; newId: string },
  links: LinkField[],
): Promise<void> {
  if (links.length === 0) return;
  const { state } = ctx.journal;
  const mine = state.records.get(table.oldId) ?? new Map<string, string>();
  const done = state.linksDone.get(table.oldId) ?? new Set<string>();
  const pipeline = createPipeline(() => inFlightFor(ctx.client.latencyMs));
  let batch: Update[] = [];
  const flush = async () => {
    const updates = batch;
    batch = [];
    if (updates.length > 0) await pipeline.add(() => send(ctx, table, updates));
  };
  for await (const record of ctx.source.records(table.oldId)) {
    const id = mine.get(record.id);
    if (!id || done.has(record.id)) continue; // not restored (reported already), or linked by an earlier run
    const update: Update = { old: record.id, id, fields: {}, dropped: [] };
    for (const link of links) {
      const value = record.fields[link.name];
      if (!Array.isArray(value) || value.length === 0) continue;
      const targets = state.records.get(link.linkedTableId) ?? new Map<string, string>();
      const mapped = value.map((old) => targets.get(String(old)));
      const missing = value.filter((_, i) => mapped[i] === undefined).map(String);
      if (missing.length > 0) update.dropped.push({ record: record.id, field: link.name, missing });
      const ids = mapped.filter((x): x is string => x !== undefined);
      if (ids.length > 0) update.fields[link.key] = ids;
    }
    if (Object.keys(update.fields).length === 0 && update.dropped.length === 0) continue;
    batch.push(update);
    if (batch.length === MAX_RECORDS_PER_REQUEST) await flush();
  }
  await flush();
  await pipeline.drain();
}

// --- internal ---

async function send(
  ctx: RestoreContext,
  table: { oldId: string; name: string; newId: string },
  batch: Update[],
): Promise<void> {
  throwIfInterrupted(ctx.signal);
  const writes = batch.filter((u) => Object.keys(u.fields).length > 0);
  try {
    if (writes.length > 0)
      await updateRecords(
        ctx.client,
        ctx.baseId,
        table.newId,
        writes.map((u) => ({ id: u.id, fields: u.fields })),
        { typecast: ctx.typecast, signal: ctx.signal },
      );
  } catch (error) {
    if (!isRefusal(error)) throw error;
    if (batch.length > 1) {
      for (const one of batch) await send(ctx, table, [one]);
      return;
    }
    const one = batch[0]!;
    for (const field of Object.keys(one.fields))
      one.dropped.push({ record: one.old, field, missing: [`(refused: ${error.detail})`] });
  }
  const dropped = batch.flatMap((u) => u.dropped);
  for (const d of dropped)
    ctx.onEvent({
      type: "skip",
      message: `${table.name}/${d.record}/${d.field}: link to ${d.missing.join(", ")} dropped (not restored)`,
    });
  ctx.journal.append({
    t: "links",
    table: table.oldId,
    records: batch.map((u) => u.old),
    ...(dropped.length > 0 ? { dropped } : {}),
  });
}
