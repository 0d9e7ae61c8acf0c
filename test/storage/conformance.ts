// One behaviour for every Storage (restic's backend test suite, in small): each implementation's test
// file calls storageConformance() with a factory giving a fresh, empty storage.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AirbackupError } from "../../src/errors.ts";
import type { Storage } from "../../src/storage/storage.ts";

export interface ConformanceSubject {
  storage: Storage;
  /** Something that is not a direct object (a subdirectory / a deeper key) holding `name`. */
  putNested?(name: string, bytes: Uint8Array): Promise<void>;
  /** Unfinished writes the store still holds (S3: open multipart uploads); 0 for a clean store. */
  leftovers?(): Promise<number>;
  /** A size that needs more than one part (S3 multipart); small stores may use any size. */
  largeSize: number;
  cleanup(): Promise<void>;
}

export function storageConformance(title: string, make: () => Promise<ConformanceSubject>): void {
  describe(`Storage conformance: ${title}`, () => {
    let subject: ConformanceSubject;
    let s: Storage;
    beforeAll(async () => {
      subject = await make();
      s = subject.storage;
    });
    afterAll(() => subject?.cleanup());

    async function names(): Promise<string[]> {
      const out: string[] = [];
      for await (const o of s.list()) out.push(o.name);
      return out.sort();
    }
    async function clean(): Promise<void> {
      for (const n of await names()) await s.delete(n);
    }
    async function expectNothingLeft(): Promise<void> {
      expect(await names()).toEqual([]);
      if (subject.leftovers) expect(await subject.leftovers()).toBe(0);
    }

    test("an empty store lists nothing and stats nothing", async () => {
      await clean();
      expect(await names()).toEqual([]);
      expect(await s.stat("a-appAAAAAAAAAAAAAA-20260101T000000Z.zip")).toBeUndefined();
    });

    test("write, then stat, list, read and open give back the same bytes", async () => {
      await clean();
      const bytes = pseudoRandom(100_000, 1);
      const before = Date.now() - 5_000;
      const written = await s.write("one file.zip", streamOf(bytes, 7_000), { size: bytes.length });
      expect(written).toMatchObject({ name: "one file.zip", size: bytes.length });
      const st = await s.stat("one file.zip");
      expect(st?.size).toBe(bytes.length);
      expect(st!.modified.getTime()).toBeGreaterThan(before);
      expect(await names()).toEqual(["one file.zip"]);
      expect(sha(await collect(await s.read("one file.zip")))).toBe(sha(bytes));
      const file = await s.open("one file.zip");
      try {
        expect(file.size).toBe(bytes.length);
        expect(await file.read(0, 10)).toEqual(bytes.subarray(0, 10));
        expect(await file.read(54_321, 1_000)).toEqual(bytes.subarray(54_321, 55_321));
        expect(await file.read(bytes.length - 3, 3)).toEqual(bytes.subarray(bytes.length - 3));
        expect(await file.read(5, 0)).toEqual(new Uint8Array(0));
        await expect(file.read(bytes.length - 3, 4)).rejects.toMatchObject({ code: "ARCHIVE_CORRUPT" });
      } finally {
        await file.close();
      }
    });

    test("an empty object round-trips", async () => {
      await clean();
      await s.write("empty.zip", streamOf(new Uint8Array(0), 1));
      expect((await s.stat("empty.zip"))?.size).toBe(0);
      expect((await collect(await s.read("empty.zip"))).length).toBe(0);
    });

    test("a second write of a name replaces it whole", async () => {
      await clean();
      await s.write("x.zip", streamOf(pseudoRandom(5_000, 2), 1_000));
      const second = pseudoRandom(3_000, 3);
      await s.write("x.zip", streamOf(second, 999));
      expect(sha(await collect(await s.read("x.zip")))).toBe(sha(second));
      expect(await names()).toEqual(["x.zip"]);
    });

    test("a body larger than one part is stored whole", async () => {
      await clean();
      const bytes = pseudoRandom(subject.largeSize, 4);
      const written = await s.write("large.zip", streamOf(bytes, 1 << 20), { size: bytes.length });
      expect(written.size).toBe(bytes.length);
      expect(sha(await collect(await s.read("large.zip")))).toBe(sha(bytes));
      if (subject.leftovers) expect(await subject.leftovers()).toBe(0);
      await s.delete("large.zip");
    });

    test("a file (Bun.file) or Blob body is stored whole, large or small", async () => {
      await clean();
      const bytes = pseudoRandom(subject.largeSize, 12);
      const dir = await mkdtemp(join(tmpdir(), "airbackup-conformance-"));
      try {
        await writeFile(join(dir, "src.bin"), bytes);
        const file = Bun.file(join(dir, "src.bin"));
        expect((await s.write("from-file.zip", file, { size: file.size })).size).toBe(bytes.length);
        expect(sha(await collect(await s.read("from-file.zip")))).toBe(sha(bytes));
        const slice = file.slice(1000, 1000 + Math.floor(bytes.length / 2));
        await s.write("from-slice.zip", slice);
        expect(sha(await collect(await s.read("from-slice.zip")))).toBe(
          sha(bytes.subarray(1000, 1000 + Math.floor(bytes.length / 2))),
        );
        await s.write("from-blob.zip", new Blob([bytes.subarray(0, 777)]));
        expect(sha(await collect(await s.read("from-blob.zip")))).toBe(sha(bytes.subarray(0, 777)));
        if (subject.leftovers) expect(await subject.leftovers()).toBe(0);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    test("a body that fails midway leaves nothing behind, and the old object stays", async () => {
      await clean();
      const old = pseudoRandom(2_000, 5);
      await s.write("keep.zip", streamOf(old, 500));
      const failing = failingStream(pseudoRandom(subject.largeSize, 6), 1 << 20, subject.largeSize - (1 << 20));
      await expect(s.write("keep.zip", failing)).rejects.toThrow();
      await expect(s.write("new.zip", failingStream(pseudoRandom(1_000, 6), 100, 500))).rejects.toThrow();
      expect(await names()).toEqual(["keep.zip"]);
      expect(sha(await collect(await s.read("keep.zip")))).toBe(sha(old));
      if (subject.leftovers) expect(await subject.leftovers()).toBe(0);
    });

    test("an aborted write rejects and leaves nothing behind", async () => {
      await clean();
      const controller = new AbortController();
      const bytes = pseudoRandom(subject.largeSize, 7);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent >= bytes.length) return c.close();
          const chunk = bytes.subarray(sent, sent + (1 << 20));
          sent += chunk.length;
          if (sent > bytes.length / 2) controller.abort(new AirbackupError("INTERRUPTED", "interrupted"));
          c.enqueue(chunk);
        },
      });
      await expect(s.write("aborted.zip", body, { signal: controller.signal })).rejects.toMatchObject({
        code: "INTERRUPTED",
      });
      await expectNothingLeft();
    });

    test("a size that does not match what the body held is refused, nothing stored", async () => {
      await clean();
      await expect(s.write("short.zip", streamOf(pseudoRandom(1_000, 8), 100), { size: 1_001 })).rejects.toThrow();
      await expectNothingLeft();
    });

    test("delete removes; deleting an absent name is no error", async () => {
      await clean();
      await s.write("d.zip", streamOf(pseudoRandom(10, 9), 10));
      await s.delete("d.zip");
      await s.delete("d.zip");
      expect(await s.stat("d.zip")).toBeUndefined();
      expect(await names()).toEqual([]);
    });

    test("reading or opening an absent name is an error", async () => {
      await clean();
      await expect(s.read("absent.zip")).rejects.toBeInstanceOf(AirbackupError);
      await expect(s.open("absent.zip")).rejects.toBeInstanceOf(AirbackupError);
    });

    test("list shows direct objects only, many of them", async () => {
      await clean();
      if (subject.putNested) await subject.putNested("inner.zip", pseudoRandom(10, 10));
      const many = Array.from({ length: 23 }, (_, i) => `n${String(i).padStart(2, "0")}+é.zip`);
      for (const n of many) await s.write(n, streamOf(pseudoRandom(i32(n), 11), 64));
      expect(await names()).toEqual([...many].sort());
      expect(await s.stat("inner.zip")).toBeUndefined();
      await clean();
    });

    test("names that are not plain file names are refused", async () => {
      for (const bad of ["", ".", "..", "../x.zip", "a/b.zip", "a\\b.zip", "a\nb.zip"]) {
        for (const call of [
          () => s.stat(bad),
          () => s.delete(bad),
          () => s.open(bad),
          () => s.read(bad),
        ] as (() => Promise<unknown>)[])
          await expect(Promise.resolve().then(call)).rejects.toBeInstanceOf(AirbackupError);
      }
    });
  });
}

// --- helpers, exported for the implementations' own tests ---

export function pseudoRandom(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x;
    out[i + 1] = x >>> 8;
    out[i + 2] = x >>> 16;
    out[i + 3] = x >>> 24;
  }
  return out;
}

export function streamOf(bytes: Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}

export async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export function sha(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function failingStream(bytes: Uint8Array, chunk: number, failAt: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= failAt) return c.error(new Error("source failed"));
      c.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}

function i32(name: string): number {
  return 1 + (name.charCodeAt(1) % 7) * 10;
}
