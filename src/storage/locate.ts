// The one place an ARCHIVE argument becomes something to read: a local path stays a path; `s3://bucket/key`
// becomes an S3 object read by Range requests (inspect, verify) or fetched to a local file (restore).
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OpenedSource } from "../archive/zip-reader.ts";
import { resolveS3ForBucket } from "../config/s3-settings.ts";
import type { Config } from "../config/schema.ts";
import { AirbackupError } from "../errors.ts";
import { S3Storage } from "./s3.ts";
import { parseS3Url } from "./s3-client.ts";

export function isS3Url(arg: string): boolean {
  return arg.startsWith("s3://");
}

/** A local path as is; an s3:// URL opened for Range reads (credentials from the config or AWS_*). */
export async function openArchiveArg(arg: string, config: Config): Promise<string | OpenedSource> {
  if (!isS3Url(arg)) return arg;
  const { storage, name } = s3Object(arg, config);
  return { file: await storage.open(name), label: arg };
}

/**
 * A local file holding the archive: the path itself, or for s3:// a download into a stable temporary
 * place (so a restore's journal beside it lets a re-run resume); an existing complete copy is reused.
 */
export async function localCopyOf(arg: string, config: Config, signal?: AbortSignal): Promise<string> {
  if (!isS3Url(arg)) return arg;
  const { storage, name, bucket, key } = s3Object(arg, config);
  const remote = await storage.stat(name);
  if (!remote) throw new AirbackupError("S3_NOT_FOUND", `${arg}: no such object`);
  const dir = join(tmpdir(), "airbackup-s3", bucket, key.split("/").slice(0, -1).join("/"));
  const path = join(dir, name);
  const existing = await stat(path).catch(() => undefined);
  if (existing?.size === remote.size) return path;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const partial = `${path}.partial`;
  try {
    await Bun.write(partial, new Response(await storage.read(name, signal)));
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    if (signal?.aborted) throw signal.reason;
    throw error instanceof AirbackupError
      ? error
      : new AirbackupError("IO", `${arg}: cannot download to ${path}: ${(error as Error).message}`, { cause: error });
  }
  return path;
}

// --- internal ---

function s3Object(arg: string, config: Config) {
  const parsed = parseS3Url(arg);
  if (!parsed || parsed.key.endsWith("/"))
    throw new AirbackupError("USAGE", `${arg}: expected s3://bucket/key naming one archive`);
  const slash = parsed.key.lastIndexOf("/");
  const prefix = parsed.key.slice(0, slash + 1);
  const name = parsed.key.slice(slash + 1);
  const storage = new S3Storage({ ...resolveS3ForBucket(parsed.bucket, config), prefix });
  return { storage, name, bucket: parsed.bucket, key: parsed.key };
}
