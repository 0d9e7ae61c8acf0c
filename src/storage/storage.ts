// Where archives live. One small interface, two implementations (the local output directory and an
// S3-compatible bucket), one conformance suite run against both (test/storage/conformance.ts), in the
// manner of restic's internal/backend. Names are plain file names (`<slug>-<baseId>-<stamp>.zip`,
// `.partial` leftovers, ...); an implementation maps them to a path or to `<prefix><name>`.
import type { RandomAccessFile } from "../archive/random-access-file.ts";
import { AirbackupError } from "../errors.ts";

export interface StoredObject {
  /** File name within the storage (no directory, no S3 prefix). */
  readonly name: string;
  readonly size: number;
  /** Last modification as the storage reports it (mtime, S3 LastModified). */
  readonly modified: Date;
}

export interface Storage {
  /** `local` or `s3`: what `list` prints in its "where" column. */
  readonly kind: "local" | "s3";
  /** Human label without secrets: the directory, or `s3://bucket/prefix`. */
  readonly label: string;
  /** Every object directly in this storage (not in subdirectories / deeper prefixes). */
  list(): AsyncIterable<StoredObject>;
  /** The object, or undefined when absent. */
  stat(name: string): Promise<StoredObject | undefined>;
  /** Random access for the zip reader (bounded Range reads); close() when done. */
  open(name: string): Promise<RandomAccessFile>;
  /** The whole object as a stream, read once. */
  read(name: string, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>>;
  /**
   * Writes atomically: readers see either no object or the whole one, never a part. On failure or
   * abort nothing is left behind (a local temporary file is removed, an S3 multipart upload aborted).
   */
  write(
    name: string,
    /** A stream, or a file (`Bun.file(path)`) / Blob, which S3 sends in slices without copying it. */
    body: ReadableStream<Uint8Array> | Blob,
    options?: { size?: number; signal?: AbortSignal },
  ): Promise<StoredObject>;
  /** Removes the object; absent is not an error. */
  delete(name: string): Promise<void>;
}

/** Names are plain file names: no separators, not `.`/`..`, no control characters. */
export function checkStorageName(name: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (!name || name === "." || name === ".." || /[/\\\u0000-\u001f]/.test(name))
    throw new AirbackupError("USAGE", `not a plain file name: ${JSON.stringify(name)}`);
}
