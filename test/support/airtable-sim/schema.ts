// Meta API building blocks: turning create-table/create-field requests into fields (with
// defaults for options and the inverse of a link), and tables into their Meta API shape.
import { apiError, invalidRequest } from "./http.ts";
import { type Base, COMPUTED_TYPES, findTable, type SimState, type Table } from "./model.ts";
import type { FieldSchema } from "./types.ts";

/** Types the field model gives a write format for, i.e. that the API can create. */
const CREATABLE_TYPES = new Set([
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

/** "Supported primary field types" are not listed anywhere we could read (UNCERTAIN): our choice. */
const PRIMARY_TYPES = new Set([
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
  "date",
  "dateTime",
  "barcode",
]);

const DEFAULT_OPTIONS: Record<string, Record<string, unknown>> = {
  number: { precision: 0 },
  percent: { precision: 0 },
  currency: { precision: 2, symbol: "$" },
  duration: { durationFormat: "h:mm" },
  rating: { icon: "star", color: "yellowBright", max: 5 },
  checkbox: { icon: "check", color: "greenBright" },
  date: { dateFormat: { name: "iso", format: "YYYY-MM-DD" } },
  dateTime: {
    dateFormat: { name: "iso", format: "YYYY-MM-DD" },
    timeFormat: { name: "24hour", format: "HH:mm" },
    timeZone: "utc",
  },
  multipleAttachments: { isReversed: false },
};

export interface FieldInput {
  name?: unknown;
  type?: unknown;
  description?: unknown;
  options?: unknown;
}

/**
 * Validates a field definition and returns the field. For a link to another table it also
 * returns the inverse field to add there (the caller adds it once the whole request is valid).
 */
export function buildField(
  state: SimState,
  base: Base,
  table: Pick<Table, "id" | "name" | "fields">,
  input: FieldInput,
): { field: FieldSchema; inverse?: { table: Table; field: FieldSchema } } {
  const { name, type, description } = input;
  if (typeof name !== "string" || name.trim() === "")
    throw apiError(422, "DUPLICATE_OR_EMPTY_FIELD_NAME", "Field name cannot be empty");
  if (table.fields.some((f) => f.name.toLowerCase() === name.toLowerCase())) {
    throw apiError(
      422,
      "DUPLICATE_OR_EMPTY_FIELD_NAME",
      `Field name "${name}" is already used in this table (names are case-insensitive)`,
    );
  }
  if (typeof type !== "string") throw invalidRequest();
  if (!CREATABLE_TYPES.has(type)) {
    // The error type for a non-creatable type is not documented (UNCERTAIN): ours.
    throw apiError(
      422,
      "INVALID_FIELD_TYPE",
      COMPUTED_TYPES.has(type)
        ? `Field type "${type}" is computed and cannot be created through the API`
        : `Unknown field type "${type}"`,
    );
  }
  const given = (typeof input.options === "object" && input.options !== null ? input.options : {}) as Record<
    string,
    unknown
  >;
  const field: FieldSchema = { id: state.newId("fld"), name, type };
  if (typeof description === "string" && description !== "") field.description = description;

  if (type === "singleSelect" || type === "multipleSelects") {
    const choices = Array.isArray(given.choices) ? given.choices : [];
    field.options = {
      choices: choices.map((c: { name?: unknown; color?: unknown }) => {
        if (typeof c?.name !== "string" || c.name === "") throw invalidRequest("Select choices need a name");
        return { id: state.newId("sel"), name: c.name, color: typeof c.color === "string" ? c.color : "blueLight2" };
      }),
    };
    return { field };
  }
  if (type === "multipleRecordLinks") return buildLink(state, base, table, field, given);
  const defaults = DEFAULT_OPTIONS[type];
  if (defaults) field.options = { ...defaults, ...given };
  return { field };
}

export function assertPrimaryType(field: FieldSchema): void {
  if (!PRIMARY_TYPES.has(field.type)) throw invalidRequest(`Field type "${field.type}" cannot be the primary field`);
}

/** A table as GET /v0/meta/bases/{id}/tables returns it. */
export function tableSchema(table: Table, includeVisibleFieldIds = false): Record<string, unknown> {
  return {
    id: table.id,
    name: table.name,
    ...(table.description ? { description: table.description } : {}),
    primaryFieldId: table.primaryFieldId,
    fields: structuredClone(table.fields),
    views: table.views.map((v) =>
      includeVisibleFieldIds && v.type === "grid"
        ? { ...structuredClone(v), visibleFieldIds: v.visibleFieldIds ?? table.fields.map((f) => f.id) }
        : { id: v.id, name: v.name, type: v.type },
    ),
  };
}

// --- internal ---

function buildLink(
  state: SimState,
  base: Base,
  table: Pick<Table, "id" | "name" | "fields">,
  field: FieldSchema,
  given: Record<string, unknown>,
) {
  const linked = typeof given.linkedTableId === "string" ? findTable(base, given.linkedTableId) : undefined;
  const selfLink = given.linkedTableId === table.id;
  if (!linked && !selfLink)
    throw invalidRequest(`linkedTableId ${String(given.linkedTableId)} is not a table of this base`);
  const prefersSingleRecordLink = given.prefersSingleRecordLink === true;
  field.options = { linkedTableId: given.linkedTableId, isReversed: false, prefersSingleRecordLink };
  if (typeof given.viewIdForRecordSelection === "string")
    field.options.viewIdForRecordSelection = given.viewIdForRecordSelection;
  // A link to its own table gets no inverse field (as with self-links made in the UI).
  if (selfLink || !linked) return { field };
  let name = table.name;
  for (let i = 2; linked.fields.some((f) => f.name.toLowerCase() === name.toLowerCase()); i++)
    name = `${table.name} ${i}`;
  const inverse: FieldSchema = {
    id: state.newId("fld"),
    name,
    type: "multipleRecordLinks",
    options: {
      linkedTableId: table.id,
      isReversed: false,
      prefersSingleRecordLink: false,
      inverseLinkFieldId: field.id,
    },
  };
  field.options.inverseLinkFieldId = inverse.id;
  return { field, inverse: { table: linked, field: inverse } };
}
