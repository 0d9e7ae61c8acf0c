// Links in the first pass: tables are filled in an order where each link is written from the side whose
// linked table is already filled, inside the create request (records.ts maps old ids to new ones). A
// link pair (a field and its inverse) is written once, from the table that comes later; Airtable fills
// the inverse. A one-way link needs its linked table first, so tables are ordered by those (archive order
// otherwise). Only what no order allows waits for the second pass (links.ts): a table linking to itself,
// and the second of two one-way links that need opposite orders.
import type { WritableField } from "./cells.ts";
import type { LinkField } from "./links.ts";
import type { FieldPlan, RestorePlan, TablePlan } from "./plan.ts";
import type { TargetIds } from "./schema-apply.ts";

export interface LinkPlan {
  /** Tables in the order they are filled. */
  order: TablePlan[];
  /** archived table id -> link fields written inside its creates */
  first: Map<string, WritableField[]>;
  /** archived table id -> link fields written by updates once every record exists */
  second: Map<string, LinkField[]>;
}

export function planLinks(plan: RestorePlan, ids: TargetIds): LinkPlan {
  const links = new Map<string, FieldPlan[]>(); // archived table id -> its writable link fields
  for (const t of plan.tables)
    links.set(
      t.source.id,
      t.fields.filter((f) => isWritableLink(f, ids)),
    );
  const inverseOf = (f: FieldPlan) => {
    const inverseId = (f.source.options as { inverseLinkFieldId?: unknown } | null | undefined)?.inverseLinkFieldId;
    return links.get(f.linkedTableId!)?.find((g) => g.source.id === inverseId && g.linkedTableId !== f.linkedTableId);
  };
  const order = fillOrder(plan.tables, (t) =>
    (links.get(t.source.id) ?? [])
      .filter((f) => f.linkedTableId !== t.source.id && !inverseOf(f))
      .map((f) => f.linkedTableId!),
  );
  const position = new Map(order.map((t, i) => [t.source.id, i]));
  const first = new Map<string, WritableField[]>();
  const second = new Map<string, LinkField[]>();
  for (const t of order) {
    const mine = position.get(t.source.id)!;
    first.set(t.source.id, []);
    second.set(t.source.id, []);
    for (const f of links.get(t.source.id) ?? []) {
      const linked = position.get(f.linkedTableId!)!;
      const key = ids.fields.get(f.source.id)!;
      if (linked < mine)
        first
          .get(t.source.id)!
          .push({ name: f.source.name, key, type: f.source.type, linkedTableId: f.linkedTableId! });
      else if (linked === mine || !inverseOf(f))
        second.get(t.source.id)!.push({ name: f.source.name, key, linkedTableId: f.linkedTableId! });
      // else: the linked table comes later and writes the inverse; Airtable fills this side.
    }
  }
  return { order, first, second };
}

// --- internal ---

function isWritableLink(f: FieldPlan, ids: TargetIds): boolean {
  if (f.source.type !== "multipleRecordLinks" || !f.linkedTableId || !ids.tables.has(f.linkedTableId)) return false;
  if (!ids.fields.get(f.source.id)) return false;
  if (f.action === "link" || f.action === "inverse") return true;
  return f.action === "existing" && f.target?.type === "multipleRecordLinks";
}

/**
 * Tables with the ones they need first (one-way links). A cycle is broken at the first table (in archive
 * order) that another remaining table needs: it goes first, and only its own link into the cycle waits.
 */
function fillOrder(tables: TablePlan[], needs: (t: TablePlan) => string[]): TablePlan[] {
  const left = [...tables];
  const order: TablePlan[] = [];
  const waiting = (t: TablePlan) => needs(t).filter((id) => left.some((l) => l.source.id === id));
  while (left.length > 0) {
    let next = left.findIndex((t) => waiting(t).length === 0);
    if (next === -1) next = left.findIndex((t) => left.some((other) => waiting(other).includes(t.source.id)));
    const [table] = left.splice(Math.max(0, next), 1);
    order.push(table!);
  }
  return order;
}
