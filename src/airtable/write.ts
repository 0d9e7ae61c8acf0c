// Writing to Airtable (restore): bases, tables, fields, records and attachment uploads.
// POST creates are not idempotent: the client retries them only after a 429 or Airtable's own 503
// RETRIABLE_ERROR (nothing was written) and throws AmbiguousWriteError on any other 5xx (a proxy's 503 page,
// 502, 504) or a lost answer; the caller reads back and reconciles. Each function spells out one endpoint's request
// in full (path, schema, scope, the words errors use): alike on purpose.
import type { AirtableClient } from "./client.ts";
import { checkAirtableId } from "./ids.ts";
import { enc } from "./read.ts";
import {
  type AirtableComment,
  type AirtableCreateBaseResponse,
  type AirtableField,
  type AirtableRecord,
  type AirtableTable,
  type AirtableUploadResponse,
  CommentSchema,
  CreateBaseResponseSchema,
  FieldSchema,
  RecordsResponseSchema,
  TableSchema,
  UploadResponseSchema,
} from "./schemas.ts";

/** A field as the Meta API takes it on create: `{ name, type, description?, options? }`. */
export interface NewField {
  name: string;
  type: string;
  description?: string;
  options?: Record<string, unknown>;
}

export interface NewTable {
  name: string;
  description?: string;
  /** The first one becomes the primary field. */
  fields: NewField[];
}

export interface WriteOptions {
  typecast?: boolean;
  returnFieldsByFieldId?: boolean;
  signal?: AbortSignal;
}

/** Airtable's cap on records per create or update request. */
export const MAX_RECORDS_PER_REQUEST = 10;

export async function createBase(
  client: AirtableClient,
  base: { name: string; workspaceId: string; tables: NewTable[] },
  options: { signal?: AbortSignal } = {},
): Promise<AirtableCreateBaseResponse> {
  const created = await client.request({
    method: "POST",
    path: "/v0/meta/bases",
    body: base,
    baseId: null,
    schema: CreateBaseResponseSchema,
    kind: "schema",
    what: `creating base ${JSON.stringify(base.name)} in workspace ${base.workspaceId}`,
    scope: "schema.bases:write",
    signal: options.signal,
  });
  checkAirtableId("base", created.id, "the answer to creating a base"); // it names the restore's journal file
  return created;
}

export async function createTable(
  client: AirtableClient,
  baseId: string,
  table: NewTable,
  options: { signal?: AbortSignal } = {},
): Promise<AirtableTable> {
  return client.request({
    method: "POST",
    path: `/v0/meta/bases/${enc(baseId)}/tables`,
    body: table,
    baseId,
    schema: TableSchema,
    kind: "schema",
    what: `creating table ${JSON.stringify(table.name)} in base ${baseId}`,
    scope: "schema.bases:write",
    signal: options.signal,
  });
}

export async function createField(
  client: AirtableClient,
  baseId: string,
  tableId: string,
  field: NewField,
  options: { signal?: AbortSignal } = {},
): Promise<AirtableField> {
  return client.request({
    method: "POST",
    path: `/v0/meta/bases/${enc(baseId)}/tables/${enc(tableId)}/fields`,
    body: field,
    baseId,
    schema: FieldSchema,
    kind: "schema",
    what: `creating field ${JSON.stringify(field.name)} in table ${tableId} of base ${baseId}`,
    scope: "schema.bases:write",
    signal: options.signal,
  });
}

/** PATCH name, description or options (the type cannot change). Idempotent, so retried freely. */
export async function updateField(
  client: AirtableClient,
  baseId: string,
  tableId: string,
  fieldId: string,
  patch: { name?: string; description?: string; options?: Record<string, unknown> },
  options: { signal?: AbortSignal } = {},
): Promise<AirtableField> {
  return client.request({
    method: "PATCH",
    path: `/v0/meta/bases/${enc(baseId)}/tables/${enc(tableId)}/fields/${enc(fieldId)}`,
    body: patch,
    baseId,
    schema: FieldSchema,
    kind: "schema",
    what: `updating field ${fieldId} in table ${tableId} of base ${baseId}`,
    scope: "schema.bases:write",
    signal: options.signal,
  });
}

/** Creates up to 10 records in one all-or-nothing request; the answer keeps the request's order. */
export function createRecords(
  client: AirtableClient,
  baseId: string,
  table: string,
  records: { fields: Record<string, unknown> }[],
  options: WriteOptions = {},
): Promise<AirtableRecord[]> {
  return sendRecords(client, "POST", baseId, table, records, options);
}

/** PATCHes up to 10 records (only the given fields change). Idempotent, so retried freely. */
export function updateRecords(
  client: AirtableClient,
  baseId: string,
  table: string,
  records: { id: string; fields: Record<string, unknown> }[],
  options: WriteOptions = {},
): Promise<AirtableRecord[]> {
  return sendRecords(client, "PATCH", baseId, table, records, options);
}

/**
 * Appends one file (≤ 5 MB) to an attachment cell through the content host. Not idempotent (a resend
 * would attach the file twice), so a lost answer throws AmbiguousWriteError.
 */
export async function uploadAttachment(
  client: AirtableClient,
  baseId: string,
  recordId: string,
  fieldIdOrName: string,
  file: { contentType: string; filename: string; bytes: Uint8Array },
  options: { signal?: AbortSignal } = {},
): Promise<AirtableUploadResponse> {
  return client.request({
    method: "POST",
    host: "content",
    path: `/v0/${enc(baseId)}/${enc(recordId)}/${enc(fieldIdOrName)}/uploadAttachment`,
    body: { contentType: file.contentType, filename: file.filename, file: Buffer.from(file.bytes).toString("base64") },
    baseId,
    schema: UploadResponseSchema,
    kind: "upload",
    what: `uploading ${JSON.stringify(file.filename)} to record ${recordId} of base ${baseId}`,
    scope: "data.records:write",
    signal: options.signal,
  });
}

/** Adds a comment to a record, as the token's user. Not idempotent: a lost answer throws AmbiguousWriteError. */
export async function createComment(
  client: AirtableClient,
  baseId: string,
  table: string,
  recordId: string,
  comment: { text: string; parentCommentId?: string },
  options: { signal?: AbortSignal } = {},
): Promise<AirtableComment> {
  return client.request({
    method: "POST",
    path: `/v0/${enc(baseId)}/${enc(table)}/${enc(recordId)}/comments`,
    body: comment,
    baseId,
    schema: CommentSchema,
    kind: "comments",
    what: `adding a comment to record ${recordId} in base ${baseId}`,
    scope: "data.recordComments:write",
    signal: options.signal,
  });
}

// --- internal ---

/** One create (POST) or update (PATCH) of up to 10 records; the client retries POSTs only when that is safe. */
async function sendRecords(
  client: AirtableClient,
  method: "POST" | "PATCH",
  baseId: string,
  table: string,
  records: { id?: string; fields: Record<string, unknown> }[],
  options: WriteOptions,
): Promise<AirtableRecord[]> {
  checkBatch(records.length);
  const doing = method === "POST" ? "creating" : "updating";
  const res = await client.request({
    method,
    path: `/v0/${enc(baseId)}/${enc(table)}`,
    body: recordsBody(records, options),
    baseId,
    schema: RecordsResponseSchema,
    kind: method === "POST" ? "create" : "update",
    what: `${doing} ${records.length} records in table ${JSON.stringify(table)} of base ${baseId}`,
    scope: "data.records:write",
    signal: options.signal,
  });
  return res.records;
}

function checkBatch(count: number): void {
  if (count < 1 || count > MAX_RECORDS_PER_REQUEST) {
    throw new RangeError(`Airtable takes 1 to ${MAX_RECORDS_PER_REQUEST} records per request, got ${count}`);
  }
}

function recordsBody(records: object[], options: WriteOptions): Record<string, unknown> {
  return {
    records,
    ...(options.typecast ? { typecast: true } : {}),
    ...(options.returnFieldsByFieldId ? { returnFieldsByFieldId: true } : {}),
  };
}
