// Two restores into one base at once: the second refuses with one line (exit 1); the lock goes at the
// end; a lock left by a dead process of this host is taken over with a notice.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { AirbackupError, exitCodeFor, formatError } from "../../src/errors.ts";
import {
  acquireLock,
  backupLock,
  backupLockPath,
  isLockHeld,
  RESTORE_LOCK,
  restoreLockPath,
} from "../../src/storage/lock.ts";

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "airbackup-lock-"));
  path = restoreLockPath(join(dir, "a.zip.restore-appX.journal.jsonl"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("a second restore while the first holds the lock exits 1 with one line", () => {
  const first = acquireLock(path, RESTORE_LOCK, () => {});
  const owner = JSON.parse(readFileSync(path, "utf8"));
  expect(owner).toMatchObject({ pid: process.pid, host: hostname() });
  expect(typeof owner.startedAt).toBe("string");
  let error: unknown;
  try {
    acquireLock(path, RESTORE_LOCK, () => {});
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(AirbackupError);
  expect(exitCodeFor(error)).toBe(1);
  const text = formatError(error);
  expect(text.split("\n")).toHaveLength(1);
  expect(text).toContain(`process ${process.pid}`);
  first.release();
});

test("the lock is removed at the end, and can be taken again", () => {
  const lock = acquireLock(path, RESTORE_LOCK, () => {});
  expect(existsSync(path)).toBe(true);
  lock.release();
  expect(existsSync(path)).toBe(false);
  acquireLock(path, RESTORE_LOCK, () => {}).release();
});

test("a lock of a dead pid on this host is taken over with a notice", () => {
  writeFileSync(path, JSON.stringify({ pid: 999_999_999, host: hostname(), startedAt: "2024-01-01T00:00:00.000Z" }));
  const notices: string[] = [];
  const lock = acquireLock(path, RESTORE_LOCK, (m) => notices.push(m), { isAlive: () => false });
  expect(notices).toHaveLength(1);
  expect(notices[0]).toContain("process 999999999");
  expect(JSON.parse(readFileSync(path, "utf8")).pid).toBe(process.pid);
  lock.release();
});

test("a lock of another host, or of a live pid, is never taken over", () => {
  writeFileSync(path, JSON.stringify({ pid: 12345, host: "other-host", startedAt: "2024-01-01T00:00:00.000Z" }));
  expect(() => acquireLock(path, RESTORE_LOCK, () => {}, { isAlive: () => false })).toThrow(/other-host/);
  writeFileSync(path, JSON.stringify({ pid: 12345, host: hostname(), startedAt: "2024-01-01T00:00:00.000Z" }));
  expect(() => acquireLock(path, RESTORE_LOCK, () => {}, { isAlive: () => true })).toThrow(/process 12345/);
  expect(JSON.parse(readFileSync(path, "utf8")).pid).toBe(12345); // untouched
});

test("release leaves a lock that is no longer ours alone", () => {
  const lock = acquireLock(path, RESTORE_LOCK, () => {});
  writeFileSync(path, JSON.stringify({ pid: 1, host: "someone-else", startedAt: "x" }));
  lock.release();
  expect(existsSync(path)).toBe(true);
});

test("the backup lock of a base: its own file in the output directory, its own message", () => {
  const base = "appAAAAAAAAAAAAAA";
  const file = backupLockPath(dir, base);
  expect(file).toBe(join(dir, `.airbackup-${base}.lock`));
  const first = acquireLock(file, backupLock(base), () => {});
  expect(() => acquireLock(file, backupLock(base), () => {})).toThrow(
    `another backup of ${base} into this directory is running: process ${process.pid} on ${hostname()}`,
  );
  // Another base's lock is independent.
  acquireLock(backupLockPath(dir, "appBBBBBBBBBBBBBB"), backupLock("appBBBBBBBBBBBBBB"), () => {}).release();
  first.release();
});

test("isLockHeld: absent or a dead pid of this host is free; a live pid, another host or garbage is held", () => {
  expect(isLockHeld(path)).toBe(false);
  writeFileSync(path, JSON.stringify({ pid: 12345, host: hostname(), startedAt: "2024-01-01T00:00:00.000Z" }));
  expect(isLockHeld(path, { isAlive: () => false })).toBe(false);
  expect(isLockHeld(path, { isAlive: () => true })).toBe(true);
  writeFileSync(path, JSON.stringify({ pid: 12345, host: "other-host", startedAt: "2024-01-01T00:00:00.000Z" }));
  expect(isLockHeld(path, { isAlive: () => false })).toBe(true);
  writeFileSync(path, "{");
  expect(isLockHeld(path)).toBe(true);
});

test("another process never sees the lock file without its owner: it appears whole or not at all", async () => {
  // A run that finds the file half-written would refuse with "unreadable; remove it if nothing runs", advice
  // that, taken, lets two backups run at once. A child takes and releases the lock over and over; we read.
  const child = Bun.spawn(
    [
      process.execPath,
      "-e",
      `const { acquireLock, RESTORE_LOCK } = await import(${JSON.stringify(join(import.meta.dir, "../../src/storage/lock.ts"))});
       const until = Date.now() + 1500;
       while (Date.now() < until) acquireLock(${JSON.stringify(path)}, RESTORE_LOCK, () => {}).release();`,
    ],
    { stdout: "inherit", stderr: "inherit" },
  );
  let seen = 0;
  let partial = 0;
  const until = Date.now() + 1500;
  while (Date.now() < until) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      continue; // absent: released, or not yet taken
    }
    seen++;
    if (!text.endsWith("}\n")) partial++;
  }
  expect(await child.exited).toBe(0);
  expect(seen).toBeGreaterThan(100); // the race was really run
  expect(partial).toBe(0);
});
