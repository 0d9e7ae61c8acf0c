// Reading records: list (GET with query string, or POST …/listRecords with a JSON body), get one
// record, and list a record's comments. Offsets are server-side iterators that expire.
import { renderCell, renderRecord } from "./cells.ts";
import { type Iterator, type RouteContext, renderContext, type SimCore } from "./core.ts";
import { apiError, forbidden, invalidRequest, iteratorExpired, json, readJson, unknownField } from "./http.ts";
import { type Base, findField, findTable, type Table } from "./model.ts";

interface ListParams {
  pageSize: number;
  maxRecords?: number;
  offset?: string;
  view?: string;
  fields?: string[];
  sort: { field: string; direction: string }[];
  byId: boolean;
  commentCount: boolean;
  filterByFormula?: string;
  cellFormat?: string;
}

export async function listRecords(ctx: RouteContext, base: Base): Promise<Response> {
  const table = tableOf(base, ctx.params.table!);
  const params =
    ctx.req.method === "POST" ? paramsFromBody(await readJson(ctx.req)) : paramsFromQuery(ctx.url.searchParams);
  const only = fieldSet(table, params.fields);
  const iterator = params.offset ? resume(ctx.core, table, params.offset) : start(ctx.core, base, table, params);
  const position = params.offset ? iterator.recordIds.indexOf(params.offset.split("/")[1] ?? "") : 0;
  if (position < 0) throw iteratorExpired();
  const ids = iterator.recordIds.slice(position, position + params.pageSize);
  const render = renderContext(ctx.core, base);
  const records = ids.flatMap((id) => {
    const row = table.rows.get(id);
    return row
      ? [renderRecord(render, table, row, { byId: params.byId, only, commentCount: params.commentCount })]
      : [];
  });
  const next = iterator.recordIds[position + params.pageSize];
  return json({ records, ...(next ? { offset: `${iterator.id}/${next}` } : {}) });
}

export async function getRecord(ctx: RouteContext, base: Base): Promise<Response> {
  const table = tableOf(base, ctx.params.table!);
  const row = table.rows.get(ctx.params.recordId!);
  // A missing record: legacy keys got 404 MODEL_ID_NOT_FOUND, PAT-era reports say 403 (UNCERTAIN); we send 403.
  if (!row) throw forbidden();
  const byId = truthy(ctx.url.searchParams.get("returnFieldsByFieldId"));
  return json(renderRecord(renderContext(ctx.core, base), table, row, { byId }));
}

/** GET …/{recordId}/comments: newest first, pageSize ≤ 100, offset = id of the next comment. */
export async function listComments(ctx: RouteContext, base: Base): Promise<Response> {
  const table = tableOf(base, ctx.params.table!);
  const row = table.rows.get(ctx.params.recordId!);
  if (!row) throw forbidden();
  const pageSize = intParam(ctx.url.searchParams.get("pageSize") ?? undefined, 100);
  const newestFirst = [...row.comments].reverse();
  const offset = ctx.url.searchParams.get("offset");
  const start = offset ? newestFirst.findIndex((c) => c.id === offset) : 0;
  if (start < 0) throw invalidRequest("Unknown comments offset");
  const next = newestFirst[start + pageSize];
  return json({
    comments: structuredClone(newestFirst.slice(start, start + pageSize)),
    ...(next ? { offset: next.id } : {}),
  });
}

/** Table by id or name; an unknown table is a 403 in the PAT era (UNCERTAIN: legacy keys got 404 TABLE_NOT_FOUND). */
export function tableOf(base: Base, idOrName: string): Table {
  const table = findTable(base, idOrName);
  if (!table) throw forbidden();
  return table;
}

// --- internal ---

function paramsFromQuery(q: URLSearchParams): ListParams {
  const sort: ListParams["sort"] = [];
  for (const [key, value] of q) {
    const m = /^sort\[(\d+)\]\[(field|direction)\]$/.exec(key);
    if (!m) continue;
    const entry = sort[Number(m[1])] ?? { field: "", direction: "asc" };
    sort[Number(m[1])] = entry;
    entry[m[2] as "field" | "direction"] = value;
  }
  const fields = [...q.getAll("fields[]"), ...q.getAll("fields")];
  const metadata = [...q.getAll("recordMetadata[]"), ...q.getAll("recordMetadata")];
  return {
    pageSize: intParam(q.get("pageSize") ?? undefined, 100),
    maxRecords: q.has("maxRecords")
      ? intParam(q.get("maxRecords")!, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)
      : undefined,
    offset: q.get("offset") ?? undefined,
    view: q.get("view") ?? undefined,
    fields: fields.length > 0 ? fields : undefined,
    sort: sort.filter(Boolean),
    byId: truthy(q.get("returnFieldsByFieldId")),
    commentCount: metadata.includes("commentCount"),
    filterByFormula: q.get("filterByFormula") ?? undefined,
    cellFormat: q.get("cellFormat") ?? undefined,
  };
}

function paramsFromBody(b: Record<string, unknown>): ListParams {
  const strings = (v: unknown) =>
    Array.isArray(v) && v.every((s) => typeof s === "string")
      ? (v as string[])
      : v === undefined
        ? undefined
        : badParam();
  const optional = (v: unknown) => (v === undefined || v === null ? undefined : typeof v === "string" ? v : badParam());
  return {
    pageSize: intParam(b.pageSize, 100),
    maxRecords:
      b.maxRecords === undefined ? undefined : intParam(b.maxRecords, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    offset: optional(b.offset),
    view: optional(b.view),
    fields: strings(b.fields),
    sort: Array.isArray(b.sort)
      ? (b.sort as ListParams["sort"]).map((s) => ({ field: s.field, direction: s.direction ?? "asc" }))
      : [],
    byId: b.returnFieldsByFieldId === true,
    commentCount: strings(b.recordMetadata)?.includes("commentCount") ?? false,
    filterByFormula: optional(b.filterByFormula),
    cellFormat: optional(b.cellFormat),
  };
}

/**
 * An integer parameter in 1..max. pageSize > 100 gets a 422: whether Airtable rejects or clamps
 * is UNCERTAIN; rejecting makes a client bug visible.
 */
function intParam(raw: unknown, fallback: number, max = 100): number {
  if (raw === undefined || raw === null || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) badParam();
  return n;
}

function badParam(): never {
  throw invalidRequest();
}

function truthy(value: string | null): boolean {
  return value === "true" || value === "1";
}

function fieldSet(table: Table, names: string[] | undefined): Set<string> | undefined {
  if (!names) return undefined;
  const ids = new Set<string>();
  for (const name of names) {
    const field = findField(table, name);
    if (!field) throw unknownField(name);
    ids.add(field.id);
  }
  return ids;
}

function start(core: SimCore, base: Base, table: Table, params: ListParams): Iterator {
  const only = params.filterByFormula === undefined ? undefined : recordIdFilter(params.filterByFormula);
  if (params.cellFormat && params.cellFormat !== "json") throw invalidRequest("cellFormat=string is not simulated");
  if (params.view && !table.views.some((v) => v.id === params.view || v.name === params.view)) {
    throw apiError(422, "VIEW_NAME_NOT_FOUND", `Could not find view "${params.view}"`);
  }
  let ids = [...table.rows.keys()].filter((id) => !only || only.has(id)); // creation order (Airtable: arbitrary without view or sort)
  if (params.sort.length > 0) ids = sorted(core, base, table, ids, params.sort);
  if (params.maxRecords !== undefined) ids = ids.slice(0, params.maxRecords);
  sweep(core);
  const iterator: Iterator = { id: core.state.newId("itr"), tableId: table.id, recordIds: ids, lastUsed: Date.now() };
  core.iterators.set(iterator.id, iterator);
  return iterator;
}

/**
 * The one formula shape the simulator evaluates: `RECORD_ID()='rec…'`, or an `OR(...)` of those (how a
 * client reads back chosen records in one request). Anything else: 422 INVALID_FILTER_BY_FORMULA.
 */
function recordIdFilter(formula: string): Set<string> {
  const one = /^\s*RECORD_ID\(\)\s*=\s*'(rec[A-Za-z0-9]+)'\s*$/;
  const inner = /^\s*OR\((.*)\)\s*$/s.exec(formula)?.[1] ?? formula;
  const ids = new Set<string>();
  for (const part of inner.split(",")) {
    const id = one.exec(part)?.[1];
    if (!id)
      throw apiError(422, "INVALID_FILTER_BY_FORMULA", "only RECORD_ID()='rec…' (or an OR of them) is simulated");
    ids.add(id);
  }
  return ids;
}

/** An offset stays valid for iteratorTtlMs after its last use, and can be replayed (retries are safe). */
function resume(core: SimCore, table: Table, offset: string): Iterator {
  const iterator = core.iterators.get(offset.split("/")[0] ?? "");
  if (!iterator || iterator.tableId !== table.id || Date.now() - iterator.lastUsed > core.options.iteratorTtlMs)
    throw iteratorExpired();
  iterator.lastUsed = Date.now();
  return iterator;
}

function sweep(core: SimCore): void {
  const now = Date.now();
  for (const [id, it] of core.iterators) if (now - it.lastUsed > core.options.iteratorTtlMs) core.iterators.delete(id);
}

function sorted(core: SimCore, base: Base, table: Table, ids: string[], sort: ListParams["sort"]): string[] {
  const render = renderContext(core, base);
  const keys = sort.map((s) => {
    const field = findField(table, s.field);
    if (!field) throw unknownField(s.field);
    return { field, sign: s.direction === "desc" ? -1 : 1 };
  });
  const value = (id: string, i: number) => {
    const v = renderCell(render, table, keys[i]!.field, table.rows.get(id)!, 0);
    return typeof v === "number" ? v : v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v);
  };
  return ids.toSorted((a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const x = value(a, i);
      const y = value(b, i);
      if (x !== y) return (x < y ? -1 : 1) * keys[i]!.sign;
    }
    return 0;
  });
}
