// Bounded positional reads from a local file (pread); short reads mean the file is shorter than claimed.
import { type FileHandle, open } from "node:fs/promises";
import { AirbackupError } from "../errors.ts";

export interface RandomAccessFile {
  readonly size: number;
  /** Exactly `length` bytes from `offset`, or ARCHIVE_CORRUPT if the file ends first. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Fills `target` from `offset` (no allocation: for a buffer used again and again), as read() checks. */
  readInto?(target: Uint8Array, offset: number): Promise<void>;
  close(): Promise<void>;
}

export async function openRandomAccessFile(path: string, label = path): Promise<RandomAccessFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === "ENOENT"
        ? `${label}: no such file`
        : code === "EISDIR"
          ? `${label}: is a directory, not an archive`
          : `${label}: cannot open: ${(error as Error).message}`;
    throw new AirbackupError("IO", message, { cause: error });
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new AirbackupError(
      "IO",
      `${label}: ${stat.isDirectory() ? "is a directory" : "is not a regular file"}, not an archive`,
    );
  }
  const size = stat.size;
  async function readInto(bytes: Uint8Array, offset: number): Promise<void> {
    const length = bytes.length;
    if (offset < 0 || offset + length > size) {
      throw new AirbackupError(
        "ARCHIVE_CORRUPT",
        `${label}: truncated (needs bytes ${offset}..${offset + length} of a ${size}-byte file)`,
      );
    }
    for (let got = 0; got < length; ) {
      const { bytesRead } = await handle.read(bytes, got, length - got, offset + got);
      if (bytesRead === 0) throw new AirbackupError("ARCHIVE_CORRUPT", `${label}: truncated while reading`);
      got += bytesRead;
    }
  }
  return {
    size,
    async read(offset, length) {
      const bytes = new Uint8Array(Math.max(0, length));
      await readInto(bytes, length < 0 ? -1 : offset);
      return bytes;
    },
    readInto,
    close: () => handle.close(),
  };
}

/**
 * A local file's bytes, read into `into` again and again: every chunk but the last fills it, and each is
 * valid only until the next one is asked for (no allocation per chunk).
 */
export async function* fileChunks(path: string, into: Uint8Array): AsyncIterable<Uint8Array> {
  const file = await openRandomAccessFile(path);
  try {
    for (let at = 0; at < file.size; ) {
      const chunk = into.subarray(0, Math.min(into.length, file.size - at));
      await file.readInto?.(chunk, at);
      at += chunk.length;
      yield chunk;
    }
  } finally {
    await file.close();
  }
}
