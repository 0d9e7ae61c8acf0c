// Shared bits for the archive tests: temp dirs that clean themselves up, and a zip built in memory.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createZipWriter, type ZipWriterOptions } from "../../src/archive/zip-writer.ts";

/** A fresh temp directory, removed when the scope ends (`using dir = tempDir()`). */
export function tempDir(): { path: string; file(name: string): string; [Symbol.dispose](): void } {
  const path = mkdtempSync(join(tmpdir(), "airbackup-archive-"));
  return {
    path,
    file: (name) => join(path, name),
    [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }),
  };
}

export type EntrySpec = [
  name: string,
  data: Uint8Array | string | AsyncIterable<Uint8Array>,
  options?: { compress?: boolean | "auto"; contentType?: string },
];

/** Writes a zip to `path` with the streaming writer; returns each entry's result. */
export async function writeZip(path: string, entries: EntrySpec[], options: ZipWriterOptions = {}) {
  const chunks: Uint8Array[] = [];
  const zip = createZipWriter(
    { write: (c) => void chunks.push(c.slice()) },
    { now: new Date("2024-05-06T07:08:09Z"), ...options },
  );
  const results = [];
  for (const [name, data, o] of entries) results.push(await zip.addEntry(name, data, o));
  await zip.finish();
  await Bun.write(path, new Blob(chunks));
  return results;
}

export async function* chunked(text: string, size: number): AsyncIterable<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536) crypto.getRandomValues(out.subarray(at, Math.min(n, at + 65536)));
  return out;
}
