// One run at a time per thing: a lock file created only if absent, holding `{ pid, host, startedAt }`.
// Used by backup (`.airbackup-<baseId>.lock` in the output directory: one backup per base and directory)
// and restore (`<journal>.lock`: one restore per journal). A second run refuses with one line (exit 1).
// A lock left by a process of this host that no longer runs (a crash, kill -9) is taken over with a notice.
// The file appears whole or not at all (written aside, then hard-linked into place), so a run that finds it
// always reads its owner.
import { randomBytes } from "node:crypto";
import { closeSync, linkSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { AirbackupError } from "../errors.ts";

export interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
}

export interface Lock {
  readonly path: string;
  /** Removes the lock file (only if it is still ours). */
  release(): void;
}

export interface LockDeps {
  pid: number;
  host: string;
  now: () => Date;
  /** Whether a process of this host runs with that pid. */
  isAlive: (pid: number) => boolean;
}

/** What the lock guards, for messages: "restore" / "another restore into this base is running". */
export interface LockPurpose {
  /** Names the lock in notices: "the restore lock", "the backup lock of appX". */
  name: string;
  /** Starts the refusal: "another restore into this base is running". */
  busy: string;
}

/** The restore lock of a journal. */
export function restoreLockPath(journalPath: string): string {
  return `${journalPath}.lock`;
}

/** The backup lock of a base in an output directory. */
export function backupLockPath(outDir: string, baseId: string): string {
  return join(outDir, `.airbackup-${baseId}.lock`);
}

export const RESTORE_LOCK: LockPurpose = {
  name: "the restore lock",
  busy: "another restore into this base is running",
};

export function backupLock(baseId: string): LockPurpose {
  return { name: `the backup lock of ${baseId}`, busy: `another backup of ${baseId} into this directory is running` };
}

export function acquireLock(
  path: string,
  purpose: LockPurpose,
  notice: (message: string) => void,
  deps: Partial<LockDeps> = {},
): Lock {
  const me: LockOwner = {
    pid: deps.pid ?? process.pid,
    host: deps.host ?? hostname(),
    startedAt: (deps.now ?? (() => new Date()))().toISOString(),
  };
  const isAlive = deps.isAlive ?? processIsAlive;
  const content = `${JSON.stringify(me)}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      createWhole(path, content);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new AirbackupError("IO", `cannot create ${purpose.name} ${path}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const owner = readOwner(path);
      if (owner === "gone") continue; // released between our open and our read
      const stale = owner && owner.host === me.host && !isAlive(owner.pid);
      if (!stale || attempt > 0) throw held(path, owner, purpose);
      notice(
        `taking over ${purpose.name} ${path}: process ${owner.pid} on ${owner.host} (started ${owner.startedAt}) no longer runs`,
      );
      // Only the file judged stale goes: a run that took it over meanwhile has rewritten it.
      const now = readOwner(path);
      if (now !== "gone" && now !== null && JSON.stringify(now) === JSON.stringify(owner))
        rmSync(path, { force: true });
      continue;
    }
    return {
      path,
      release() {
        try {
          if (readFileSync(path, "utf8") === content) rmSync(path, { force: true });
        } catch {
          // already gone
        }
      },
    };
  }
}

/** Whether a lock file exists and its owner may still run (another host, a live pid, or unreadable). */
export function isLockHeld(path: string, deps: Partial<LockDeps> = {}): boolean {
  const owner = readOwner(path);
  if (owner === "gone") return false;
  if (owner === null) return true;
  return owner.host !== (deps.host ?? hostname()) || (deps.isAlive ?? processIsAlive)(owner.pid);
}

// --- internal ---

/** Creates `path` holding `content`, or throws EEXIST; no reader ever sees it empty or half-written. */
function createWhole(path: string, content: string): void {
  const aside = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(aside, content, { mode: 0o600, flag: "wx" });
  try {
    linkSync(aside, path); // atomic, and fails with EEXIST when the lock is there
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS") throw error;
    // A filesystem without hard links (FAT, some network shares): create exclusively, then write.
    // A reader may then see it empty for a moment, and refuses as for an unreadable lock.
    const fd = openSync(path, "wx", 0o600);
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(aside, { force: true });
  }
}

/** The lock's owner; null when unreadable (being written, or damaged); "gone" when the file vanished. */
function readOwner(path: string): LockOwner | null | "gone" {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    return null;
  }
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid === "number" && typeof o.host === "string" && typeof o.startedAt === "string") {
      return { pid: o.pid, host: o.host, startedAt: o.startedAt };
    }
  } catch {
    // fall through
  }
  return null;
}

function held(path: string, owner: LockOwner | null, purpose: LockPurpose): AirbackupError {
  const who = owner
    ? `process ${owner.pid} on ${owner.host} (started ${owner.startedAt})`
    : "another process (its lock file is unreadable; remove it if nothing runs)";
  return new AirbackupError("IO", `${purpose.busy}: ${who} holds ${path}`);
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // exists, but not ours to signal
  }
}
