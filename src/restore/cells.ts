// Archived cell values -> what the create call takes, and the content hash used to recognise a record
// whose create answer was lost (see reconcile.ts for why a hash and not a marker).

/** A field the first pass writes: archived name -> target field id, with the type written. */
export interface WritableField {
  name: string;
  key: string;
  type: string;
  /** A computed primary restored as text: its values are written as strings. */
  asText?: boolean;
  /** A link written in the first pass: the ARCHIVED table it links to (values go through the id map). */
  linkedTableId?: string;
  /** An attachment field whose files are staged in S3 and sent as presigned URLs. */
  staged?: boolean;
}

/** The create body's `fields` (by target field id) for an archived record; empty values and links left out. */
export function writeFields(archived: Record<string, unknown>, fields: WritableField[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    if (field.linkedTableId || field.staged) continue; // links and staged files: the caller writes them
    const value = archived[field.name];
    if (isEmpty(value)) continue;
    const written = field.asText ? asText(value) : writeValue(field.type, value);
    if (!isEmpty(written)) out[field.key] = written;
  }
  return out;
}

/**
 * A hash of the writable content of a record, over every first-pass field of its table (absent values
 * count), normalised so that what was sent and what Airtable hands back hash alike. Collaborator cells
 * are left out (a cell written as {email} reads back with an id we could not know beforehand), and so
 * are attachment cells (written as URLs, read back as Airtable's files, or not at all if a fetch failed).
 */
export function contentHash(fields: Record<string, unknown>, table: WritableField[]): string {
  const parts: unknown[] = [];
  for (const field of table) {
    if (field.type === "singleCollaborator" || field.type === "multipleCollaborators") continue;
    // Airtable fetches URL files on its own and drops one it cannot fetch: what reads back may differ.
    if (field.type === "multipleAttachments") continue;
    const value = fields[field.key];
    parts.push(isEmpty(value) ? null : normalise(field.type, value));
  }
  return new Bun.CryptoHasher("sha256").update(canonical(parts)).digest("hex").slice(0, 32);
}

export function isEmpty(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    value === "" ||
    value === false ||
    (Array.isArray(value) && value.length === 0)
  );
}

// --- internal ---

function writeValue(type: string, value: unknown): unknown {
  if (type === "singleCollaborator") return collaborator(value);
  if (type === "multipleCollaborators")
    return Array.isArray(value) ? value.map(collaborator).filter((v) => v !== undefined) : value;
  return value;
}

/** Written as {id} when the archive has it, else {email}: the two forms Airtable accepts. */
function collaborator(value: unknown): unknown {
  if (!value || typeof value !== "object") return value;
  const { id, email } = value as { id?: unknown; email?: unknown };
  if (typeof id === "string" && id) return { id };
  if (typeof email === "string" && email) return { email };
  return value;
}

/** A computed value as text: lists joined, errors and NaN left empty. */
function asText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value))
    return value
      .map(asText)
      .filter((v) => v !== undefined && v !== "")
      .join(", ");
  const o = value as Record<string, unknown>;
  if ("error" in o || "specialValue" in o) return undefined;
  if (typeof o.name === "string") return o.name;
  if (typeof o.email === "string") return o.email;
  if (typeof o.text === "string") return o.text;
  if (typeof o.label === "string") return o.label;
  return JSON.stringify(value);
}

function normalise(type: string, value: unknown): unknown {
  if (type === "dateTime" && typeof value === "string") {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? value : new Date(ms).toISOString();
  }
  if (type === "richText" && typeof value === "string") return value.trimEnd();
  return value;
}

/** JSON with object keys sorted, so key order never changes a hash. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}
