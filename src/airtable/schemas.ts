// Valibot schemas for the parts of Airtable's responses we rely on. All objects are loose (Airtable adds
// keys and field types without notice) and none transforms, so a validated value IS the parsed JSON:
// the client returns the original object, key order and unknown keys intact (schema.json is stored as returned).
import * as v from "valibot";

const Id = v.pipe(v.string(), v.minLength(1));

export const ListedBaseSchema = v.looseObject({ id: Id, name: v.string(), permissionLevel: v.optional(v.string()) });
export const ListBasesSchema = v.looseObject({ bases: v.array(ListedBaseSchema), offset: v.optional(v.string()) });

export const FieldSchema = v.looseObject({
  id: Id,
  name: v.string(),
  type: v.string(), // unknown types are kept: a new type is not a breaking change per Airtable
  description: v.optional(v.string()),
  options: v.optional(v.nullable(v.record(v.string(), v.unknown()))),
});
export const ViewSchema = v.looseObject({ id: Id, name: v.string(), type: v.string() });
export const TableSchema = v.looseObject({
  id: Id,
  name: v.string(),
  primaryFieldId: v.optional(v.string()),
  description: v.optional(v.string()),
  fields: v.array(FieldSchema),
  views: v.optional(v.array(ViewSchema)),
});
/** GET /v0/meta/bases/{baseId}/tables: the base's tables, fields and views (its "schema"). */
export const TablesResponseSchema = v.looseObject({ tables: v.array(TableSchema) });

export const RecordSchema = v.looseObject({
  id: Id,
  createdTime: v.string(),
  fields: v.record(v.string(), v.unknown()),
  commentCount: v.optional(v.number()),
});
export const RecordPageSchema = v.looseObject({ records: v.array(RecordSchema), offset: v.optional(v.string()) });
export const RecordsResponseSchema = v.looseObject({ records: v.array(RecordSchema) });

const ThumbnailSchema = v.looseObject({ url: v.string() });
/** One item of a multipleAttachments cell (its `url` is signed and dies ~2 h after it was handed out). */
export const AttachmentSchema = v.looseObject({
  id: Id,
  url: v.string(),
  filename: v.optional(v.string()),
  size: v.optional(v.number()),
  type: v.optional(v.string()),
  width: v.optional(v.number()),
  height: v.optional(v.number()),
  thumbnails: v.optional(v.record(v.string(), ThumbnailSchema)),
});

export const CommentSchema = v.looseObject({
  id: Id,
  text: v.string(),
  createdTime: v.string(),
  author: v.optional(v.looseObject({ id: v.string() })),
});
export const CommentsPageSchema = v.looseObject({
  comments: v.array(CommentSchema),
  offset: v.optional(v.nullable(v.string())),
});

/** POST content.airtable.com/.../uploadAttachment: the whole cell, keyed by field id. */
export const UploadResponseSchema = v.looseObject({
  id: Id,
  createdTime: v.optional(v.string()),
  fields: v.record(v.string(), v.array(AttachmentSchema)),
});

export const CreateBaseResponseSchema = v.looseObject({ id: Id, tables: v.array(TableSchema) });

export type AirtableBase = v.InferOutput<typeof ListedBaseSchema>;
export type AirtableField = v.InferOutput<typeof FieldSchema>;
export type AirtableView = v.InferOutput<typeof ViewSchema>;
export type AirtableTable = v.InferOutput<typeof TableSchema>;
export type AirtableTables = v.InferOutput<typeof TablesResponseSchema>;
export type AirtableRecord = v.InferOutput<typeof RecordSchema>;
export type AirtableAttachment = v.InferOutput<typeof AttachmentSchema>;
export type AirtableComment = v.InferOutput<typeof CommentSchema>;
export type AirtableUploadResponse = v.InferOutput<typeof UploadResponseSchema>;
export type AirtableCreateBaseResponse = v.InferOutput<typeof CreateBaseResponseSchema>;

/** A cell value that is a list of attachment objects (what a multipleAttachments field holds). */
export function isAttachmentList(value: unknown): value is AirtableAttachment[] {
  return Array.isArray(value) && value.every((item) => v.is(AttachmentSchema, item));
}
