// What the Meta API can create, and how an archived field's options become create options: ids and
// read-only keys dropped, link targets rewritten to the new table ids. Creatable means Airtable's field-model
// page gives the type a write format; computed types (formula, rollup, lookup, count, ...) have none.
import type { ArchivedField } from "../archive/contents.ts";

/** Types the field model gives a write format for: the API can create these. */
export const CREATABLE_TYPES = new Set([
  "singleLineText",
  "email",
  "url",
  "multilineText",
  "phoneNumber",
  "richText",
  "number",
  "percent",
  "currency",
  "duration",
  "rating",
  "checkbox",
  "singleSelect",
  "multipleSelects",
  "date",
  "dateTime",
  "singleCollaborator",
  "multipleCollaborators",
  "multipleAttachments",
  "barcode",
  "multipleRecordLinks",
]);

/**
 * Types allowed as a table's first (primary) field. Airtable does not list them (UNCERTAIN); the UI refuses
 * links, attachments, checkboxes, multiple selects, collaborators and buttons, and we are stricter still
 * (no selects or ratings) so that a restore never fails on a create-table call.
 */
const NOT_PRIMARY = new Set([
  "rating",
  "checkbox",
  "singleSelect",
  "multipleSelects",
  "singleCollaborator",
  "multipleCollaborators",
  "multipleAttachments",
  "multipleRecordLinks",
]);
export const PRIMARY_TYPES = new Set([...CREATABLE_TYPES].filter((type) => !NOT_PRIMARY.has(type)));

/** Option keys the API accepts on create, per type; everything else (ids, read-only keys) is dropped. */
const WRITABLE_OPTION_KEYS: Record<string, string[]> = {
  number: ["precision"],
  percent: ["precision"],
  currency: ["precision", "symbol"],
  duration: ["durationFormat"],
  rating: ["icon", "color", "max"],
  checkbox: ["icon", "color"],
  date: ["dateFormat"],
  dateTime: ["dateFormat", "timeFormat", "timeZone"],
  multipleAttachments: ["isReversed"],
};

/** The create-field body for an archived field of a creatable, non-link type. */
export function createOptions(field: ArchivedField): Record<string, unknown> | undefined {
  const options = field.options ?? {};
  if (field.type === "singleSelect" || field.type === "multipleSelects") {
    const choices = Array.isArray(options.choices) ? (options.choices as { name?: unknown; color?: unknown }[]) : [];
    // Without choice ids: Airtable makes new ones; names and colours are what a person sees.
    return {
      choices: choices
        .filter((c) => typeof c.name === "string")
        .map((c) => ({ name: c.name, ...(typeof c.color === "string" ? { color: c.color } : {}) })),
    };
  }
  const keys = WRITABLE_OPTION_KEYS[field.type];
  if (!keys) return undefined;
  const picked: Record<string, unknown> = {};
  for (const key of keys) if (options[key] !== undefined) picked[key] = options[key];
  // The read format carries dateFormat.format as well; the write format takes the name alone reliably.
  return Object.keys(picked).length > 0 ? picked : undefined;
}

/** What a person needs to rebuild a field the API cannot create, in words. */
export function rebuildHint(field: ArchivedField, fieldName: (id: unknown) => string): string {
  const o = field.options ?? {};
  const result = (o.result as { type?: string } | undefined)?.type;
  const resultText = result ? `; result type ${result}` : "";
  switch (field.type) {
    case "formula":
      return `formula field: ${replaceRefs(String(o.formula ?? "(formula text not in the archive)"), (id) => fieldName(id).split(".").slice(1).join(".") || String(id))}${resultText}`;
    case "rollup":
      return `rollup of ${fieldName(o.fieldIdInLinkedTable)} through link ${fieldName(o.recordLinkFieldId)} (the aggregation formula is not exposed by the API)${resultText}`;
    case "multipleLookupValues":
    case "lookup":
      return `lookup of ${fieldName(o.fieldIdInLinkedTable)} through link ${fieldName(o.recordLinkFieldId)}${resultText}`;
    case "count":
      return `count of linked records in ${fieldName(o.recordLinkFieldId)}`;
    case "autoNumber":
      return "autonumber field (numbers restart at 1; the archived values are not restored)";
    case "createdTime":
    case "lastModifiedTime":
    case "createdBy":
    case "lastModifiedBy":
      return `${field.type} field (Airtable fills it in; the archived values are not restored)`;
    case "button":
      return "button field (label and action are not exposed by the API)";
    case "aiText":
      return `AI text field (prompt: ${JSON.stringify(o.prompt ?? null)})`;
    default:
      return `field of type ${field.type}, which the API cannot create`;
  }
}

// --- internal ---

function replaceRefs(formula: string, fieldName: (id: unknown) => string): string {
  return formula.replace(/\{(fld[A-Za-z0-9]{14})\}/g, (_, id: string) => `{${fieldName(id)}}`);
}
