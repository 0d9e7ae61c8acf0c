// Where archives live, from the config: the output directory, and the S3 bucket (`<prefix>`) when `s3:`
// is configured; or one place named on the command line (a directory, or `s3://bucket/prefix/`).
import { resolveS3, resolveS3ForBucket } from "../config/s3-settings.ts";
import type { Config } from "../config/schema.ts";
import { AirbackupError } from "../errors.ts";
import { LocalStorage } from "./local.ts";
import { S3Storage } from "./s3.ts";
import type { Storage } from "./storage.ts";

/** The output directory, then the configured bucket if any. */
export function archivePlaces(config: Config, outDir: string): Storage[] {
  const s3 = resolveS3(config);
  return [new LocalStorage(outDir), ...(s3 ? [new S3Storage(s3)] : [])];
}

/** A directory, or `s3://bucket/prefix/` (keys and endpoint from the config or AWS_*), as a place. */
export function placeOf(arg: string, config: Config): Storage {
  if (!arg.startsWith("s3://")) return new LocalStorage(arg);
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(arg);
  if (!m) throw new AirbackupError("USAGE", `${arg}: expected s3://bucket/ or s3://bucket/prefix/`);
  const [, bucket, key] = m as unknown as [string, string, string];
  const prefix = key === "" || key.endsWith("/") ? key : `${key}/`;
  return new S3Storage({ ...resolveS3ForBucket(bucket, config), prefix });
}
