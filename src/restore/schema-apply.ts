// Carries out the schema part of a plan: tables (with their non-link fields in the create-table call),
// fields on tables that exist, then link fields, renaming each inverse Airtable makes to its archived
// name. Every id is journaled as it is created; a create whose answer was lost is settled by reading
// the schema back and finding the table or field by name.

import { getBaseSchema } from "../airtable/read.ts";
import { AmbiguousWriteError } from "../airtable/recoverable-errors.ts";
import type { AirtableField, AirtableTable } from "../airtable/schemas.ts";
import { createField, createTable, type NewTable, updateField } from "../airtable/write.ts";
import { AirbackupError } from "../errors.ts";
import { withReadBack } from "../retry.ts";
import { throwIfInterrupted } from "../shutdown.ts";
import type { RestoreContext } from "./context.ts";
import type { FieldPlan, RestorePlan, TablePlan } from "./plan.ts";

/** Ids in the target: archived table id -> table id, archived field id -> field id. */
export interface TargetIds {
  tables: Map<string, string>;
  fields: Map<string, string>;
}

/** The create-table body for a planned table (primary first, links left for later). */
export function newTableBody(table: TablePlan): NewTable {
  return {
    name: table.source.name,
    ...(table.source.description ? { description: table.source.description } : {}),
    fields: table.fields.filter((f) => f.action === "with-table").map((f) => f.body!),
  };
}

/** Journals a table created by createTable/createBase and the ids of its fields (matched by name). */
export function recordTable(ctx: RestoreContext, table: TablePlan, created: AirtableTable): void {
  ctx.journal.append({ t: "table", old: table.source.id, new: created.id, name: created.name });
  const fields = table.fields.filter((f) => f.action === "with-table");
  ctx.journal.append(
    ...fields
      .map((f) => ({
        t: "field" as const,
        table: table.source.id,
        old: f.source.id,
        new: byName(created.fields, f.body!.name)?.id ?? "",
      }))
      .filter((e) => e.new),
  );
}

/**
 * The schema's first half: tables (their non-link fields inside the create-table call) and fields on
 * tables that exist. Every id a record's values need is known after it; links come after (createLinks).
 */
export async function createTables(
  ctx: RestoreContext,
  plan: RestorePlan,
  alreadyCreated: Set<string>,
): Promise<TargetIds> {
  const ids: TargetIds = { tables: new Map(), fields: new Map() };
  for (const t of plan.tables) {
    if (t.action === "existing") ids.tables.set(t.source.id, t.targetId!);
    for (const f of t.fields) if (f.action === "existing") ids.fields.set(f.source.id, f.target!.id);
  }
  for (const table of plan.tables) {
    throwIfInterrupted(ctx.signal);
    if (table.action === "create" && !alreadyCreated.has(table.source.id)) {
      const body = newTableBody(table);
      ctx.onEvent({ type: "step", message: `creating table ${table.source.name}` });
      const created = await settle(
        ctx,
        () => createTable(ctx.client, ctx.baseId, body, { signal: ctx.signal }),
        (s) => byName(s.tables, body.name),
      );
      recordTable(ctx, table, created);
    }
    const tableId = ctx.journal.state.tables.get(table.source.id) ?? ids.tables.get(table.source.id);
    if (!tableId) throw new AirbackupError("AIRTABLE_BAD_RESPONSE", `table ${table.source.name} was not created`);
    ids.tables.set(table.source.id, tableId);
    for (const f of table.fields) {
      if (f.action === "with-table") ids.fields.set(f.source.id, ctx.journal.state.fields.get(f.source.id)?.id ?? "");
      if (f.action !== "create") continue;
      ids.fields.set(f.source.id, await ensureField(ctx, table, tableId, f));
    }
  }
  return ids;
}

/**
 * The schema's second half: link fields, then the inverse Airtable made for each, renamed to its archived
 * name (one schema read for all of them). Adds their ids to `ids`.
 */
export async function createLinks(ctx: RestoreContext, plan: RestorePlan, ids: TargetIds): Promise<void> {
  for (const table of plan.tables) {
    for (const f of table.fields) {
      if (f.action !== "link") continue;
      throwIfInterrupted(ctx.signal);
      const body = { ...f.body!, options: { ...f.body!.options, linkedTableId: ids.tables.get(f.linkedTableId!) } };
      ids.fields.set(f.source.id, await ensureField(ctx, table, ids.tables.get(table.source.id)!, { ...f, body }));
    }
  }
  let schema: { tables: AirtableTable[] } | undefined;
  for (const table of plan.tables) {
    for (const f of table.fields) {
      if (f.action !== "inverse") continue;
      const known = ctx.journal.state.fields.get(f.source.id);
      if (known) {
        ids.fields.set(f.source.id, known.id);
        continue;
      }
      schema ??= await getBaseSchema(ctx.client, ctx.baseId, { includeVisibleFieldIds: false, signal: ctx.signal });
      ids.fields.set(f.source.id, await renameInverse(ctx, table, f, ids, schema));
    }
  }
}

// --- internal ---

async function ensureField(ctx: RestoreContext, table: TablePlan, tableId: string, f: FieldPlan): Promise<string> {
  const known = ctx.journal.state.fields.get(f.source.id);
  if (known) return known.id;
  ctx.onEvent({ type: "step", message: `creating field ${table.source.name}.${f.body!.name} (${f.body!.type})` });
  const created = await settle(
    ctx,
    () => createField(ctx.client, ctx.baseId, tableId, f.body!, { signal: ctx.signal }),
    (s) => byName(s.tables.find((t) => t.id === tableId)?.fields ?? [], f.body!.name),
  );
  const inverseId = (created.options as { inverseLinkFieldId?: unknown } | null | undefined)?.inverseLinkFieldId;
  const linked = (created.options as { linkedTableId?: unknown } | null | undefined)?.linkedTableId;
  ctx.journal.append({
    t: "field",
    table: table.source.id,
    old: f.source.id,
    new: created.id,
    ...(typeof inverseId === "string" && typeof linked === "string"
      ? { inverse: { table: linked, id: inverseId } }
      : {}),
  });
  return created.id;
}

/** The inverse Airtable made for the owner link gets this field's archived name (`schema`: read after every link was made). */
async function renameInverse(
  ctx: RestoreContext,
  table: TablePlan,
  f: FieldPlan,
  ids: TargetIds,
  schema: { tables: AirtableTable[] },
): Promise<string> {
  const tableId = ids.tables.get(table.source.id)!;
  const ownerNew = ids.fields.get(f.pairedFieldId!);
  const owner = schema.tables.flatMap((t) => t.fields).find((x) => x.id === ownerNew);
  const inverseId =
    ctx.journal.state.fields.get(f.pairedFieldId!)?.inverse?.id ??
    (owner?.options as { inverseLinkFieldId?: string } | undefined)?.inverseLinkFieldId;
  if (!inverseId)
    throw new AirbackupError(
      "AIRTABLE_BAD_RESPONSE",
      `Airtable made no inverse field for the link ${f.source.name} in table ${table.source.name}`,
    );
  const current = schema.tables.find((t) => t.id === tableId)?.fields.find((x) => x.id === inverseId);
  if (current && current.name !== f.source.name) {
    ctx.onEvent({
      type: "step",
      message: `renaming the inverse link ${table.source.name}.${current.name} to ${f.source.name}`,
    });
    await updateField(ctx.client, ctx.baseId, tableId, inverseId, { name: f.source.name }, { signal: ctx.signal });
  }
  ctx.journal.append({ t: "field", table: table.source.id, old: f.source.id, new: inverseId });
  return inverseId;
}

/** Runs a create; if its answer was lost, reads the schema back and takes what it finds by name. */
function settle<T>(
  ctx: RestoreContext,
  create: () => Promise<T>,
  find: (schema: { tables: AirtableTable[] }) => T | undefined,
): Promise<T> {
  return withReadBack(
    create,
    async () => {
      const schema = await getBaseSchema(ctx.client, ctx.baseId, { includeVisibleFieldIds: false, signal: ctx.signal });
      const found = find(schema);
      return found === undefined ? undefined : { value: found };
    },
    { isLost: (error) => error instanceof AmbiguousWriteError },
  );
}

function byName<T extends AirtableTable | AirtableField>(items: T[], name: string): T | undefined {
  return items.find((x) => x.name.toLowerCase() === name.toLowerCase());
}
