// Creating and updating records: batches of at most 10, validated whole before anything is
// written (one bad record refuses the request), answered in request order.
import { renderRecord } from "./cells.ts";
import { type RouteContext, renderContext } from "./core.ts";
import { apiError, forbidden, invalidRequest, json, readJson } from "./http.ts";
import type { Base, Row } from "./model.ts";
import { tableOf } from "./routes-read.ts";
import { commitFields, type ParsedFields, parseFields, stampNewRow, type WriteContext } from "./write-cells.ts";

const MAX_RECORDS = 10;

/** POST /v0/{base}/{table}: `{records:[{fields}]}` -> `{records}`, or `{fields}` -> one record. */
export async function createRecords(ctx: RouteContext, base: Base): Promise<Response> {
  const table = tableOf(base, ctx.params.table!);
  const body = await readJson(ctx.req);
  const single = !("records" in body);
  const items = single ? [{ fields: body.fields }] : checkBatch(body.records, "create");
  const write: WriteContext = {
    state: ctx.core.state,
    base,
    table,
    userId: ctx.userId,
    typecast: body.typecast === true,
  };
  const parsed: ParsedFields[] = [];
  for (const item of items) parsed.push(await parseFields(write, (item as { fields?: unknown }).fields ?? {}));

  const render = renderContext(ctx.core, base);
  const records = parsed.map((fields) => {
    const row: Row = {
      id: ctx.core.state.newId("rec"),
      createdTime: new Date().toISOString(),
      cells: new Map(),
      comments: [],
    };
    stampNewRow(write, row);
    table.rows.set(row.id, row);
    commitFields(write, row, fields, false);
    return row;
  });
  ctx.wrote = true;
  const out = records.map((row) => renderRecord(render, table, row, { byId: body.returnFieldsByFieldId === true }));
  return json(single ? out[0] : { records: out });
}

/**
 * PATCH/PUT /v0/{base}/{table} with `{records:[{id, fields}]}`, or …/{recordId} with `{fields}`.
 * PATCH changes the given cells; PUT also clears every writable cell left out.
 */
export async function updateRecords(ctx: RouteContext, base: Base): Promise<Response> {
  const table = tableOf(base, ctx.params.table!);
  const body = await readJson(ctx.req);
  if ("performUpsert" in body) throw invalidRequest("performUpsert is not simulated");
  const single = ctx.params.recordId !== undefined;
  const items = (single ? [{ id: ctx.params.recordId, fields: body.fields }] : checkBatch(body.records, "update")) as {
    id?: unknown;
    fields?: unknown;
  }[];
  const write: WriteContext = {
    state: ctx.core.state,
    base,
    table,
    userId: ctx.userId,
    typecast: body.typecast === true,
  };
  const rows: Row[] = [];
  const parsed: ParsedFields[] = [];
  for (const item of items) {
    const row = typeof item.id === "string" ? table.rows.get(item.id) : undefined;
    if (!row) throw apiError(422, "ROW_DOES_NOT_EXIST", `Record ID ${String(item.id)} does not exist in this table`);
    rows.push(row);
    parsed.push(await parseFields(write, item.fields ?? {}));
  }

  const replace = ctx.req.method === "PUT";
  rows.forEach((row, i) => {
    commitFields(write, row, parsed[i]!, replace);
  });
  ctx.wrote = true;
  const render = renderContext(ctx.core, base);
  const out = rows.map((row) => renderRecord(render, table, row, { byId: body.returnFieldsByFieldId === true }));
  return json(single ? out[0] : { records: out });
}

// --- internal ---

function checkBatch(records: unknown, verb: "create" | "update"): unknown[] {
  if (!Array.isArray(records) || records.length === 0) throw invalidRequest();
  if (records.length > MAX_RECORDS) {
    // The message is reported by client code; the type name is UNCERTAIN.
    throw apiError(
      422,
      "INVALID_RECORDS",
      verb === "create"
        ? `A maximum of 10 records can be created per request but you have provided ${records.length}.`
        : 'You must provide an array of up to 10 record objects, each with an "id" ID field and a "fields" object for cell values.',
    );
  }
  for (const r of records) if (typeof r !== "object" || r === null) throw invalidRequest();
  return records;
}

/** POST …/{recordId}/comments `{text, parentCommentId?}` -> the comment, written as the token's user. */
export async function createComment(ctx: RouteContext, base: Base): Promise<Response> {
  const table = tableOf(base, ctx.params.table!);
  const row = table.rows.get(ctx.params.recordId!);
  if (!row) throw forbidden();
  const body = await readJson(ctx.req);
  if (typeof body.text !== "string" || body.text === "") throw invalidRequest("text must be a non-empty string");
  const parent = body.parentCommentId;
  if (parent !== undefined && !row.comments.some((c) => c.id === parent))
    throw invalidRequest(`Unknown parentCommentId ${String(parent)}`);
  const author = ctx.core.state.users.get(ctx.userId) ?? { id: ctx.userId, email: "" };
  const comment = {
    id: ctx.core.state.newId("com"),
    author: { ...author },
    text: body.text,
    createdTime: new Date().toISOString(),
    lastUpdatedTime: null,
    ...(typeof parent === "string" ? { parentCommentId: parent } : {}),
  };
  row.comments.push(comment);
  ctx.wrote = true;
  return json(structuredClone(comment));
}
