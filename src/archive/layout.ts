// Format 1's entry paths: the one place that knows where things live inside an archive.

export const FORMAT_VERSION = 1;
export const MANIFEST_PATH = "manifest.json";
export const SCHEMA_PATH = "schema.json";
export const ATTACHMENT_INDEX_PATH = "attachments.jsonl";

const ID = /^[A-Za-z0-9_-]{1,100}$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** A lowercase hex sha256, the only name an attachment entry may have. */
export function isSha256(value: unknown): value is string {
  return typeof value === "string" && SHA256.test(value);
}

/** `tables/<tableId>.jsonl`: one record per line, as the API returned it. */
export function tablePath(tableId: string): string {
  return `tables/${checkId(tableId, "table id")}.jsonl`;
}

/** `comments/<tableId>.jsonl`: one line per record that has comments. */
export function commentsPath(tableId: string): string {
  return `comments/${checkId(tableId, "table id")}.jsonl`;
}

/** `attachments/<sha256>`: a file's bytes, stored once however many cells hold it. */
export function attachmentPath(sha256: string): string {
  if (!isSha256(sha256)) throw new Error(`not a lowercase hex sha256: ${JSON.stringify(sha256)}`);
  return `attachments/${sha256}`;
}

/** The sha256 an attachment path names, or undefined for any other path. */
export function attachmentHashOf(path: string): string | undefined {
  const hash = path.startsWith("attachments/") ? path.slice("attachments/".length) : "";
  return isSha256(hash) ? hash : undefined;
}

// --- internal ---

function checkId(id: string, what: string): string {
  if (!ID.test(id)) throw new Error(`unsafe ${what} for an archive path: ${JSON.stringify(id)}`);
  return id;
}
