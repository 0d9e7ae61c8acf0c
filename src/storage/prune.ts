// `prune` in one place (the output directory or the bucket): the keep policy per base id, the newest
// intact archive of each base always kept, and leftovers of killed runs more than a day old removed.
// Never prints; returns what it did (or, with dryRun, what it would do) for the command to render.
import { readManifestOf } from "../archive/verify.ts";
import { openZip } from "../archive/zip-reader.ts";
import type { ArchiveName } from "./archive-names.ts";
import { type Leftover, partialLeftover, removeLocalLeftover, tempDirLeftovers } from "./leftovers.ts";
import { applyPolicy, type KeepPolicy, protect } from "./retention.ts";
import type { Storage, StoredObject } from "./storage.ts";

export interface PruneOptions {
  policy: KeepPolicy;
  /** Only these bases (backup --prune, prune --base); all when absent. */
  bases?: ReadonlySet<string>;
  dryRun: boolean;
  now: Date;
  /** The output directory, for `.airbackup-*` temporary directories (local storage only). */
  localDir?: string;
  /** Whether a base's leftovers may go: false while a backup of it runs (its lock is held). */
  leftoversFree?: (baseId: string) => boolean;
  /** Stops between removals (an interrupted prune leaves every archive whole or gone, never half). */
  signal?: AbortSignal;
  /** Called for each archive found damaged while looking for a base's newest intact one; `problem` names it. */
  onDamaged?: (name: string, problem: string) => void;
}

export interface PrunedArchive {
  name: string;
  baseId: string;
  at: string;
  size: number;
  keep: boolean;
  reasons: string[];
  /** Set when removing it failed. */
  error?: string;
}

export interface PruneReport {
  where: Storage["kind"];
  label: string;
  dryRun: boolean;
  archives: PrunedArchive[];
  leftovers: (Leftover & { error?: string })[];
  /** Bases none of whose archives could be shown intact: nothing of them is removed. */
  unprotected: string[];
}

export const NEWEST_INTACT = "newest intact archive";

export async function prunePlace(storage: Storage, options: PruneOptions): Promise<PruneReport> {
  const objects = new Map<string, StoredObject>();
  for await (const object of storage.list()) objects.set(object.name, object);
  const wanted = (baseId: string) => !options.bases || options.bases.has(baseId);
  const report: PruneReport = {
    where: storage.kind,
    label: storage.label,
    dryRun: options.dryRun,
    archives: [],
    leftovers: [],
    unprotected: [],
  };

  for (const base of applyPolicy(objects.keys(), options.policy)) {
    if (!wanted(base.baseId)) continue;
    const newest = await newestIntact(storage, base.decisions, options.onDamaged);
    if (newest) protect(base, newest, NEWEST_INTACT);
    else {
      report.unprotected.push(base.baseId);
      for (const d of base.decisions) protect(base, d.archive.name, "no intact archive of this base was found");
    }
    for (const d of base.decisions) {
      const entry: PrunedArchive = {
        name: d.archive.name,
        baseId: d.archive.baseId,
        at: d.archive.at.toISOString(),
        size: objects.get(d.archive.name)?.size ?? 0,
        keep: d.keep,
        reasons: d.reasons,
      };
      if (!d.keep && !options.dryRun) {
        options.signal?.throwIfAborted();
        await storage.delete(d.archive.name).catch((error: unknown) => (entry.error = messageOf(error)));
      }
      report.archives.push(entry);
    }
  }

  const free = (baseId: string) => wanted(baseId) && (options.leftoversFree?.(baseId) ?? true);
  const leftovers: Leftover[] = [];
  for (const object of objects.values()) {
    const leftover = partialLeftover(object, options.now);
    if (leftover && free(leftover.baseId)) leftovers.push(leftover);
  }
  if (options.localDir)
    leftovers.push(...(await tempDirLeftovers(options.localDir, options.now)).filter((l) => free(l.baseId)));
  for (const leftover of leftovers) {
    const entry: Leftover & { error?: string } = { ...leftover };
    if (!options.dryRun) {
      options.signal?.throwIfAborted();
      const removing =
        leftover.kind === "partial" ? storage.delete(leftover.name) : removeLocalLeftover(options.localDir!, leftover);
      await removing.catch((error: unknown) => (entry.error = messageOf(error)));
    }
    report.leftovers.push(entry);
  }
  return report;
}

/**
 * What keeps an archive from being called intact, or undefined: its zip central directory reads, and so
 * does manifest.json (CRC-32 checked, format 1 parsed) naming the base of its file name. Cheap (the
 * tail of the file, a few Range reads on S3); `verify` is the full check of every byte.
 */
export async function checkIntact(storage: Storage, archive: ArchiveName): Promise<string | undefined> {
  try {
    const label = pathIn(storage, archive.name);
    const zip = await openZip({ file: await storage.open(archive.name), label });
    try {
      const manifest = await readManifestOf(zip);
      if (manifest.base.id !== archive.baseId) return `${label}: its manifest names another base, ${manifest.base.id}`;
      return undefined;
    } finally {
      await zip.close();
    }
  } catch (error) {
    return messageOf(error);
  }
}

/** `<dir>/<name>` or `s3://bucket/<prefix><name>`, for messages. */
export function pathIn(storage: Pick<Storage, "label">, name: string): string {
  return `${storage.label.replace(/\/+$/, "")}/${name}`;
}

// --- internal ---

async function newestIntact(
  storage: Storage,
  decisions: readonly { archive: ArchiveName }[],
  onDamaged: PruneOptions["onDamaged"],
): Promise<string | undefined> {
  for (const { archive } of decisions) {
    const problem = await checkIntact(storage, archive);
    if (problem === undefined) return archive.name;
    onDamaged?.(archive.name, problem);
  }
  return undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
