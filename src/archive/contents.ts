// The shapes of what a format-1 archive holds, as readers see them: schema.json's tables and fields,
// a line of tables/<id>.jsonl, of attachments.jsonl, of comments/<id>.jsonl. Writers take these as the
// API returned them.

/** A field in schema.json (the Meta API's field object; unknown keys and types kept). */
export interface ArchivedField {
  id: string;
  name: string;
  type: string;
  description?: string;
  options?: Record<string, unknown> | null;
}

/** A table in schema.json. */
export interface ArchivedTable {
  id: string;
  name: string;
  primaryFieldId?: string;
  description?: string;
  fields: ArchivedField[];
}

/** One line of tables/<tableId>.jsonl: a record as the API returned it. */
export interface ArchivedRecord {
  id: string;
  createdTime: string;
  fields: Record<string, unknown>;
}

/** One line of attachments.jsonl: where one stored file (attachments/<sha256>) appeared. */
export interface ArchivedAttachment {
  id: string;
  sha256: string;
  filename: string;
  type: string;
  size: number;
  table: string;
  record: string;
  field: string;
}

/** One line of comments/<tableId>.jsonl: a record's comments, newest first as the API lists them. */
export interface ArchivedComments {
  record: string;
  comments: {
    id: string;
    text: string;
    createdTime: string;
    author?: { id: string; email?: string; name?: string };
    [key: string]: unknown; // as the API returned it (e.g. parentCommentId)
  }[];
}
