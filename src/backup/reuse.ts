// Attachment reuse: an Airtable attachment never changes under its id, so a file the newest earlier intact
// archive of the same base holds (same id, same size) is copied from there instead of downloaded again.
// The bytes are checked by the caller against that archive's index (sha256); every new archive stays
// complete on its own.
import { readJsonLines } from "../archive/entry-text.ts";
import { ATTACHMENT_INDEX_PATH, attachmentPath } from "../archive/layout.ts";
import type { RandomAccessFile } from "../archive/random-access-file.ts";
import { readManifestOf } from "../archive/verify.ts";
import { openZip, type ZipArchive } from "../archive/zip-reader.ts";
import { parseArchiveName } from "../storage/archive-names.ts";
import { pathIn } from "../storage/prune.ts";
import type { Storage } from "../storage/storage.ts";

/** Where earlier archives are looked for: a Storage (the output directory, or S3 read by Range requests). */
export type ArchiveShelf = Pick<Storage, "label" | "list" | "open">;

export interface PreviousArchive {
  /** `<shelf label>/<archive name>`, for messages. */
  readonly label: string;
  /** The sha256 the previous archive's index gives this attachment at this size, if it holds it. */
  lookup(attachmentId: string, size: number): string | undefined;
  /**
   * The stored bytes of `sha256` (CRC-32 and size checked as they are read); the caller checks the sha256.
   * Each chunk is valid only until the next one is asked for (its buffer is used again).
   */
  read(sha256: string): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

/**
 * The newest archive of `baseId` older than `before` on any shelf whose manifest and attachment index
 * are intact; damaged ones are passed over (each reported through `onSkip`). Undefined when none.
 */
export async function openPreviousArchive(
  shelves: readonly ArchiveShelf[],
  baseId: string,
  before: Date,
  onSkip: (message: string) => void,
): Promise<PreviousArchive | undefined> {
  const candidates: { shelf: ArchiveShelf; name: string; at: number }[] = [];
  for (const shelf of shelves) {
    try {
      for await (const { name } of shelf.list()) {
        const parsed = parseArchiveName(name);
        if (parsed?.baseId === baseId && parsed.at.getTime() < before.getTime())
          candidates.push({ shelf, name, at: parsed.at.getTime() });
      }
    } catch (error) {
      onSkip(`could not list earlier archives in ${shelf.label}: ${(error as Error).message}`);
    }
  }
  candidates.sort((a, b) => b.at - a.at); // newest first; a stable sort keeps the first shelf's copy first
  for (const { shelf, name } of candidates) {
    const label = pathIn(shelf, name);
    try {
      return await openIndexed(await shelf.open(name), label, baseId);
    } catch (error) {
      onSkip(`earlier archive ${label} is not intact (${(error as Error).message}); not reusing files from it`);
    }
  }
  return undefined;
}

// --- internal ---

/** Bytes copied at a time from an earlier archive, into buffers used again (a copy allocates nothing per chunk). */
const COPY_BUFFER = 256 * 1024;

async function openIndexed(file: RandomAccessFile, label: string, baseId: string): Promise<PreviousArchive> {
  const zip = await openZip({ file, label });
  const spare: Uint8Array[] = []; // one per copy in flight, kept for the next
  try {
    const manifest = await readManifestOf(zip);
    if (manifest.base.id !== baseId) throw new Error(`it holds base ${manifest.base.id}`);
    const files = await readIndex(zip, manifest.entries[ATTACHMENT_INDEX_PATH]);
    return {
      label,
      lookup: (id, size) => {
        const known = files.get(id);
        return known && known.size === size ? known.sha256 : undefined;
      },
      async *read(sha256) {
        const entry = zip.entry(attachmentPath(sha256));
        if (!entry) throw new Error(`${label}: ${attachmentPath(sha256)} is missing`);
        const into = spare.pop() ?? new Uint8Array(COPY_BUFFER);
        try {
          yield* zip.readEntry(entry, { into });
        } finally {
          spare.push(into);
        }
      },
      close: () => zip.close(),
    };
  } catch (error) {
    await zip.close();
    throw error;
  }
}

/** attachments.jsonl as a map of attachment id -> stored file, its sha256 checked against the manifest. */
async function readIndex(
  zip: ZipArchive,
  expected: string | undefined,
): Promise<Map<string, { sha256: string; size: number }>> {
  const entry = zip.entry(ATTACHMENT_INDEX_PATH);
  if (!entry || !expected) throw new Error(`${ATTACHMENT_INDEX_PATH} is missing`);
  const hasher = new Bun.CryptoHasher("sha256");
  const files = new Map<string, { sha256: string; size: number }>();
  async function* hashed(): AsyncIterable<Uint8Array> {
    for await (const chunk of zip.readEntry(entry!)) {
      hasher.update(chunk);
      yield chunk;
    }
  }
  await readJsonLines(hashed(), ATTACHMENT_INDEX_PATH, (value) => {
    const line = value as { id?: unknown; sha256?: unknown; size?: unknown } | null;
    if (typeof line?.id !== "string" || typeof line.sha256 !== "string" || typeof line.size !== "number") return;
    files.set(line.id, { sha256: line.sha256, size: line.size });
  });
  if (hasher.digest("hex") !== expected) throw new Error(`${ATTACHMENT_INDEX_PATH} does not match the manifest`);
  return files;
}
