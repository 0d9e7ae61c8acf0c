// End-to-end check of one archive: every entry read in full (CRC-32, sizes), its sha256 against the
// manifest, table line counts and JSON, and every attachment the index names present and intact.
import { AirbackupError } from "../errors.ts";
import { MAX_SMALL_ENTRY, readJsonLines, readSmallEntry, readText } from "./entry-text.ts";
import {
  ATTACHMENT_INDEX_PATH,
  attachmentHashOf,
  attachmentPath,
  isSha256,
  MANIFEST_PATH,
  SCHEMA_PATH,
} from "./layout.ts";
import { type Manifest, parseManifest } from "./manifest.ts";
import { type OpenedSource, openZip, type ZipArchive, type ZipEntry } from "./zip-reader.ts";

export interface VerifyReport {
  path: string;
  ok: boolean;
  /** What is wrong, most fundamental first; empty when ok. */
  problems: string[];
  manifest?: Manifest;
}

/** Enough to name what is wrong without flooding the terminal on a badly damaged archive. */
const MAX_PROBLEMS = 50;
const READ_BUFFER = 256 * 1024;

/** `signal` stops the check between chunks: an aborted verify throws the signal's reason, never a report. */
export async function verifyArchive(
  source: string | OpenedSource,
  options: { signal?: AbortSignal } = {},
): Promise<VerifyReport> {
  const path = typeof source === "string" ? source : source.label;
  const problems: string[] = [];
  let zip: ZipArchive;
  try {
    zip = await openZip(source);
  } catch (error) {
    return { path, ok: false, problems: [messageOf(error)] };
  }
  try {
    const manifest = await readManifest(zip, problems);
    // Without a manifest, every entry is still read in full so damage is reported too.
    await checkEntries(zip, manifest, problems, options.signal);
    return {
      path,
      ok: problems.length === 0,
      problems: problems.slice(0, MAX_PROBLEMS),
      ...(manifest ? { manifest } : {}),
    };
  } finally {
    await zip.close();
  }
}

/** Reads and parses manifest.json; throws ARCHIVE_CORRUPT/ARCHIVE_UNSUPPORTED. */
export async function readManifestOf(zip: ZipArchive): Promise<Manifest> {
  const entry = zip.entry(MANIFEST_PATH);
  if (!entry)
    throw new AirbackupError(
      "ARCHIVE_CORRUPT",
      `${zip.path}: no manifest.json (not an airbackup archive, or an incomplete one)`,
    );
  return parseManifest(await readSmallEntry(zip, entry), zip.path);
}

// --- internal ---

async function readManifest(zip: ZipArchive, problems: string[]): Promise<Manifest | undefined> {
  try {
    return await readManifestOf(zip);
  } catch (error) {
    problems.push(messageOf(error));
    return undefined;
  }
}

async function checkEntries(
  zip: ZipArchive,
  manifest: Manifest | undefined,
  problems: string[],
  signal: AbortSignal | undefined,
): Promise<void> {
  const problem = (text: string) => problems.push(`${zip.path}: ${text}`);
  if (!manifest) {
    for (const entry of zip.entries) {
      if (problems.length >= MAX_PROBLEMS) return;
      try {
        for await (const _ of zip.readEntry(entry)) signal?.throwIfAborted();
      } catch (error) {
        signal?.throwIfAborted();
        problems.push(messageOf(error));
      }
    }
    return;
  }
  const tableByPath = new Map(manifest.tables.map((t) => [t.path, t]));
  // Stored entries (files, most of an archive's bytes) are read into one buffer, used again: every
  // consumer below is done with a chunk before it asks for the next.
  const buffer = new Uint8Array(READ_BUFFER);
  for (const name of Object.keys(manifest.entries))
    if (!zip.entry(name)) problem(`${name} is listed in the manifest but missing from the archive`);
  for (const table of manifest.tables) {
    if (!zip.entry(table.path)) continue; // reported above, or below if the manifest forgot it
    if (manifest.entries[table.path] !== table.sha256)
      problem(`${table.path}: the manifest disagrees with itself about its sha256`);
  }
  for (const required of [ATTACHMENT_INDEX_PATH, ...manifest.tables.map((t) => t.path)]) {
    if (!zip.entry(required) && !(required in manifest.entries)) problem(`${required} is missing`);
  }
  for (const entry of zip.entries) {
    if (problems.length >= MAX_PROBLEMS) return;
    if (entry.name === MANIFEST_PATH) continue;
    const expected = manifest.entries[entry.name];
    if (expected === undefined) {
      problem(`${entry.name} is not listed in the manifest`);
      continue;
    }
    try {
      const hasher = new Bun.CryptoHasher("sha256");
      const hashing = hashed(zip, entry, hasher, signal, buffer);
      const table = tableByPath.get(entry.name);
      if (table) {
        const lines = await readJsonLines(hashing, entry.name, isRecordLine);
        if (lines !== table.records) problem(`${entry.name} has ${lines} records, the manifest says ${table.records}`);
      } else if (entry.name === ATTACHMENT_INDEX_PATH) {
        const lines = await readJsonLines(hashing, entry.name, (line) => checkIndexLine(zip, line));
        if (lines !== manifest.attachments.count)
          problem(`${entry.name} has ${lines} lines, the manifest says ${manifest.attachments.count}`);
      } else if (entry.name === SCHEMA_PATH) {
        if (entry.size > MAX_SMALL_ENTRY)
          throw new AirbackupError("ARCHIVE_CORRUPT", `${zip.path}: ${entry.name} is implausibly large`);
        JSON.parse(await readText(hashing));
      } else if (entry.name.endsWith(".jsonl")) {
        await readJsonLines(hashing, entry.name, () => undefined);
      } else {
        for await (const _ of hashing);
      }
      const actual = hasher.digest("hex");
      if (actual !== expected) problem(`${entry.name}: sha256 ${actual} does not match the manifest's ${expected}`);
      const named = attachmentHashOf(entry.name);
      if (named && named !== actual) problem(`${entry.name}: content hashes to ${actual}, not to its name`);
    } catch (error) {
      signal?.throwIfAborted();
      problems.push(
        error instanceof SyntaxError
          ? `${zip.path}: ${entry.name}: not valid JSON: ${error.message}`
          : messageOf(error),
      );
    }
  }
}

function checkIndexLine(zip: ZipArchive, line: unknown): void {
  const sha256 = (line as { sha256?: unknown } | null)?.sha256;
  if (!isSha256(sha256))
    throw new AirbackupError("ARCHIVE_CORRUPT", `${zip.path}: ${ATTACHMENT_INDEX_PATH}: a line has no valid sha256`);
  if (!zip.entry(attachmentPath(sha256)))
    throw new AirbackupError(
      "ARCHIVE_CORRUPT",
      `${zip.path}: ${ATTACHMENT_INDEX_PATH}: attachment ${sha256} is missing from the archive`,
    );
}

function isRecordLine(line: unknown): void {
  if (typeof line !== "object" || line === null || typeof (line as { id?: unknown }).id !== "string") {
    throw new SyntaxError("a line is not a record object with an id");
  }
}

async function* hashed(
  zip: ZipArchive,
  entry: ZipEntry,
  hasher: Bun.CryptoHasher,
  signal: AbortSignal | undefined,
  into: Uint8Array,
): AsyncIterable<Uint8Array> {
  for await (const chunk of zip.readEntry(entry, { into })) {
    signal?.throwIfAborted();
    hasher.update(chunk);
    yield chunk;
  }
}

function messageOf(error: unknown): string {
  if (error instanceof AirbackupError && error.hint) return `${error.message}; ${error.hint}`;
  return error instanceof Error ? error.message : String(error);
}
