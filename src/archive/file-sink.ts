// A zip sink over a local file: buffers small writes, fsyncs on close, and can remove what it wrote.
import { type FileHandle, open, rm } from "node:fs/promises";
import { AirbackupError } from "../errors.ts";
import type { ZipSink } from "./zip-writer.ts";

export interface FileSink extends ZipSink {
  readonly path: string;
  /** Flushes, fsyncs and closes the file. */
  close(): Promise<void>;
  /** Closes (if open) and removes the file; never throws. */
  remove(): Promise<void>;
}

const BUFFER_BYTES = 1024 * 1024;

/**
 * Creates (or truncates) `path` with `mode` (default 0600) and returns a sink writing to it. With
 * `exclusive`, an existing file is an error instead: two runs never write into one file.
 */
export async function createFileSink(
  path: string,
  mode = 0o600,
  options: { exclusive?: boolean } = {},
): Promise<FileSink> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, options.exclusive ? "wx" : "w", mode);
    await handle.chmod(mode); // open's mode is filtered by the umask; the archive must be exactly `mode`
  } catch (error) {
    await handle?.close().catch(() => {});
    throw ioError(`cannot create ${path}`, error);
  }
  const file = handle;
  const buffer = new Uint8Array(BUFFER_BYTES);
  let used = 0;
  let closed = false;
  let draining = false;

  async function writeAll(bytes: Uint8Array): Promise<void> {
    try {
      for (let at = 0; at < bytes.length; ) at += (await file.write(bytes, at, bytes.length - at)).bytesWritten;
    } catch (error) {
      throw ioError(`cannot write ${path}`, error);
    }
  }
  // Writes are awaited one at a time (the zip writer's lane): the buffer is free again once drained.
  async function drain(): Promise<void> {
    if (used === 0) return;
    const full = buffer.subarray(0, used);
    used = 0;
    await writeAll(full);
  }

  return {
    path,
    async write(chunk) {
      if (closed) throw new Error(`${path} is closed`);
      if (draining) throw new Error(`${path}: a write while the previous one is still being written`);
      draining = used + chunk.length > BUFFER_BYTES;
      if (draining) await drain().finally(() => (draining = false));
      if (chunk.length >= BUFFER_BYTES) return writeAll(chunk);
      buffer.set(chunk, used);
      used += chunk.length;
    },
    async close() {
      if (closed) return;
      await drain();
      closed = true;
      try {
        await file.sync();
      } catch (error) {
        throw ioError(`cannot fsync ${path}`, error);
      } finally {
        await file.close();
      }
    },
    async remove() {
      if (!closed) {
        closed = true;
        await file.close().catch(() => {});
      }
      await rm(path, { force: true }).catch(() => {});
    },
  };
}

/** fsyncs a directory so a rename inside it survives a crash (a no-op where directories cannot be opened). */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // Windows cannot open a directory; the rename is still atomic there.
  } finally {
    await handle?.close().catch(() => {});
  }
}

// --- internal ---

function ioError(message: string, cause: unknown): AirbackupError {
  return new AirbackupError("IO", `${message}: ${(cause as Error).message ?? String(cause)}`, { cause });
}
