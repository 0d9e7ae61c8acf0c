// A record Airtable refuses as a whole: find the refused values by bisection over its fields and keep
// every other value. Each probe is a real write, and a create that is accepted creates the record, so:
// the record is created with a part of its fields (found to be accepted), and the other groups are added
// to it by updates (idempotent), each group split in two when refused. The create's journal entry names
// the fields still to add, and so does a `partial` entry after each update: a run killed half-way
// resumes with the updates, never with a second create. Only a field refused on its own is dropped.

import type { AirtableRequestError } from "../airtable/recoverable-errors.ts";
import { isRefusal } from "../airtable/recoverable-errors.ts";
import { updateRecords } from "../airtable/write.ts";
import { throwIfInterrupted } from "../shutdown.ts";
import { createItems, type Item, type TableWriter } from "./records.ts";

/** Fields (target keys) to add; `refused`: Airtable's reason when the group is known to hold a refused value. */
export interface Group {
  keys: string[];
  refused?: string;
  /** This group holds a refused value if the group just before it is accepted (its sibling). */
  refusedIfPreviousAccepted?: string;
}

/** Creates the record with the fields that Airtable takes, then adds the rest group by group. */
export async function isolateFields(w: TableWriter, item: Item, refusal: AirtableRequestError): Promise<void> {
  const groups: Group[] = [];
  let candidate: Group = { keys: Object.keys(item.fields), refused: refusal.detail };
  for (;;) {
    if (candidate.refused !== undefined) {
      if (candidate.keys.length === 0) return fail(w, item.old, candidate.refused);
      if (candidate.keys.length === 1) {
        skip(w, item.old, candidate.keys[0]!, candidate.refused);
        candidate = { keys: [] };
        continue;
      }
      const [a, b] = halves(candidate.keys);
      groups.unshift({ keys: b, refusedIfPreviousAccepted: candidate.refused });
      candidate = { keys: a };
      continue;
    }
    const fields = pick(item.fields, candidate.keys);
    const error = await createItems(w, [{ old: item.old, fields, rest: groups.flatMap((g) => g.keys) }]);
    if (!error) break;
    candidate = { keys: candidate.keys, refused: error.detail };
    if (groups[0]) delete groups[0].refusedIfPreviousAccepted; // its sibling was refused: nothing known
  }
  const id = w.ctx.journal.state.records.get(w.table.oldId)?.get(item.old);
  if (!id) return;
  accepted(groups);
  await addFields(w, item, id, groups);
}

/** Adds groups of fields to a created record by updates, bisecting each refused group. */
export async function addFields(w: TableWriter, item: Item, id: string, groups: Group[]): Promise<void> {
  const { ctx, table } = w;
  while (groups.length > 0) {
    throwIfInterrupted(ctx.signal);
    const group = groups.shift()!;
    if (group.refused !== undefined) {
      if (group.keys.length === 1) skip(w, item.old, group.keys[0]!, group.refused);
      else {
        const [a, b] = halves(group.keys);
        groups.unshift({ keys: a }, { keys: b, refusedIfPreviousAccepted: group.refused });
        continue;
      }
    } else {
      const error = await update(w, id, pick(item.fields, group.keys));
      if (error) {
        if (groups[0]) delete groups[0].refusedIfPreviousAccepted;
        groups.unshift({ keys: group.keys, refused: error.detail });
        continue;
      }
      accepted(groups);
    }
    ctx.journal.append({ t: "partial", table: table.oldId, record: item.old, id, rest: groups.flatMap((g) => g.keys) });
  }
}

// --- internal ---

async function update(
  w: TableWriter,
  id: string,
  fields: Record<string, unknown>,
): Promise<AirtableRequestError | undefined> {
  if (Object.keys(fields).length === 0) return undefined;
  try {
    await updateRecords(w.ctx.client, w.ctx.baseId, w.table.newId, [{ id, fields }], {
      typecast: w.ctx.typecast,
      signal: w.ctx.signal,
    });
    return undefined;
  } catch (error) {
    if (isRefusal(error)) return error;
    throw error;
  }
}

/** The group before `groups[0]` was accepted: if `groups[0]` is its sibling, it holds the refused value. */
function accepted(groups: Group[]): void {
  const next = groups[0];
  if (next?.refusedIfPreviousAccepted !== undefined) {
    next.refused = next.refusedIfPreviousAccepted;
    delete next.refusedIfPreviousAccepted;
  }
}

function skip(w: TableWriter, record: string, key: string, reason: string): void {
  const field = w.table.fields.find((f) => f.key === key)?.name ?? key;
  w.ctx.journal.append({ t: "skipped", table: w.table.oldId, record, field, reason });
  w.ctx.onEvent({ type: "skip", message: `${w.table.name}/${record}/${field}: ${reason}` });
}

function fail(w: TableWriter, record: string, reason: string): void {
  w.ctx.journal.append({ t: "failed", table: w.table.oldId, record, reason });
  w.ctx.onEvent({ type: "skip", message: `${w.table.name}/${record}: record not restored: ${reason}` });
}

function halves(keys: string[]): [string[], string[]] {
  const half = Math.ceil(keys.length / 2);
  return [keys.slice(0, half), keys.slice(half)];
}

function pick(fields: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in fields).map((k) => [k, fields[k]]));
}
