// The restore plan (pure): the archive's schema.json against the target base's schema. Which tables and
// fields to create (and how), which already exist, which links come from which side, and which computed
// fields a person has to rebuild by hand.
import type { ArchivedField, ArchivedTable } from "../archive/contents.ts";
import { CREATABLE_TYPES, createOptions, PRIMARY_TYPES, rebuildHint } from "./field-types.ts";

export interface TargetTable {
  id: string;
  name: string;
  primaryFieldId?: string;
  fields: { id: string; name: string; type: string; options?: Record<string, unknown> | null }[];
}

export type FieldAction =
  | "with-table" // part of the create-table call
  | "create" // createField on a table that exists
  | "existing" // the target already has a field of that name
  | "link" // createField once every table exists; Airtable makes the inverse
  | "inverse" // made by Airtable as the inverse of another link, then renamed to its archived name
  | "manual" // computed: a person rebuilds it
  | "skip"; // cannot be restored (e.g. a link to a table that is not restored)

export interface FieldPlan {
  source: ArchivedField;
  action: FieldAction;
  /** Create body (with-table, create, link: linkedTableId is still the ARCHIVED table id). */
  body?: { name: string; type: string; description?: string; options?: Record<string, unknown> };
  /** The target field (existing), and its type there. */
  target?: { id: string; name: string; type: string };
  /** link: the archived inverse field that Airtable's inverse becomes. inverse: the archived link it comes from. */
  pairedFieldId?: string;
  /** link: the archived table it links to. */
  linkedTableId?: string;
  /** A computed primary field restored as singleLineText holding its values as strings. */
  primaryAsText?: boolean;
  /** Why (skip), or what to rebuild (manual), or a caveat (existing with another type). */
  note?: string;
}

export interface TablePlan {
  source: ArchivedTable;
  action: "create" | "existing";
  /** The target table when it exists already. */
  targetId?: string;
  fields: FieldPlan[];
}

export interface ManualStep {
  table: string;
  field: string;
  type: string;
  howTo: string;
}

export interface RestorePlan {
  tables: TablePlan[];
  manual: ManualStep[];
  notes: string[];
}

/** Computes the plan. `only` limits it to archived tables named (or with the id) given, in archive order. */
export function planRestore(archive: ArchivedTable[], target: TargetTable[], only: string[] = []): RestorePlan {
  const selected = selectTables(archive, only);
  const selectedIds = new Set(selected.map((t) => t.id));
  const fieldName = describeField(archive);
  const notes: string[] = [];
  const manual: ManualStep[] = [];
  const linkOwner = chooseLinkOwners(selected, target); // archived link field id -> the side that creates the pair

  const tables = selected.map((table): TablePlan => {
    const existing = target.find((t) => t.name.toLowerCase() === table.name.toLowerCase());
    const primaryId = table.primaryFieldId ?? table.fields[0]?.id;
    const fields = table.fields.map((field): FieldPlan => {
      const there = existing?.fields.find((f) => f.name.toLowerCase() === field.name.toLowerCase());
      if (there) {
        const plan: FieldPlan = {
          source: field,
          action: "existing",
          target: { id: there.id, name: there.name, type: there.type },
        };
        if (there.type !== field.type && !(field.id === primaryId && !CREATABLE_TYPES.has(field.type))) {
          plan.note = `exists in the target as ${there.type}, archived as ${field.type}: values Airtable refuses are reported`;
        }
        if (field.type === "multipleRecordLinks") plan.linkedTableId = linkTarget(field);
        return plan;
      }
      const isPrimary = field.id === primaryId && !existing;
      if (isPrimary && !PRIMARY_TYPES.has(field.type)) {
        const why = CREATABLE_TYPES.has(field.type) ? "cannot be a primary field" : "is computed";
        notes.push(
          `${table.name}.${field.name}: the primary field (${field.type}) ${why}; restored as single line text holding its values`,
        );
        if (!CREATABLE_TYPES.has(field.type))
          manual.push({
            table: table.name,
            field: field.name,
            type: field.type,
            howTo: `now text; to make it computed again: ${rebuildHint(field, fieldName)}`,
          });
        return {
          source: field,
          action: "with-table",
          primaryAsText: true,
          body: { name: field.name, type: "singleLineText", ...desc(field) },
        };
      }
      if (!CREATABLE_TYPES.has(field.type)) {
        manual.push({ table: table.name, field: field.name, type: field.type, howTo: rebuildHint(field, fieldName) });
        return { source: field, action: "manual", note: rebuildHint(field, fieldName) };
      }
      if (field.type === "multipleRecordLinks") return planLink(table, field, selectedIds, archive);
      const options = createOptions(field);
      return {
        source: field,
        action: existing ? "create" : "with-table",
        body: { name: field.name, type: field.type, ...desc(field), ...(options ? { options } : {}) },
      };
    });
    // The create-table call takes the primary field first.
    if (!existing) fields.sort((a, b) => Number(b.source.id === primaryId) - Number(a.source.id === primaryId));
    return {
      source: table,
      action: existing ? "existing" : "create",
      ...(existing ? { targetId: existing.id } : {}),
      fields,
    };
  });

  // Inverse sides whose link is created from the other table: never created twice.
  for (const t of tables) {
    for (const f of t.fields) {
      const owner = linkOwner.get(f.source.id);
      if (
        (f.action === "link" || f.action === "skip") &&
        owner !== undefined &&
        owner !== f.source.id &&
        f.linkedTableId &&
        selectedIds.has(f.linkedTableId)
      ) {
        f.action = "inverse";
        f.pairedFieldId = owner;
        delete f.body;
      }
    }
  }
  return { tables, manual, notes };
}

/** Archived fields whose values the first pass writes (links and attachments come later). */
export function isFirstPassField(plan: FieldPlan): boolean {
  if (!["with-table", "create", "existing"].includes(plan.action)) return false;
  const type = plan.primaryAsText ? "singleLineText" : (plan.target?.type ?? plan.body?.type ?? plan.source.type);
  return CREATABLE_TYPES.has(type) && type !== "multipleRecordLinks" && type !== "multipleAttachments";
}

// --- internal ---

function selectTables(archive: ArchivedTable[], only: string[]): ArchivedTable[] {
  if (only.length === 0) return archive;
  const unknown = only.filter((name) => !archive.some((t) => t.id === name || t.name === name));
  if (unknown.length > 0) throw new RangeError(`not in the archive: ${unknown.join(", ")}`);
  return archive.filter((t) => only.includes(t.id) || only.includes(t.name));
}

/**
 * For each link pair, the side that creates it: the side that already exists in the target if one does
 * (so Airtable's inverse is never made twice), else the first side met in archive order.
 */
function chooseLinkOwners(selected: ArchivedTable[], target: TargetTable[]): Map<string, string> {
  const owner = new Map<string, string>();
  const exists = (table: ArchivedTable, field: ArchivedField) =>
    target
      .find((t) => t.name.toLowerCase() === table.name.toLowerCase())
      ?.fields.some((f) => f.name.toLowerCase() === field.name.toLowerCase()) === true;
  for (const table of selected) {
    for (const field of table.fields) {
      if (field.type !== "multipleRecordLinks" || owner.has(field.id)) continue;
      const linked = selected.find((t) => t.id === linkTarget(field));
      const inverseId = (field.options as { inverseLinkFieldId?: unknown } | null | undefined)?.inverseLinkFieldId;
      const inverse = linked?.fields.find((f) => f.id === inverseId && f.type === "multipleRecordLinks");
      const first = inverse && linked && exists(linked, inverse) && !exists(table, field) ? inverse.id : field.id;
      owner.set(field.id, first);
      if (inverse && linked !== table) owner.set(inverse.id, first);
    }
  }
  return owner;
}

function planLink(
  table: ArchivedTable,
  field: ArchivedField,
  selected: Set<string>,
  archive: ArchivedTable[],
): FieldPlan {
  const linkedTableId = linkTarget(field);
  const linked = archive.find((t) => t.id === linkedTableId);
  if (!linked || !selected.has(linkedTableId)) {
    return {
      source: field,
      action: "skip",
      linkedTableId,
      note: `links to table ${linked?.name ?? linkedTableId}, which is not restored`,
    };
  }
  const inverseId = (field.options as { inverseLinkFieldId?: unknown } | null | undefined)?.inverseLinkFieldId;
  const inverse = typeof inverseId === "string" ? linked.fields.find((f) => f.id === inverseId) : undefined;
  const options: Record<string, unknown> = { linkedTableId };
  if ((field.options as { prefersSingleRecordLink?: unknown } | null | undefined)?.prefersSingleRecordLink === true)
    options.prefersSingleRecordLink = true;
  return {
    source: field,
    action: "link",
    linkedTableId,
    ...(inverse && linkedTableId !== table.id ? { pairedFieldId: inverse.id } : {}),
    body: { name: field.name, type: field.type, ...desc(field), options },
  };
}

function linkTarget(field: ArchivedField): string {
  return String((field.options as { linkedTableId?: unknown } | null | undefined)?.linkedTableId ?? "");
}

function desc(field: ArchivedField): { description?: string } {
  return field.description ? { description: field.description } : {};
}

/** `Table.Field` for an archived field id, for the rebuild instructions. */
function describeField(archive: ArchivedTable[]): (id: unknown) => string {
  return (id) => {
    for (const t of archive) {
      const f = t.fields.find((x) => x.id === id);
      if (f) return `${t.name}.${f.name}`;
    }
    return typeof id === "string" ? id : "(unknown field)";
  };
}
