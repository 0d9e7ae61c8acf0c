// The one place S3 settings are resolved: the config's `s3:` first, then the usual AWS_* variables.
import { AirbackupError } from "../errors.ts";
import type { S3Settings } from "../storage/s3-client.ts";
import type { Config } from "./schema.ts";

type Env = Record<string, string | undefined>;

/** The configured bucket's settings, or undefined when the config has no `s3:`. */
export function resolveS3(config: Config, env: Env = process.env): S3Settings | undefined {
  if (!config.s3) return undefined;
  return settingsFor(config.s3.bucket, config.s3.prefix, config, env);
}

/**
 * Settings to read `s3://bucket/...`: the config's endpoint, region and keys when its bucket is that one
 * (or when the config names no bucket), else the environment's.
 */
export function resolveS3ForBucket(bucket: string, config: Config, env: Env = process.env): S3Settings {
  return settingsFor(
    bucket,
    "",
    config.s3?.bucket === bucket || !config.s3 ? config : { ...config, s3: undefined },
    env,
  );
}

// --- internal ---

function settingsFor(bucket: string, prefix: string, config: Config, env: Env): S3Settings {
  const s3 = config.s3;
  const region = s3?.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1";
  const endpoint = (
    s3?.endpoint ||
    env.AWS_ENDPOINT_URL_S3 ||
    env.AWS_ENDPOINT_URL ||
    `https://s3.${region}.amazonaws.com`
  ).replace(/\/+$/, "");
  const accessKeyId = s3?.accessKeyId || env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = s3?.secretAccessKey || env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey)
    throw new AirbackupError("CONFIG_MISSING", "no S3 keys", {
      hint: "set s3.accessKeyId and s3.secretAccessKey in the config, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    });
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    throw new AirbackupError("CONFIG_INVALID", `S3 endpoint: expected a URL like https://s3.eu-west-1.amazonaws.com`);
  }
  const isIp = /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.startsWith("[");
  return {
    endpoint,
    region,
    bucket,
    prefix,
    pathStyle: s3?.pathStyle ?? isIp,
    accessKeyId,
    secretAccessKey,
    // A session token belongs to the environment's keys only.
    sessionToken: s3?.accessKeyId ? undefined : env.AWS_SESSION_TOKEN || undefined,
  };
}
