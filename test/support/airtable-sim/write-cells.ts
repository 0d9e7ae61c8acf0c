// Writing: API cell values -> stored cells, validated per field type. parseFields has no side
// effects on the data (so a batch can be refused whole); commitFields applies a parsed write,
// including typecast's new select choices and linked records, and keeps inverse links in step.
import { apiError, invalidValue, unknownField } from "./http.ts";
import { isId } from "./ids.ts";
import {
  type Base,
  COMPUTED_TYPES,
  findField,
  findTable,
  isEmptyCell,
  linkOptions,
  type Row,
  registerAttachment,
  type SimState,
  type Table,
} from "./model.ts";
import type { FieldSchema } from "./types.ts";

export interface WriteContext {
  state: SimState;
  base: Base;
  table: Table;
  userId: string;
  typecast: boolean;
}

/** A link item not yet resolved: typecast text that matched no primary value creates a record. */
interface NewLinked {
  create: string;
}

/** field id -> value to store (undefined clears). */
export type ParsedFields = Map<string, unknown>;

export async function parseFields(ctx: WriteContext, fields: unknown): Promise<ParsedFields> {
  if (typeof fields !== "object" || fields === null || Array.isArray(fields))
    throw apiError(
      422,
      "INVALID_REQUEST_UNKNOWN",
      "Invalid request: parameter validation failed. Check your request data.",
    );
  const parsed: ParsedFields = new Map();
  for (const [key, value] of Object.entries(fields)) {
    const field = findField(ctx.table, key);
    if (!field) throw unknownField(key);
    if (COMPUTED_TYPES.has(field.type))
      throw invalidValue(`Field "${field.name}" cannot accept a value because the field is computed`);
    const stored = isEmptyCell(value) ? undefined : await parseCell(ctx, field, value);
    parsed.set(field.id, isEmptyCell(stored) ? undefined : stored);
  }
  return parsed;
}

/** Applies a parsed write. `replace` (PUT) clears every writable cell the write leaves out. */
export function commitFields(ctx: WriteContext, row: Row, parsed: ParsedFields, replace: boolean): void {
  const changes = new Map(parsed);
  if (replace) {
    for (const field of ctx.table.fields) {
      if (!COMPUTED_TYPES.has(field.type) && !changes.has(field.id)) changes.set(field.id, undefined);
    }
  }
  for (const [fieldId, value] of changes) {
    const field = ctx.table.fields.find((f) => f.id === fieldId)!;
    let next = value;
    if (field.type === "singleSelect" || field.type === "multipleSelects") addMissingChoices(ctx, field, value);
    if (field.type === "multipleRecordLinks") {
      next = resolveNewLinked(ctx, field, value as (string | NewLinked)[] | undefined);
      setLinks(ctx.base, ctx.table, field, row, (next as string[] | undefined) ?? []);
      continue;
    }
    if (next === undefined) row.cells.delete(fieldId);
    else row.cells.set(fieldId, next);
  }
  touch(ctx, row);
}

/** Replaces a row's links in one field and mirrors the change in the inverse field. */
export function setLinks(base: Base, _table: Table, field: FieldSchema, row: Row, next: string[]): void {
  const before = (row.cells.get(field.id) as string[] | undefined) ?? [];
  if (next.length === 0) row.cells.delete(field.id);
  else row.cells.set(field.id, next);
  const { linkedTableId, inverseLinkFieldId } = linkOptions(field);
  const other = findTable(base, linkedTableId);
  if (!other || !inverseLinkFieldId) return;
  for (const id of before.filter((id) => !next.includes(id))) {
    const target = other.rows.get(id);
    const back = ((target?.cells.get(inverseLinkFieldId) as string[] | undefined) ?? []).filter((r) => r !== row.id);
    if (target && back.length === 0) target.cells.delete(inverseLinkFieldId);
    else target?.cells.set(inverseLinkFieldId, back);
  }
  for (const id of next.filter((id) => !before.includes(id))) {
    const target = other.rows.get(id);
    const back = (target?.cells.get(inverseLinkFieldId) as string[] | undefined) ?? [];
    if (target && !back.includes(row.id)) target.cells.set(inverseLinkFieldId, [...back, row.id]);
  }
}

/** Sets the bookkeeping cells of a new row: autoNumber and createdBy. */
export function stampNewRow(ctx: WriteContext, row: Row): void {
  for (const field of ctx.table.fields) {
    if (field.type === "createdBy") row.cells.set(field.id, ctx.userId);
    if (field.type === "autoNumber") {
      let max = 0;
      for (const other of ctx.table.rows.values()) max = Math.max(max, Number(other.cells.get(field.id) ?? 0));
      row.cells.set(field.id, max + 1);
    }
  }
}

// --- internal ---

function touch(ctx: WriteContext, row: Row): void {
  for (const field of ctx.table.fields) {
    if (field.type === "lastModifiedTime") row.cells.set(field.id, new Date().toISOString());
    if (field.type === "lastModifiedBy") row.cells.set(field.id, ctx.userId);
  }
}

async function parseCell(ctx: WriteContext, field: FieldSchema, value: unknown): Promise<unknown> {
  const bad = () => invalidValue(`Cannot parse value ${JSON.stringify(value)} for field ${field.name}`);
  const { typecast } = ctx;
  switch (field.type) {
    case "singleLineText":
    case "multilineText":
    case "richText":
    case "email":
    case "url":
    case "phoneNumber":
      if (typeof value === "string") return value;
      if (typecast && (typeof value === "number" || typeof value === "boolean")) return String(value);
      throw bad();
    case "number":
    case "currency":
    case "percent":
    case "duration":
      return toNumber(value, typecast) ?? badThrow(bad);
    case "rating": {
      const n = toNumber(value, typecast);
      const max = Number((field.options as { max?: number } | undefined)?.max ?? 5);
      if (n === undefined || !Number.isInteger(n) || n < 0 || n > max) throw bad();
      return n === 0 ? undefined : n;
    }
    case "checkbox":
      if (typeof value === "boolean") return value;
      if (typecast && typeof value === "string")
        return ["true", "1", "yes", "checked", "x"].includes(value.trim().toLowerCase());
      throw bad();
    case "date":
      return parseDate(value, false) ?? badThrow(bad);
    case "dateTime":
      // Offset-less strings are read as UTC (Airtable uses the field's time zone; UNCERTAIN detail).
      return parseDate(value, true) ?? badThrow(bad);
    case "singleSelect":
      if (typeof value !== "string") throw bad();
      return selectName(ctx, field, value);
    case "multipleSelects": {
      const items =
        typecast && typeof value === "string"
          ? value
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean)
          : value;
      if (!Array.isArray(items) || !items.every((v) => typeof v === "string")) throw bad();
      return [...new Set(items.map((v) => selectName(ctx, field, v)))];
    }
    case "singleCollaborator":
      return collaborator(ctx, value) ?? badThrow(bad);
    case "multipleCollaborators":
      if (!Array.isArray(value)) throw bad();
      return value.map((v) => collaborator(ctx, v) ?? badThrow(bad));
    case "barcode":
      if (typecast && typeof value === "string") return { text: value };
      if (typeof value !== "object" || value === null || typeof (value as { text?: unknown }).text !== "string")
        throw bad();
      return value;
    case "multipleRecordLinks":
      return parseLinks(ctx, field, value, bad);
    case "multipleAttachments":
      return parseAttachments(ctx, value, bad);
    default:
      return value; // a type the sim does not know: stored as given
  }
}

function badThrow(bad: () => Error): never {
  throw bad();
}

function toNumber(value: unknown, typecast: boolean): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typecast && typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

function parseDate(value: unknown, withTime: boolean): string | undefined {
  // Epoch milliseconds were accepted for dateTime in a 2021 capture (still accepted: UNCERTAIN).
  if (withTime && typeof value === "number" && Number.isFinite(value)) return new Date(value).toISOString();
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const time = Date.parse(/T.*(Z|[+-]\d\d:?\d\d)$/.test(value) || value.length === 10 ? value : `${value}Z`);
  if (Number.isNaN(time)) return undefined;
  const iso = new Date(time).toISOString();
  return withTime ? iso : value.slice(0, 10);
}

function selectName(ctx: WriteContext, field: FieldSchema, value: string): string {
  const choices = (field.options as { choices?: { id: string; name: string }[] } | undefined)?.choices ?? [];
  const match = choices.find((c) => c.name === value) ?? choices.find((c) => c.id === value);
  if (match) return match.name;
  if (!ctx.typecast)
    throw apiError(
      422,
      "INVALID_MULTIPLE_CHOICE_OPTIONS",
      `Insufficient permissions to create new select option ""${value}""`,
    );
  return value;
}

function addMissingChoices(ctx: WriteContext, field: FieldSchema, value: unknown): void {
  const names = value === undefined ? [] : Array.isArray(value) ? (value as string[]) : [value as string];
  field.options ??= {};
  const options = field.options as { choices?: { id: string; name: string; color?: string }[] };
  options.choices ??= [];
  const choices = options.choices;
  for (const name of names) {
    if (!choices.some((c) => c.name === name)) choices.push({ id: ctx.state.newId("sel"), name, color: "grayLight2" });
  }
}

function collaborator(ctx: WriteContext, value: unknown): string | undefined {
  // Bare id strings for collaborators are accepted (whether Airtable does is UNCERTAIN).
  const ref =
    typeof value === "string"
      ? value.includes("@")
        ? { email: value }
        : { id: value }
      : (value as { id?: string; email?: string } | null);
  if (!ref || typeof ref !== "object") return undefined;
  for (const user of ctx.state.users.values()) {
    if ((ref.id && user.id === ref.id) || (ref.email && user.email.toLowerCase() === ref.email.toLowerCase()))
      return user.id;
  }
  return undefined; // not a collaborator the sim knows: refused
}

function parseLinks(ctx: WriteContext, field: FieldSchema, value: unknown, bad: () => Error): (string | NewLinked)[] {
  const other = findTable(ctx.base, linkOptions(field).linkedTableId);
  const items = ctx.typecast && typeof value === "string" ? [value] : value;
  if (!other || !Array.isArray(items)) throw bad();
  const primary = other.fields.find((f) => f.id === other.primaryFieldId);
  const result: (string | NewLinked)[] = [];
  for (const item of items) {
    if (isId("rec", item)) {
      if (!other.rows.has(item))
        throw invalidValue(`Record ID ${item} does not exist in table "${other.name}" (field ${field.name})`);
      result.push(item);
    } else if (ctx.typecast && typeof item === "string" && primary) {
      // Airtable staff: "we grab the first thing we match, if it exists, creating a new one otherwise".
      const match = [...other.rows.values()].find((r) => String(r.cells.get(primary.id) ?? "") === item);
      result.push(match ? match.id : { create: item });
    } else {
      throw bad();
    }
  }
  return result;
}

function resolveNewLinked(
  ctx: WriteContext,
  field: FieldSchema,
  value: (string | NewLinked)[] | undefined,
): string[] | undefined {
  if (!value) return undefined;
  const other = findTable(ctx.base, linkOptions(field).linkedTableId)!;
  return value.map((item) => {
    if (typeof item === "string") return item;
    const row: Row = {
      id: ctx.state.newId("rec"),
      createdTime: new Date().toISOString(),
      cells: new Map([[other.primaryFieldId, item.create]]),
      comments: [],
    };
    other.rows.set(row.id, row);
    return row.id;
  });
}

/**
 * `[{id}]` keeps an attachment, `[{url, filename?}]` adds one. Real Airtable downloads URLs
 * asynchronously and drops failures silently; the sim fetches synchronously (deterministic tests)
 * and also drops an attachment whose URL cannot be fetched.
 */
async function parseAttachments(ctx: WriteContext, value: unknown, bad: () => Error): Promise<string[]> {
  if (!Array.isArray(value)) throw bad();
  const ids: string[] = [];
  for (const item of value as { id?: unknown; url?: unknown; filename?: unknown }[]) {
    if (typeof item !== "object" || item === null) throw bad();
    if (typeof item.id === "string") {
      if (!ctx.state.attachments.has(item.id)) throw bad();
      ids.push(item.id);
    } else if (typeof item.url === "string") {
      const res = await fetch(item.url).catch(() => undefined);
      if (!res?.ok) continue;
      const data = new Uint8Array(await res.arrayBuffer());
      const filename =
        typeof item.filename === "string"
          ? item.filename
          : decodeURIComponent(new URL(item.url).pathname.split("/").pop() || "a.bin");
      const type = (res.headers.get("content-type") ?? "application/octet-stream").split(";")[0]!;
      ids.push(registerAttachment(ctx.state, { filename, type, data }));
    } else {
      throw bad();
    }
  }
  return ids;
}
