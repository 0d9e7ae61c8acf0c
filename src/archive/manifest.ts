// manifest.json, format 1: what the archive holds and the sha256 of every other entry. Parsed with valibot
// at the boundary; an archive of a newer format is refused with a hint to upgrade.
import * as v from "valibot";
import { AirbackupError } from "../errors.ts";
import { FORMAT_VERSION } from "./layout.ts";

const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
const Sha256 = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, "a lowercase hex sha256"));
const Timestamp = v.pipe(v.string(), v.isoTimestamp());

export const ManifestSchema = v.object({
  format: v.literal(FORMAT_VERSION),
  tool: v.object({ name: v.string(), version: v.string() }),
  startedAt: Timestamp,
  finishedAt: Timestamp,
  base: v.object({ id: v.string(), name: v.string() }),
  tables: v.array(v.object({ id: v.string(), name: v.string(), records: Count, path: v.string(), sha256: Sha256 })),
  /**
   * count: lines in attachments.jsonl (cells' files); files: distinct files stored; bytes: their total size;
   * reused: of those, files copied from an earlier archive of the base and their bytes (not downloaded).
   */
  attachments: v.object({
    count: Count,
    files: Count,
    bytes: Count,
    path: v.string(),
    reused: v.optional(v.object({ files: Count, bytes: Count })),
  }),
  /** Tables whose record comments were backed up (only with `comments: true`). */
  comments: v.optional(v.array(v.object({ table: v.string(), records: Count, path: v.string() }))),
  warnings: v.array(v.string()),
  apiCalls: v.optional(Count),
  /** sha256 of every entry except manifest.json itself, by path. */
  entries: v.record(v.string(), Sha256),
});

export type Manifest = v.InferOutput<typeof ManifestSchema>;

/** Parses manifest.json text; ARCHIVE_UNSUPPORTED for a newer format, ARCHIVE_CORRUPT for anything else wrong. */
export function parseManifest(text: string, label: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AirbackupError("ARCHIVE_CORRUPT", `${label}: manifest.json is not valid JSON`, { cause: error });
  }
  const format = typeof json === "object" && json !== null ? (json as { format?: unknown }).format : undefined;
  if (typeof format === "number" && format > FORMAT_VERSION) {
    throw new AirbackupError(
      "ARCHIVE_UNSUPPORTED",
      `${label}: archive format ${format} is newer than this airbackup understands (format ${FORMAT_VERSION})`,
      {
        hint: "upgrade airbackup to read it",
      },
    );
  }
  const result = v.safeParse(ManifestSchema, json);
  if (!result.success) {
    const issue = result.issues[0];
    const at = issue.path?.map((p) => String(p.key)).join(".") ?? "(root)";
    throw new AirbackupError("ARCHIVE_CORRUPT", `${label}: manifest.json is invalid at ${at}: ${issue.message}`);
  }
  return result.output;
}
