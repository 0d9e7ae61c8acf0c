// What surrounds one base's backup: the base's lock in the output directory (`.airbackup-<baseId>.lock`:
// one backup of a base per directory at a time, so a cron overlap exits 1 at once), the leftovers of its
// killed runs removed at start (more than a day old), and with --prune the retention policy applied in
// every place once the new archive is in place.
import { checkAirtableId } from "../airtable/ids.ts";
import { AirbackupError } from "../errors.ts";
import { localLeftovers, removeLocalLeftover } from "../storage/leftovers.ts";
import { acquireLock, backupLock, backupLockPath, type Lock } from "../storage/lock.ts";
import { pathIn, prunePlace } from "../storage/prune.ts";
import type { KeepPolicy } from "../storage/retention.ts";
import type { Storage } from "../storage/storage.ts";

export interface PruneSettings {
  policy: KeepPolicy;
  /** Where the base's archives live: the output directory, and the bucket when S3 is configured. */
  places: Storage[];
}

/** Takes the base's lock (or throws the one-line refusal), then removes its old leftovers. */
export async function lockBase(outDir: string, baseId: string, now: Date, notice: (m: string) => void): Promise<Lock> {
  checkAirtableId("base", baseId, "Airtable's list of bases"); // it becomes a file name
  const lock = acquireLock(backupLockPath(outDir, baseId), backupLock(baseId), notice);
  try {
    for (const leftover of await localLeftovers(outDir, baseId, now)) {
      await removeLocalLeftover(outDir, leftover);
      notice(`removed ${leftover.name}, a ${leftover.kind} left by a run killed ${leftover.hours} hours ago`);
    }
  } catch (error) {
    lock.release();
    throw new AirbackupError("IO", `cannot remove leftovers of ${baseId} in ${outDir}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return lock;
}

/** Applies the policy to this base in every place (the lock held); throws once all were tried if any removal failed. */
export async function pruneBase(
  settings: PruneSettings,
  baseId: string,
  now: Date,
  signal: AbortSignal,
  notice: (m: string) => void,
): Promise<void> {
  const failures: string[] = [];
  for (const place of settings.places) {
    signal.throwIfAborted();
    const report = await prunePlace(place, {
      policy: settings.policy,
      bases: new Set([baseId]),
      dryRun: false,
      now,
      signal,
    });
    for (const archive of report.archives) {
      if (archive.keep) continue;
      if (archive.error) failures.push(`${pathIn(place, archive.name)}: ${archive.error}`);
      else notice(`pruned ${pathIn(place, archive.name)} (${place.kind})`);
    }
    for (const leftover of report.leftovers)
      if (leftover.error) failures.push(`${pathIn(place, leftover.name)}: ${leftover.error}`);
  }
  if (failures.length > 0)
    throw new AirbackupError(
      "IO",
      `the archive is in place, but pruning failed: ${failures[0]}${failures.length > 1 ? ` (and ${failures.length - 1} more)` : ""}`,
    );
}
