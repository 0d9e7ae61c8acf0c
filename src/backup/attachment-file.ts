// Saving one attachment's bytes to a temp file while hashing them (sha256): from a download, whose body
// may stall, or from an earlier archive. A failure of the local file system is fatal, never retried.
import { type FileHandle, open } from "node:fs/promises";
import type { AirtableClient } from "../airtable/client.ts";
import { AirbackupError } from "../errors.ts";

export interface SavedFile {
  sha256: string;
  size: number;
}

/** Writes `chunks` to `path` (mode 0600), hashing them on the way. */
export async function saveChunks(
  chunks: AsyncIterable<Uint8Array>,
  path: string,
  onChunk?: (bytes: number) => void,
): Promise<SavedFile> {
  const hasher = new Bun.CryptoHasher("sha256");
  let file: FileHandle;
  try {
    file = await open(path, "w", 0o600);
  } catch (error) {
    throw localIoError(error, path);
  }
  let size = 0;
  try {
    for await (const chunk of chunks) {
      hasher.update(chunk);
      await file.write(chunk).catch((error: unknown) => {
        throw localIoError(error, path);
      });
      size += chunk.byteLength;
      onChunk?.(chunk.byteLength);
    }
  } finally {
    await file.close().catch((error: unknown) => {
      throw localIoError(error, path);
    });
  }
  return { sha256: hasher.digest("hex"), size };
}

/**
 * Downloads `url` to `path`. The client times out the wait for headers; a body that stops arriving for
 * `idleTimeoutMs` is abandoned here (a plain Error: the caller starts again), so a stalled connection
 * cannot hang a cron job.
 */
export async function downloadToFile(
  client: AirtableClient,
  url: string,
  path: string,
  signal: AbortSignal,
  idleTimeoutMs: number,
  onBytes?: (bytes: number) => void,
): Promise<SavedFile> {
  const idle = new AbortController();
  const response = await client.download(url, { signal: AbortSignal.any([signal, idle.signal]) });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () => idle.abort(new Error(`download stalled: no data for ${idleTimeoutMs / 1000} s`)),
      idleTimeoutMs,
    );
  };
  try {
    arm();
    const body = response.body ?? emptyBody();
    return await saveChunks(body as AsyncIterable<Uint8Array>, path, (bytes) => {
      arm();
      onBytes?.(bytes);
    });
  } catch (error) {
    await response.body?.cancel().catch(() => {});
    throw idle.signal.aborted && !signal.aborted ? idle.signal.reason : error;
  } finally {
    clearTimeout(timer);
  }
}

/** A failure of the local file system while saving a file (ENOSPC, EIO, EMFILE...): fatal, never retried. */
export function localIoError(error: unknown, path: string): AirbackupError {
  if (error instanceof AirbackupError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return new AirbackupError(
    "IO",
    `could not save a downloaded attachment to ${path}: ${typeof code === "string" && !message.includes(code) ? `${code} ` : ""}${message}`,
    {
      hint:
        code === "ENOSPC" || code === "EDQUOT"
          ? "the disk holding the output directory is full; free space and run the backup again"
          : code === "EMFILE" || code === "ENFILE"
            ? "too many open files; raise the limit (ulimit -n) or lower the download concurrency"
            : "check the output directory's file system and run the backup again",
      cause: error,
    },
  );
}

// --- internal ---

async function* emptyBody(): AsyncIterable<Uint8Array> {}
