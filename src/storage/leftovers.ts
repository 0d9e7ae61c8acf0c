// Leftovers of a killed run (kill -9, a power cut, a second Ctrl-C): `<archive name>.partial` files (and
// the local storage's `<archive name>.<pid>-<hex>.partial` temporaries) and `.airbackup-<baseId>-*`
// temporary directories. They go once more than a day old, by modification time; a directory counts as
// recent while anything directly in it is, so the files of a run still going are never touched.
import type { Dirent } from "node:fs";
import { lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { ID_PATTERN } from "../airtable/ids.ts";
import { parseArchiveName } from "./archive-names.ts";
import type { StoredObject } from "./storage.ts";

export const LEFTOVER_AGE_MS = 24 * 60 * 60 * 1000;

export interface Leftover {
  name: string;
  baseId: string;
  kind: "partial" | "temporary directory";
  /** Last modification, ISO 8601. */
  modified: string;
  hours: number;
}

/** The object as a leftover `.partial` of an archive, if it is one and more than a day old. */
export function partialLeftover(object: StoredObject, now: Date): Leftover | undefined {
  const match = PARTIAL.exec(object.name);
  const archive = match && parseArchiveName(match[1]!);
  if (!archive) return undefined;
  return old({ name: object.name, baseId: archive.baseId, kind: "partial" }, object.modified, now);
}

/** `.airbackup-<baseId>-*` directories in `dir` more than a day old. */
export async function tempDirLeftovers(dir: string, now: Date): Promise<Leftover[]> {
  const found: Leftover[] = [];
  for (const entry of await entriesOf(dir)) {
    const match = TEMP_DIR.exec(entry.name);
    if (!match || !entry.isDirectory()) continue;
    const modified = await newestModification(join(dir, entry.name));
    const leftover =
      modified && old({ name: entry.name, baseId: match[1]!, kind: "temporary directory" }, modified, now);
    if (leftover) found.push(leftover);
  }
  return found;
}

/** Every leftover of one base in a local directory (backup calls this at start, holding the base's lock). */
export async function localLeftovers(dir: string, baseId: string, now: Date): Promise<Leftover[]> {
  const found = (await tempDirLeftovers(dir, now)).filter((l) => l.baseId === baseId);
  for (const entry of await entriesOf(dir)) {
    if (!entry.isFile() || !entry.name.endsWith(".partial")) continue;
    const info = await lstat(join(dir, entry.name)).catch(() => undefined);
    const leftover = info && partialLeftover({ name: entry.name, size: info.size, modified: info.mtime }, now);
    if (leftover?.baseId === baseId) found.push(leftover);
  }
  return found;
}

/** Removes a local leftover (a file or a temporary directory with what is in it). */
export async function removeLocalLeftover(dir: string, leftover: Leftover): Promise<void> {
  await rm(join(dir, leftover.name), { recursive: leftover.kind === "temporary directory", force: true });
}

// --- internal ---

const PARTIAL = /^(.+\.zip)(?:\.\d+-[0-9a-f]+)?\.partial$/;
const TEMP_DIR = new RegExp(`^\\.airbackup-(${ID_PATTERN.base.source.replace(/^\^|\$$/g, "")})-[A-Za-z0-9]+$`);

function old(what: Omit<Leftover, "modified" | "hours">, modified: Date, now: Date): Leftover | undefined {
  const age = now.getTime() - modified.getTime();
  if (age <= LEFTOVER_AGE_MS) return undefined;
  return { ...what, modified: modified.toISOString(), hours: Math.floor(age / 3_600_000) };
}

async function entriesOf(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

/** The newest mtime of a directory and what is directly in it; undefined if it vanished. */
async function newestModification(path: string): Promise<Date | undefined> {
  const self = await lstat(path).catch(() => undefined);
  if (!self) return undefined;
  let newest = self.mtime;
  for (const name of await readdir(path).catch(() => [] as string[])) {
    const info = await lstat(join(path, name)).catch(() => undefined);
    if (info && info.mtime > newest) newest = info.mtime;
  }
  return newest;
}
