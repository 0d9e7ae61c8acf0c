// Bounded positional reads from a local file (pread); short reads mean the file is shorter than claimed.
import { type FileHandle, open } from "node:fs/promises";
import { AirbackupError } from "../errors.ts";

export interface RandomAccessFile {
  readonly size: number;
  /** Exactly `length` bytes from `offset`, or ARCHIVE_CORRUPT if the file ends first. */
  read(offset: number, length: number): Promise<Uint8Array>;
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
  return {
    size,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > size) {
        throw new AirbackupError(
          "ARCHIVE_CORRUPT",
          `${label}: truncated (needs bytes ${offset}..${offset + length} of a ${size}-byte file)`,
        );
      }
      const bytes = new Uint8Array(length);
      for (let got = 0; got < length; ) {
        const { bytesRead } = await handle.read(bytes, got, length - got, offset + got);
        if (bytesRead === 0) throw new AirbackupError("ARCHIVE_CORRUPT", `${label}: truncated while reading`);
        got += bytesRead;
      }
      return bytes;
    },
    close: () => handle.close(),
  };
}
