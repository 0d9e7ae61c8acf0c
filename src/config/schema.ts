// The config file's one schema (valibot); defaults live here and the Config type is inferred from it.
import * as v from "valibot";
import { ID_PATTERN, idExample } from "../airtable/ids.ts";

const baseId = v.pipe(v.string(), v.regex(ID_PATTERN.base, `an Airtable base id like ${idExample("base")}`));
const count = v.pipe(v.number(), v.integer(), v.minValue(0));

/** restic-style retention (src/storage/retention.ts); a policy that keeps nothing is refused. */
export const KeepSchema = v.pipe(
  v.strictObject({
    last: v.optional(count),
    hourly: v.optional(count),
    daily: v.optional(count),
    weekly: v.optional(count),
    monthly: v.optional(count),
    yearly: v.optional(count),
  }),
  v.check(
    (policy) => Object.values(policy).some((n) => (n ?? 0) > 0),
    "a policy that keeps something (at least one of last, hourly, daily, weekly, monthly, yearly above 0)",
  ),
);

export const S3Schema = v.strictObject({
  endpoint: v.optional(v.pipe(v.string(), v.url("a URL like https://s3.eu-west-1.amazonaws.com"))),
  region: v.optional(v.string()),
  bucket: v.pipe(v.string(), v.minLength(1, "a bucket name")),
  prefix: v.optional(v.string(), ""),
  /** true: endpoint/bucket/key (MinIO, most self-hosted stores); default: virtual-hosted, path-style for an IP. */
  pathStyle: v.optional(v.boolean()),
  accessKeyId: v.optional(v.string()),
  secretAccessKey: v.optional(v.string()),
});

export const ConfigSchema = v.strictObject({
  token: v.optional(v.pipe(v.string(), v.minLength(1, "a personal access token"))),
  bases: v.optional(
    v.array(
      v.strictObject({
        id: baseId,
        tables: v.optional(v.array(v.pipe(v.string(), v.minLength(1, "a table name or id")))),
      }),
    ),
  ),
  attachments: v.optional(v.boolean(), true),
  comments: v.optional(v.boolean(), false),
  /** Attachment downloads in flight at once (they are outside the API's rate limit). */
  downloads: v.optional(v.pipe(count, v.minValue(1), v.maxValue(64)), 8),
  /** Bases backed up at once; all of them share the token's 50 requests/s. */
  concurrency: v.optional(v.strictObject({ bases: v.optional(v.pipe(count, v.minValue(1), v.maxValue(16)), 4) }), {
    bases: 4,
  }),
  output: v.optional(
    v.strictObject({
      dir: v.optional(v.pipe(v.string(), v.minLength(1)), "./backups"),
      keep: v.optional(KeepSchema),
      /** false: remove the local archive once its S3 upload is confirmed. */
      keepLocal: v.optional(v.boolean(), true),
    }),
    { dir: "./backups", keepLocal: true },
  ),
  /** Apply output.keep to each base right after its backup succeeded (as `backup --prune`). */
  prune: v.optional(v.boolean(), false),
  /** Upload each archive after it is verified (and read s3:// archives with these settings). */
  s3: v.optional(S3Schema),
});

export type Config = v.InferOutput<typeof ConfigSchema>;
