// Reading from Airtable: bases, a base's schema, record pages, single records and comments.
// Attachment files are fetched with client.download (outside the rate limit). Each function spells out
// one endpoint's request in full (path, schema, scope, the words errors use): alike on purpose.
import type { AirtableClient } from "./client.ts";
import {
  type AirtableBase,
  type AirtableComment,
  type AirtableRecord,
  type AirtableTables,
  CommentsPageSchema,
  ListBasesSchema,
  RecordPageSchema,
  RecordSchema,
  TablesResponseSchema,
} from "./schemas.ts";

export interface ListRecordsOptions {
  /** 1..100; default 100. */
  pageSize?: number;
  /** Only these fields (names or ids). */
  fields?: string[];
  /** `["commentCount"]` adds each record's comment count. */
  recordMetadata?: "commentCount"[];
  returnFieldsByFieldId?: boolean;
  view?: string;
  /** Only records for which this formula is true, e.g. `OR(RECORD_ID()='rec…',RECORD_ID()='rec…')`. */
  filterByFormula?: string;
  signal?: AbortSignal;
}

// Airtable rejects URLs over 16,000 characters; past this length list through POST …/listRecords.
const MAX_GET_URL = 15_000;
const MAX_PAGES = 1_000_000; // a safety bound: 100 million records

/** Every base the token can see (follows `offset`). */
export async function listBases(
  client: AirtableClient,
  options: { signal?: AbortSignal } = {},
): Promise<AirtableBase[]> {
  return allPages(async (offset) => {
    const res = await client.request({
      method: "GET",
      path: "/v0/meta/bases",
      query: new URLSearchParams(offset ? { offset } : {}),
      baseId: null,
      schema: ListBasesSchema,
      kind: "schema",
      what: "the list of bases",
      scope: "schema.bases:read",
      signal: options.signal,
    });
    return { items: res.bases, offset: res.offset };
  });
}

/**
 * The Meta API's tables response for a base, as returned (unknown keys and field types kept), with
 * `visibleFieldIds` on grid views unless `includeVisibleFieldIds: false`.
 */
export async function getBaseSchema(
  client: AirtableClient,
  baseId: string,
  options: { includeVisibleFieldIds?: boolean; signal?: AbortSignal } = {},
): Promise<AirtableTables> {
  const query = new URLSearchParams(options.includeVisibleFieldIds === false ? {} : { include: "visibleFieldIds" });
  return client.request({
    method: "GET",
    path: `/v0/meta/bases/${enc(baseId)}/tables`,
    query,
    baseId,
    schema: TablesResponseSchema,
    kind: "schema",
    what: `the schema of base ${baseId}`,
    scope: "schema.bases:read",
    signal: options.signal,
  });
}

/**
 * Pages of a table's records, one request per page, strictly in sequence. When Airtable says the
 * listing's iterator expired this throws IteratorExpiredError and stops: the caller has consumed
 * earlier pages, so it must restart the table itself (a fresh call starts from the first page).
 */
export async function* listRecordPages(
  client: AirtableClient,
  baseId: string,
  table: string,
  options: ListRecordsOptions = {},
): AsyncGenerator<AirtableRecord[]> {
  const what = `table ${JSON.stringify(table)} of base ${baseId}`;
  const path = `/v0/${enc(baseId)}/${enc(table)}`;
  let offset: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = listQuery(options, offset);
    const viaPost = path.length + String(query).length > MAX_GET_URL;
    const res = await client.request({
      ...(viaPost
        ? { method: "POST" as const, path: `${path}/listRecords`, body: listBody(options, offset), idempotent: true }
        : { method: "GET" as const, path, query }),
      baseId,
      schema: RecordPageSchema,
      kind: "read",
      what,
      scope: "data.records:read",
      signal: options.signal,
    });
    yield res.records;
    offset = res.offset;
    if (!offset) return;
  }
}

/** One record (e.g. to get fresh attachment URLs after one expired). */
export async function getRecord(
  client: AirtableClient,
  baseId: string,
  table: string,
  recordId: string,
  options: { returnFieldsByFieldId?: boolean; signal?: AbortSignal } = {},
): Promise<AirtableRecord> {
  const query = new URLSearchParams(options.returnFieldsByFieldId ? { returnFieldsByFieldId: "true" } : {});
  return client.request({
    method: "GET",
    path: `/v0/${enc(baseId)}/${enc(table)}/${enc(recordId)}`,
    query,
    baseId,
    schema: RecordSchema,
    kind: "read",
    what: `record ${recordId} of table ${JSON.stringify(table)} in base ${baseId}`,
    scope: "data.records:read",
    signal: options.signal,
  });
}

/** All comments of a record, every page, in Airtable's order (newest first). */
export async function listComments(
  client: AirtableClient,
  baseId: string,
  table: string,
  recordId: string,
  options: { signal?: AbortSignal } = {},
): Promise<AirtableComment[]> {
  return allPages(async (offset) => {
    const res = await client.request({
      method: "GET",
      path: `/v0/${enc(baseId)}/${enc(table)}/${enc(recordId)}/comments`,
      query: new URLSearchParams({ pageSize: "100", ...(offset ? { offset } : {}) }),
      baseId,
      schema: CommentsPageSchema,
      kind: "comments",
      what: `the comments of record ${recordId} in base ${baseId}`,
      scope: "data.recordComments:read",
      signal: options.signal,
    });
    return { items: res.comments, offset: res.offset };
  });
}

/** Percent-encodes a path segment; table names may hold spaces, slashes and anything else. */
export function enc(segment: string): string {
  return encodeURIComponent(segment);
}

// --- internal ---

/** Every item of an `offset`-paged listing that is read whole, one request per page, in order. */
async function allPages<T>(
  page: (offset: string | undefined) => Promise<{ items: T[]; offset?: string | null }>,
): Promise<T[]> {
  const items: T[] = [];
  let offset: string | undefined;
  for (let n = 0; n < MAX_PAGES; n++) {
    const res = await page(offset);
    items.push(...res.items);
    offset = res.offset ?? undefined;
    if (!offset) break;
  }
  return items;
}

function listQuery(options: ListRecordsOptions, offset: string | undefined): URLSearchParams {
  const query = new URLSearchParams();
  query.set("pageSize", String(options.pageSize ?? 100));
  for (const field of options.fields ?? []) query.append("fields[]", field);
  for (const meta of options.recordMetadata ?? []) query.append("recordMetadata[]", meta);
  if (options.returnFieldsByFieldId) query.set("returnFieldsByFieldId", "true");
  if (options.view) query.set("view", options.view);
  if (options.filterByFormula) query.set("filterByFormula", options.filterByFormula);
  if (offset) query.set("offset", offset); // resent with every original parameter, as Airtable's clients do
  return query;
}

function listBody(options: ListRecordsOptions, offset: string | undefined): Record<string, unknown> {
  return {
    pageSize: options.pageSize ?? 100,
    ...(options.fields ? { fields: options.fields } : {}),
    ...(options.recordMetadata ? { recordMetadata: options.recordMetadata } : {}),
    ...(options.returnFieldsByFieldId ? { returnFieldsByFieldId: true } : {}),
    ...(options.filterByFormula ? { filterByFormula: options.filterByFormula } : {}),
    ...(options.view ? { view: options.view } : {}),
    ...(offset ? { offset } : {}),
  };
}
