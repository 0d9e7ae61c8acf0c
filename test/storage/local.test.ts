import { expect, test } from "bun:test";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalStorage } from "../../src/storage/local.ts";
import { pseudoRandom, storageConformance, streamOf } from "./conformance.ts";

storageConformance("local directory", async () => {
  const dir = await mkdtemp(join(tmpdir(), "airbackup-local-"));
  return {
    storage: new LocalStorage(dir),
    largeSize: 3 * 1024 * 1024,
    async putNested(name, bytes) {
      await mkdir(join(dir, "sub"), { recursive: true });
      await writeFile(join(dir, "sub", name), bytes);
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

test("local: a written file has mode 0600 and no temporary file stays beside it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "airbackup-local-"));
  try {
    const s = new LocalStorage(dir);
    const old = process.umask(0);
    try {
      await s.write("m.zip", streamOf(pseudoRandom(1000, 1), 100));
    } finally {
      process.umask(old);
    }
    if (process.platform !== "win32") expect((await stat(join(dir, "m.zip"))).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["m.zip"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("local: an absent output directory lists as empty", async () => {
  const s = new LocalStorage(join(tmpdir(), "airbackup-absent-dir-never-made"));
  const seen: string[] = [];
  for await (const o of s.list()) seen.push(o.name);
  expect(seen).toEqual([]);
});
