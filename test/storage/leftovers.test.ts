// Leftovers of killed runs: which names count, and the one-day age rule (a directory is as young as
// anything directly in it).
import { expect, test } from "bun:test";
import { mkdir, mkdtemp, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { archiveName } from "../../src/storage/archive-names.ts";
import { localLeftovers, partialLeftover, tempDirLeftovers } from "../../src/storage/leftovers.ts";

const A = "appAAAAAAAAAAAAAA";
const now = new Date("2026-12-01T12:00:00Z");
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);
const archive = archiveName("CRM", A, new Date("2026-11-28T03:00:00Z"));

test.each([
  [`${archive}.partial`, 25, "partial"],
  [`${archive}.4242-0a1b2c3d.partial`, 30, "partial"], // the local storage's temporary file
  [`${archive}.partial`, 23, undefined], // younger than a day
  ["notes.zip.partial", 100, undefined], // not an archive's
  [`${archive}`, 100, undefined],
  [`../${archive}.partial`, 100, undefined],
  [`${archive}.partial.bak`, 100, undefined],
])("%s, %d hours old: %s", (name, hours, kind) => {
  const found = partialLeftover({ name, size: 1, modified: hoursAgo(hours) }, now);
  expect(found?.kind).toBe(kind as "partial" | undefined);
  if (found)
    expect(found).toEqual({ name, baseId: A, kind: "partial", modified: hoursAgo(hours).toISOString(), hours });
});

test("temporary directories: old ones found, a recently written one and look-alikes left alone", async () => {
  const dir = await mkdtemp(join(tmpdir(), "airbackup-leftovers-"));
  const make = async (name: string, hours: number, inside?: number) => {
    await mkdir(join(dir, name));
    if (inside !== undefined) {
      await writeFile(join(dir, name, "spool.jsonl"), "{}\n");
      await utimes(join(dir, name, "spool.jsonl"), hoursAgo(inside), hoursAgo(inside));
    }
    await utimes(join(dir, name), hoursAgo(hours), hoursAgo(hours));
  };
  await make(`.airbackup-${A}-old111`, 48, 47);
  await make(`.airbackup-${A}-busy22`, 48, 1); // something in it was written an hour ago
  await make(".airbackup-notanid-x", 48);
  await make("airbackup-appAAAAAAAAAAAAAA-x", 48);
  await writeFile(join(dir, `.airbackup-${A}.lock`), "{}"); // a lock, not a directory
  await utimes(join(dir, `.airbackup-${A}.lock`), hoursAgo(48), hoursAgo(48));
  const found = await tempDirLeftovers(dir, now);
  expect(found.map((l) => [l.name, l.kind, l.hours])).toEqual([[`.airbackup-${A}-old111`, "temporary directory", 47]]);

  // localLeftovers: one base's partials and directories only.
  const other = archiveName("Ops", "appBBBBBBBBBBBBBB", new Date("2026-11-28T03:00:00Z"));
  for (const name of [`${archive}.partial`, `${other}.partial`]) {
    await writeFile(join(dir, name), "x");
    await utimes(join(dir, name), hoursAgo(30), hoursAgo(30));
  }
  const mine = await localLeftovers(dir, A, now);
  expect(mine.map((l) => l.name).sort()).toEqual([`${archive}.partial`, `.airbackup-${A}-old111`].sort());
  expect(await tempDirLeftovers(join(dir, "missing"), now)).toEqual([]);
});
