// A file that holds its bytes already deflated (raw deflate, zip method 8), with their CRC-32, size, sha256
// and line count kept on the way: a table spooled so is compressed page by page while the listing waits on
// Airtable, and enters the archive as a copy (ZipWriter's `deflated` option), not a burst of CPU at the end.
import { type FileHandle, open } from "node:fs/promises";
import { Deflate } from "fflate";
import { crc32 } from "./crc32.ts";

export interface DeflatedContent {
  /** Where the raw deflate stream is. */
  path: string;
  crc32: number;
  /** Uncompressed bytes. */
  size: number;
  sha256: string;
  /** Newlines in the uncompressed bytes. */
  lines: number;
}

export interface DeflatedFile {
  /** Compresses and writes `bytes` (the writes are awaited one at a time). */
  append(bytes: Uint8Array): Promise<void>;
  /** Ends the deflate stream, fsyncs and closes: the file is ready to enter an archive. */
  finish(): Promise<DeflatedContent>;
  /** Closes without finishing (safe after finish). */
  close(): Promise<void>;
}

const PUSH_BYTES = 64 * 1024;

/** Creates (or truncates) `path`, mode 0600. */
export async function createDeflatedFile(path: string, level = 6): Promise<DeflatedFile> {
  const file: FileHandle = await open(path, "w", 0o600);
  const pending: Uint8Array[] = [];
  const deflater = new Deflate({ level: level as 6 }, (out) => pending.push(out));
  const hasher = new Bun.CryptoHasher("sha256");
  let crc = 0;
  let size = 0;
  let lines = 0;
  let closed = false;
  const flush = async () => {
    for (const out of pending.splice(0)) await file.write(out);
  };
  return {
    async append(bytes) {
      if (bytes.length === 0) return;
      crc = crc32(bytes, crc);
      hasher.update(bytes);
      size += bytes.length;
      for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) lines++;
      // In pieces: fflate grows its window buffer to fit what it is given at once.
      for (let at = 0; at < bytes.length; at += PUSH_BYTES) {
        deflater.push(bytes.subarray(at, at + PUSH_BYTES));
        await flush();
      }
    },
    async finish() {
      deflater.push(new Uint8Array(0), true);
      await flush();
      await file.sync();
      closed = true;
      await file.close();
      return { path, crc32: crc >>> 0, size, sha256: hasher.digest("hex"), lines };
    },
    async close() {
      if (closed) return;
      closed = true;
      await file.close();
    },
  };
}
