// The schema and the first pass, overlapped where nothing waits on the other. Each schema call waits for
// its answer (about 0.6 s for a write) before the next, so run alone they leave the base's 5 requests/s
// mostly unused. Files are staged in S3 while the tables are created (staging needs no target id); the
// first table in fill order writes no link in its creates, so it is filled while the link fields are
// created and their inverses renamed; every later table waits for those. All requests go through the
// one client, so its limiter keeps the base under its rate whatever runs at once.

import type { S3Storage } from "../storage/s3.ts";
import type { AttachmentTargets } from "./attachments.ts";
import type { WritableField } from "./cells.ts";
import type { RestoreContext, TableRun } from "./context.ts";
import { type LinkPlan, planLinks } from "./link-order.ts";
import { type FieldPlan, isFirstPassField, type RestorePlan } from "./plan.ts";
import { restoreRecords } from "./records.ts";
import { createLinks, createTables, type TargetIds } from "./schema-apply.ts";
import { bindStaging, stageFiles } from "./staging.ts";

export interface Filled {
  ids: TargetIds;
  links: LinkPlan;
  runs: TableRun[];
  targets: AttachmentTargets;
}

/** Creates the schema and every table's records (first pass); with `staging`, files go by presigned URL. */
export async function schemaAndRecords(
  ctx: RestoreContext,
  plan: RestorePlan,
  counts: Map<string, number>,
  staging: S3Storage | undefined,
): Promise<Filled> {
  // The fill order depends on which tables and links there are, not on their ids.
  const pending: TargetIds = { tables: new Map(), fields: new Map() };
  for (const t of plan.tables) {
    pending.tables.set(t.source.id, PENDING);
    for (const f of t.fields) pending.fields.set(f.source.id, PENDING);
  }
  const order = planLinks(plan, pending).order;
  // The attachment fields restored, by archived table and field (every field is there while pending).
  const wanted = new Set(attachmentTargets(plan, pending).keys());
  const stop = new AbortController();
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, stop.signal]) : stop.signal;
  const uploads = staging
    ? await stageFiles(
        ctx,
        staging,
        wanted,
        order.map((t) => t.source.id),
        signal,
      )
    : undefined;
  const bind = (ids: TargetIds) => {
    if (staging && uploads) ctx.staging = bindStaging(staging, uploads, attachmentTargets(plan, ids));
  };
  const created = () => new Set(ctx.journal.state.tables.keys());
  try {
    // The first table is created and filled while the others and every link field are made.
    const firstTable = order[0];
    let early: TableRun | undefined;
    if (firstTable) {
      const own = await createTables(ctx, { ...plan, tables: [firstTable] }, created());
      bind(own);
      const mixed = {
        tables: new Map([...pending.tables, ...own.tables]),
        fields: new Map([...pending.fields, ...own.fields]),
      };
      const run = tableRuns(planLinks(plan, mixed), mixed, staging !== undefined)[0];
      if (run?.oldId === firstTable.source.id && !run.fields.some((f) => f.key === PENDING)) early = run;
    }
    const schema = createTables(ctx, plan, created()).then(async (ids) => {
      await createLinks(ctx, plan, ids);
      return ids;
    });
    const [made, filled] = await Promise.allSettled([
      schema,
      early ? restoreRecords(ctx, early, counts.get(early.oldId) ?? 0) : undefined,
    ]);
    if (made.status === "rejected") throw made.reason;
    if (filled.status === "rejected") throw filled.reason;
    const ids = made.value;
    bind(ids);

    const links = planLinks(plan, ids);
    const runs = tableRuns(links, ids, staging !== undefined);
    for (const run of runs) if (run.oldId !== early?.oldId) await restoreRecords(ctx, run, counts.get(run.oldId) ?? 0);
    await uploads?.done;
    return { ids, links, runs, targets: attachmentTargets(plan, ids) };
  } catch (error) {
    stop.abort(error); // no upload goes on behind a failed restore
    await uploads?.done.catch(() => {});
    throw error;
  }
}

// --- internal ---

/** Stands in for an id not made yet: no run that writes it starts before it is. */
const PENDING = "(pending)";

/** The tables in fill order, each with the fields its creates write: values, and links to tables filled before. */
function tableRuns(links: LinkPlan, ids: TargetIds, staged: boolean): TableRun[] {
  return links.order.map((t) => ({
    oldId: t.source.id,
    name: t.source.name,
    newId: ids.tables.get(t.source.id)!,
    fields: [
      ...t.fields.filter(isFirstPassField).flatMap((f): WritableField[] => {
        const key = ids.fields.get(f.source.id);
        if (!key) return [];
        const type = f.primaryAsText ? "singleLineText" : (f.target?.type ?? f.source.type);
        return [{ name: f.source.name, key, type, ...(f.primaryAsText ? { asText: true } : {}) }];
      }),
      ...(links.first.get(t.source.id) ?? []),
      ...(staged ? t.fields.filter(isAttachmentField).map((f) => stagedField(f, ids)) : []),
    ],
  }));
}

function isAttachmentField(f: FieldPlan): boolean {
  if (f.source.type !== "multipleAttachments" || !["with-table", "create", "existing"].includes(f.action)) return false;
  return !f.target || f.target.type === "multipleAttachments";
}

function stagedField(f: FieldPlan, ids: TargetIds): WritableField {
  return { name: f.source.name, key: ids.fields.get(f.source.id) ?? "", type: "multipleAttachments", staged: true };
}

function attachmentTargets(plan: RestorePlan, ids: TargetIds): AttachmentTargets {
  const targets: AttachmentTargets = new Map();
  for (const t of plan.tables) {
    for (const f of t.fields) {
      const fieldId = ids.fields.get(f.source.id);
      if (!isAttachmentField(f) || !fieldId) continue;
      const target = { tableName: t.source.name, tableId: ids.tables.get(t.source.id)!, fieldId };
      targets.set(`${t.source.id}/${f.source.name}`, target);
      targets.set(`${t.source.id}/${f.source.id}`, target);
    }
  }
  return targets;
}
