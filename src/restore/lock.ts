// One restore at a time per journal: `<journal>.lock` next to the journal, created exclusively ("wx")
// and holding `{ pid, host, startedAt }`. A second run refuses with one line (exit 1). A lock left by a
// process of this host that no longer runs (a crash, kill -9) is taken over with a notice.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { AirbackupError } from "../errors.ts";

export interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
}

export interface RestoreLock {
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

export function lockPath(journalPath: string): string {
  return `${journalPath}.lock`;
}

export function acquireLock(
  path: string,
  notice: (message: string) => void,
  deps: Partial<LockDeps> = {},
): RestoreLock {
  const me: LockOwner = {
    pid: deps.pid ?? process.pid,
    host: deps.host ?? hostname(),
    startedAt: (deps.now ?? (() => new Date()))().toISOString(),
  };
  const isAlive = deps.isAlive ?? processIsAlive;
  const content = `${JSON.stringify(me)}\n`;
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, "wx", 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new AirbackupError("IO", `cannot create the restore lock ${path}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const owner = readOwner(path);
      if (owner === "gone") continue; // released between our open and our read
      const stale = owner && owner.host === me.host && !isAlive(owner.pid);
      if (!stale || attempt > 0) throw held(path, owner);
      notice(
        `taking over the restore lock ${path}: process ${owner.pid} on ${owner.host} (started ${owner.startedAt}) no longer runs`,
      );
      rmSync(path, { force: true });
      continue;
    }
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    return {
      path,
      release() {
        if (readOwner(path) === "gone") return;
        try {
          if (readFileSync(path, "utf8") === content) rmSync(path, { force: true });
        } catch {
          // already gone
        }
      },
    };
  }
}

// --- internal ---

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

function held(path: string, owner: LockOwner | null): AirbackupError {
  const who = owner
    ? `process ${owner.pid} on ${owner.host} (started ${owner.startedAt})`
    : "another process (its lock file is unreadable; remove it if no restore runs)";
  return new AirbackupError("IO", `another restore into this base is running: ${who} holds ${path}`);
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // exists, but not ours to signal
  }
}
