// The restore report (what the command prints, or gives as JSON) and the plan as text for --dry-run.
import { printable } from "../printable.ts";
import type { JournalState } from "./journal.ts";
import type { ManualStep, RestorePlan } from "./plan.ts";

export interface TableReport {
  name: string;
  archivedId: string;
  /** The table in the target (absent in a dry run for a table still to create). */
  id?: string;
  action: "create" | "existing";
  fieldsCreated: string[];
  records: { archived: number; restored: number };
  failedRecords: { record: string; reason: string }[];
  skippedValues: { record: string; field: string; reason: string }[];
  droppedLinks: { record: string; field: string; missing: string[] }[];
  /** `uploaded`: files restored (through the upload endpoint or, with S3, fetched by Airtable and read back). */
  attachments: { uploaded: number; skipped: { record: string; field: string; reason: string }[] };
  /** Comments restored onto this table's records. */
  comments: number;
}

/** What this run asked of Airtable: requests by kind, and its wall time against the 5 requests/s ceiling. */
export interface RequestReport {
  total: number;
  /** schema, create, update, upload, comments, read (read-backs and checks) */
  byKind: Record<string, number>;
  seconds: number;
  /** The least time these requests take at 5 per second. */
  ceilingSeconds: number;
}

export interface RestoreReport {
  archive: string;
  baseId: string | null;
  baseCreated: boolean;
  dryRun: boolean;
  journal: string | null;
  tables: TableReport[];
  manualSteps: ManualStep[];
  notes: string[];
  apiCalls: number;
  requests: RequestReport;
}

/** Per table figures from the plan and (after a run) the journal. */
export function buildTableReports(
  plan: RestorePlan,
  counts: Map<string, number>,
  journal: JournalState | null,
  ids: Map<string, string>,
): TableReport[] {
  return plan.tables.map((t) => {
    const old = t.source.id;
    const attachments = { uploaded: 0, skipped: [] as TableReport["attachments"]["skipped"] };
    for (const [key, done] of journal?.attachments ?? []) {
      const [table, record, field] = key.split("/");
      if (table !== old) continue;
      if (done.id) attachments.uploaded++;
      else if (done.skipped) attachments.skipped.push({ record: record!, field: field!, reason: done.skipped });
    }
    const id = ids.get(old) ?? t.targetId;
    return {
      name: t.source.name,
      archivedId: old,
      ...(id ? { id } : {}),
      action: t.action,
      fieldsCreated: t.fields
        .filter((f) => ["with-table", "create", "link"].includes(f.action))
        .map((f) => f.source.name),
      records: { archived: counts.get(old) ?? 0, restored: journal?.records.get(old)?.size ?? 0 },
      failedRecords: (journal?.failed ?? [])
        .filter((f) => f.table === old)
        .map(({ record, reason }) => ({ record, reason })),
      skippedValues: (journal?.skipped ?? [])
        .filter((s) => s.table === old)
        .map(({ record, field, reason }) => ({ record, field, reason })),
      droppedLinks: (journal?.dropped ?? [])
        .filter((d) => d.table === old)
        .map(({ record, field, missing }) => ({ record, field, missing })),
      attachments,
      comments: [...(journal?.comments.keys() ?? [])].filter((k) => k.startsWith(`${old}/`)).length,
    };
  });
}

/** Anything skipped makes the restore finish "with warnings" (exit 3); manual steps alone do not. */
export function hasSkips(report: RestoreReport): boolean {
  return report.tables.some(
    (t) => t.failedRecords.length + t.skippedValues.length + t.droppedLinks.length + t.attachments.skipped.length > 0,
  );
}

/** The report as lines for people (stderr); names come from the archive and Airtable, so each line is printable(). */
export function formatReport(report: RestoreReport): string[] {
  const lines: string[] = [];
  const where = report.baseId ? `base ${report.baseId}${report.baseCreated ? " (created)" : ""}` : "a new base";
  lines.push(
    report.dryRun
      ? `Plan for restoring ${report.archive} into ${where} (dry run: nothing written)`
      : `Restored ${report.archive} into ${where}`,
  );
  for (const t of report.tables) {
    const verb = t.action === "create" ? "create table" : "existing table";
    const records = report.dryRun
      ? `${t.records.archived} records to restore`
      : `${t.records.restored}/${t.records.archived} records`;
    lines.push(
      `  ${verb} ${t.name}: ${records}${t.fieldsCreated.length ? `; fields to create: ${t.fieldsCreated.join(", ")}` : ""}`,
    );
    if (!report.dryRun && t.comments > 0) lines.push(`    comments: ${t.comments} restored`);
    if (!report.dryRun && t.attachments.uploaded + t.attachments.skipped.length > 0)
      lines.push(`    attachments: ${t.attachments.uploaded} restored, ${t.attachments.skipped.length} skipped`);
    for (const f of t.failedRecords) lines.push(`    ${t.name}/${f.record}: record not restored: ${f.reason}`);
    for (const s of t.skippedValues) lines.push(`    ${t.name}/${s.record}/${s.field}: ${s.reason}`);
    for (const d of t.droppedLinks)
      lines.push(`    ${t.name}/${d.record}/${d.field}: link dropped to ${d.missing.join(", ")}`);
    for (const a of t.attachments.skipped)
      lines.push(`    ${t.name}/${a.record}/${a.field}: attachment skipped: ${a.reason}`);
  }
  for (const note of report.notes) lines.push(`  note: ${note}`);
  if (report.manualSteps.length > 0) {
    lines.push("  To rebuild by hand (the API cannot create these fields):");
    for (const m of report.manualSteps) lines.push(`    ${m.table}.${m.field} (${m.type}): ${m.howTo}`);
  }
  if (!report.dryRun) {
    const r = report.requests;
    const kinds = Object.entries(r.byKind)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(", ");
    lines.push(
      `  ${r.total} API requests (${kinds}) in ${r.seconds.toFixed(1)} s; at 5 requests/s they need ${r.ceilingSeconds.toFixed(1)} s${report.journal ? `; journal ${report.journal}` : ""}`,
    );
  }
  return lines.map((line) => printable(line));
}
