// `airbackup export ARCHIVE -o TARGET`: an archive into SQLite (default), PostgreSQL, or a directory of CSV or
// NDJSON files. The summary goes to stderr (or JSON on stdout with --json); exit 3 when values did not fit.
import { defineCommand } from "citty";
import { AirbackupError, EXIT } from "../errors.ts";
import { postgresTarget, redactUrl } from "../export/postgres.ts";
import { type ExportEvent, type ExportReport, runExport } from "../export/run.ts";
import type { ExportTarget } from "../export/target.ts";
import { configureLog } from "../log.ts";
import { printable } from "../printable.ts";
import { shutdownSignal } from "../shutdown.ts";
import { isS3Url, openArchiveArg } from "../storage/locate.ts";
import { commonArgs, repeated } from "./args.ts";

const FORMATS = ["sqlite", "postgres", "csv", "ndjson"] as const;
type Format = (typeof FORMATS)[number];

export default defineCommand({
  meta: { name: "export", description: "Export an archive to SQLite (default), PostgreSQL, CSV or NDJSON" },
  args: {
    ...commonArgs,
    archive: {
      type: "positional",
      required: true,
      description: "The archive (.zip path or s3://bucket/key) to export",
    },
    out: {
      type: "string",
      alias: "o",
      description: "Target: a .db/.sqlite/.sqlite3 file, a postgres:// URL, or a directory (csv, ndjson)",
    },
    format: { type: "string", description: "sqlite|postgres|csv|ndjson (inferred from -o where it is clear)" },
    files: { type: "boolean", description: "Also export the attachment files' bytes" },
    table: { type: "string", alias: "t", description: "Only this archived table, by name or id (repeatable)" },
    schema: { type: "string", description: "PostgreSQL schema (default: the base's name as a slug)" },
    replace: { type: "boolean", description: "Replace an earlier export in the target (in one transaction)" },
  },
  async run({ args, rawArgs }) {
    const log = configureLog({ quiet: args.quiet, verbose: args.verbose, json: args.json });
    if (!args.out)
      throw new AirbackupError("USAGE", "-o TARGET is required (a .db file, a postgres:// URL or a directory)");
    const format = formatOf(args.out, args.format);
    if (args.schema !== undefined && format !== "postgres")
      throw new AirbackupError("USAGE", "--schema applies to PostgreSQL targets only");
    const fromS3 = isS3Url(args.archive);
    if (!fromS3 && !(await Bun.file(args.archive).exists()))
      throw new AirbackupError("USAGE", `${args.archive}: no such archive`);
    // Each target's module, and the config code (YAML, schema), are loaded only when used: they were most of
    // the start-up time of an export (about 0.1 s of CPU).
    const target: ExportTarget =
      format === "sqlite"
        ? (await import("../export/sqlite.ts")).sqliteTarget(args.out)
        : format === "postgres"
          ? postgresTarget(args.out, args.schema)
          : (await import("../export/directory.ts")).directoryTarget(args.out, format);
    const progress = process.stderr.isTTY && !args.quiet && !args.json ? progressLine() : undefined;
    let report: ExportReport;
    try {
      report = await runExport({
        // s3://: read with Range requests (credentials from the config's s3: or AWS_*)
        archive: fromS3 ? await openS3Archive(args.archive, args.config) : args.archive,
        target,
        tables: repeated(rawArgs, "--table", "-t"),
        files: args.files === true,
        replace: args.replace === true,
        signal: shutdownSignal,
        onEvent: (event) => {
          if (event.type === "table") log.debug(printable(`exporting ${event.table}: ${event.records} records`));
          progress?.(event);
        },
      });
    } finally {
      progress?.({ type: "files", count: -1 });
    }
    if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      const records = report.tables.reduce((sum, t) => sum + t.records, 0);
      log.info(
        printable(
          `exported ${report.base.name} (${report.base.id}) to ${report.target}: ${report.tables.length} tables, ${records} records${args.files ? `, ${report.files} files` : ""}`,
        ),
      );
      for (const note of report.notes) log.info(printable(note));
      for (const warning of report.warnings) log.warn(printable(warning));
    }
    process.exitCode = report.warnings.length > 0 ? EXIT.warnings : EXIT.ok;
  },
});

// --- internal ---

async function openS3Archive(archive: string, configPath: string | undefined) {
  const { loadConfig } = await import("../config/load.ts");
  return openArchiveArg(archive, (await loadConfig(configPath)).config);
}

function formatOf(out: string, format: string | undefined): Format {
  if (format !== undefined) {
    const f = format === "postgresql" ? "postgres" : format;
    if (!(FORMATS as readonly string[]).includes(f))
      throw new AirbackupError("USAGE", `--format ${format}: expected sqlite, postgres, csv or ndjson`);
    if ((f === "postgres") !== /^postgres(ql)?:\/\//.test(out))
      throw new AirbackupError(
        "USAGE",
        f === "postgres"
          ? `--format postgres needs -o postgres://user@host:5432/db, not ${redactUrl(out)}`
          : `-o ${redactUrl(out)} is a PostgreSQL URL: use --format postgres`,
      );
    return f as Format;
  }
  if (/^postgres(ql)?:\/\//.test(out)) return "postgres";
  if (/\.(db|sqlite|sqlite3)$/i.test(out)) return "sqlite";
  throw new AirbackupError("USAGE", `cannot tell the format of -o ${out}: add --format sqlite, csv or ndjson`);
}

/** A progress line on a TTY: records done of all, and their rate. */
function progressLine(): (event: ExportEvent) => void {
  let total = 0;
  let done = 0;
  let files = 0;
  let last = 0;
  const started = performance.now();
  return (event) => {
    if (event.type === "files" && event.count < 0) {
      if (last) process.stderr.write("\r\x1b[2K");
      return;
    }
    if (event.type === "start") total = event.records;
    else if (event.type === "records") done += event.count;
    else if (event.type === "files") files = event.count;
    const now = performance.now();
    if (now - last < 100) return;
    last = now;
    const rate = Math.round(done / Math.max(0.001, (now - started) / 1000));
    process.stderr.write(`\r\x1b[2Kexport: ${done}/${total} records (${rate}/s)${files ? `, ${files} files` : ""}`);
  };
}
