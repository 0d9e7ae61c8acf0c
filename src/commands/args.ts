// Argument groups shared by several commands.
import type { ArgsDef } from "citty";

export const commonArgs = {
  config: { type: "string", alias: "c", description: "Config file (default ./airbackup.yaml, else $AIRBACKUP_CONFIG)" },
  quiet: { type: "boolean", alias: "q", description: "Only warnings and errors on stderr" },
  verbose: { type: "boolean", description: "Debug logging, and stack traces on errors" },
  json: { type: "boolean", description: "Machine-readable output: JSON on stdout, JSON log lines on stderr" },
} as const satisfies ArgsDef;
