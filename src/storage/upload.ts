// After a base's archive is written and verified locally: upload it to `<prefix><name>`. A failed upload
// fails that base and keeps the local archive; with keepLocal false the local copy goes only once the
// upload is confirmed (the stored object checked by S3Storage.write).
import { rm } from "node:fs/promises";
import { basename } from "node:path";
import { AirbackupError } from "../errors.ts";
import type { S3Storage } from "./s3.ts";

export interface UploadResult {
  /** Where the archive now lives for the user: the s3:// URL when the local copy was removed. */
  location: string;
  url: string;
}

export async function uploadArchive(
  storage: S3Storage,
  path: string,
  options: { keepLocal: boolean; signal: AbortSignal },
): Promise<UploadResult> {
  const name = basename(path);
  const url = storage.where(name);
  const file = Bun.file(path);
  try {
    await storage.write(name, file, { size: file.size, signal: options.signal });
  } catch (error) {
    if (options.signal.aborted) throw options.signal.reason;
    const reason = error instanceof AirbackupError ? error : undefined;
    throw new AirbackupError(
      reason?.code ?? "S3_FAILED",
      `upload to ${url} failed; the local archive is kept: ${path}: ${reason?.message ?? String(error)}`,
      {
        hint: reason?.hint,
        cause: error,
      },
    );
  }
  if (options.keepLocal) return { location: path, url };
  await rm(path, { force: true });
  return { location: url, url };
}
