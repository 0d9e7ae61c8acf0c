// The content host: direct attachment upload (≤ 5 MB, base64 in JSON) and downloads of signed URLs.
import { renderCell } from "./cells.ts";
import { type RouteContext, renderContext, type SimCore } from "./core.ts";
import { forbidden, invalidRequest, invalidValue, json, readJson } from "./http.ts";
import { type Base, findField, registerAttachment } from "./model.ts";
import { commitFields, type WriteContext } from "./write-cells.ts";

const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

/**
 * POST {content}/v0/{baseId}/{recordId}/{attachmentFieldIdOrName}/uploadAttachment
 * `{contentType, file (base64), filename}` -> `{id, createdTime, fields: {<fieldId>: [every attachment, new last]}}`.
 */
export async function uploadAttachment(ctx: RouteContext, base: Base): Promise<Response> {
  const table = base.tables.find((t) => t.rows.has(ctx.params.recordId!));
  const row = table?.rows.get(ctx.params.recordId!);
  if (!table || !row) throw forbidden();
  const field = findField(table, ctx.params.field!);
  if (!field) throw forbidden();
  if (field.type !== "multipleAttachments") throw invalidValue(`Field "${field.name}" is not an attachment field`);
  const body = await readJson(ctx.req);
  const { contentType, file, filename } = body;
  if (typeof contentType !== "string" || typeof file !== "string" || typeof filename !== "string")
    throw invalidRequest();
  const data = new Uint8Array(Buffer.from(file, "base64"));
  // Over 5 MB: a 422 with a documented type; Airtable's actual answer is UNCERTAIN.
  if (data.byteLength > MAX_UPLOAD_BYTES)
    throw invalidRequest(`File exceeds the ${MAX_UPLOAD_BYTES} byte limit for uploadAttachment`);

  const id = registerAttachment(ctx.core.state, { filename, type: contentType, data });
  const write: WriteContext = { state: ctx.core.state, base, table, userId: ctx.userId, typecast: false };
  const existing = (row.cells.get(field.id) as string[] | undefined) ?? [];
  commitFields(write, row, new Map([[field.id, [...existing, id]]]), false);
  ctx.wrote = true;
  const value = renderCell(renderContext(ctx.core, base), table, field, row, 0);
  return json({ id: row.id, createdTime: row.createdTime, fields: { [field.id]: value } });
}

/**
 * GET of a signed URL. Expired, revoked (expireAttachmentUrls) or tampered URLs get a 404: that
 * is what was reported for expired Airtable URLs (the exact status is UNCERTAIN).
 */
export function download(core: SimCore, pathname: string): Response {
  const attId = core.signer.verify(pathname);
  const att = attId ? core.state.attachments.get(attId) : undefined;
  if (!att) return new Response("Not Found", { status: 404, headers: { "Content-Type": "text/plain" } });
  core.counters.downloadedBytes += att.size;
  return new Response(att.bytes(), { headers: { "Content-Type": att.type } });
}
