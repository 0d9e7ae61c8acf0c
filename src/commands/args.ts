// Argument groups shared by several commands.
import type { ArgsDef } from "citty";
import { idExample, isAirtableId } from "../airtable/ids.ts";
import { AirbackupError } from "../errors.ts";

export const commonArgs = {
  config: { type: "string", alias: "c", description: "Config file (default ./airbackup.yaml, else $AIRBACKUP_CONFIG)" },
  quiet: { type: "boolean", alias: "q", description: "Only warnings and errors on stderr" },
  verbose: { type: "boolean", description: "Debug logging, and stack traces on errors" },
  json: { type: "boolean", description: "Machine-readable output: JSON on stdout, JSON log lines on stderr" },
} as const satisfies ArgsDef;

/** `-o, --out DIR`: where archives are written and looked for. */
export const outArg = {
  type: "string",
  alias: "o",
  description: "The archive directory (default: output.dir of the config, else ./backups)",
} as const satisfies ArgsDef[string];

/** citty keeps only the last value of a repeated flag: every value of `--long X`, `--long=X` or `-s X`. */
export function repeated(rawArgs: string[], long: string, short: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (arg === "--") break;
    if ((arg === long || arg === short) && rawArgs[i + 1] !== undefined) values.push(rawArgs[++i]!);
    else if (arg.startsWith(`${long}=`)) values.push(arg.slice(long.length + 1));
  }
  return values;
}

/** The set of bases named with --base (checked), or undefined for all. */
export function baseFilter(ids: string[]): Set<string> | undefined {
  for (const id of ids)
    if (!isAirtableId("base", id))
      throw new AirbackupError("USAGE", `--base ${id}: expected a base id like ${idExample("base")}`);
  return ids.length > 0 ? new Set(ids) : undefined;
}
