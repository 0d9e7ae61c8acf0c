// `airbackup backup`: every configured base (or --base) into one verified archive each; paths on stdout.

import { mkdir } from "node:fs/promises";
import { defineCommand } from "citty";
import type { ConsolaInstance } from "consola";
import pkg from "../../package.json" with { type: "json" };
import { idExample, isAirtableId } from "../airtable/ids.ts";
import type { BaseTarget } from "../backup/discover.ts";
import { type PruneSettings, pruneBase } from "../backup/housekeeping.ts";
import { type BackupEvent, type BaseReport, runBackup } from "../backup/run.ts";
import { loadConfig, resolveAirtable } from "../config/load.ts";
import { resolveS3 } from "../config/s3-settings.ts";
import { AirbackupError, EXIT, exitCodeFor, formatError } from "../errors.ts";
import { configureLog } from "../log.ts";
import { createProgress } from "../progress.ts";
import { shutdownSignal } from "../shutdown.ts";
import { LocalStorage } from "../storage/local.ts";
import type { KeepPolicy } from "../storage/retention.ts";
import { S3Storage } from "../storage/s3.ts";
import type { Storage } from "../storage/storage.ts";
import { uploadArchive } from "../storage/upload.ts";
import { commonArgs, outArg, repeated } from "./args.ts";

export default defineCommand({
  meta: {
    name: "backup",
    description: "Back up bases into verified zip archives (one per base); prints each archive's path",
  },
  args: {
    ...commonArgs,
    base: {
      type: "string",
      alias: "b",
      description: "Base id to back up (repeatable); default: the config's bases, else every base",
    },
    table: { type: "string", alias: "t", description: "Table name or id (repeatable; needs exactly one base)" },
    out: outArg,
    attachments: {
      type: "boolean",
      default: true,
      description: "Download attachment files (--no-attachments skips them)",
    },
    full: {
      type: "boolean",
      default: false,
      description: "Download every attachment, even those an earlier archive of the base already holds",
    },
    upload: {
      type: "boolean",
      default: true,
      description: "Upload each archive to the config's s3: bucket (--no-upload skips it for this run)",
    },
    prune: {
      type: "boolean",
      description: "Apply output.keep to each base right after its backup succeeded (default: prune: in the config)",
    },
  },
  async run({ args, rawArgs }) {
    // Cron wants silence when all is well: without a TTY, only warnings and errors unless --verbose.
    const interactive = process.stderr.isTTY === true && !args.json;
    const log = configureLog({
      quiet: args.quiet || (!interactive && !args.verbose && !args.json),
      verbose: args.verbose,
      json: args.json,
    });
    const { config, warnings } = await loadConfig(args.config);
    for (const warning of warnings) log.warn(warning);
    const airtable = resolveAirtable(config);
    const s3Settings = args.upload !== false ? resolveS3(config) : undefined;
    const s3 = s3Settings && new S3Storage(s3Settings);
    const targets = resolveTargets(config.bases, repeated(rawArgs, "--base", "-b"), repeated(rawArgs, "--table", "-t"));
    const outDir = args.out ?? config.output.dir;
    const prune = pruneSettings(args.prune ?? config.prune, config.output.keep, [
      new LocalStorage(outDir),
      ...(s3 ? [s3] : []),
    ]);
    await mkdir(outDir, { recursive: true }).catch((error: unknown) => {
      throw new AirbackupError("IO", `cannot create the output directory ${outDir}: ${(error as Error).message}`, {
        cause: error,
      });
    });

    const progress = interactive && !args.quiet ? createProgress() : undefined;
    const onEvent = (event: BackupEvent) => {
      if (event.type === "warning" || event.type === "notice" || event.type === "base-done") progress?.clear();
      progress?.update(event);
      if (event.type === "warning") log.warn(event.message);
      else if (event.type === "notice") event.attention ? log.warn(event.message) : log.info(event.message);
      else if (event.type === "verifying") log.debug(`verifying ${event.path}`);
      else if (event.type === "retry")
        log.debug(
          `retrying ${event.info.method} ${event.info.target} in ${Math.round(event.info.delayMs)} ms: ${event.info.reason}`,
        );
      else if (event.type === "table-done") log.debug(`${event.table}: ${event.records} records`);
      else if (event.type === "base-done") {
        // Each archive's path as soon as it is written: a wrapper can start copying it while others run.
        if (event.report.path && !event.report.error) process.stdout.write(`${event.report.path}\n`);
        summarize(event.report, log, args.verbose === true);
        progress?.redraw();
      }
    };
    const report = await runBackup({
      airtable,
      targets,
      outDir,
      attachments: args.attachments !== false && config.attachments,
      comments: config.comments,
      downloads: config.downloads,
      concurrency: config.concurrency.bases,
      full: args.full === true,
      // Earlier archives whose files can be reused: the output directory, and the bucket archives go to.
      shelves: [new LocalStorage(outDir), ...(s3 ? [s3] : [])],
      // Upload first, then prune: a base whose upload failed has failed, and prunes nothing.
      afterBase: async (base, signal) => {
        if (s3) {
          const uploaded = await uploadArchive(s3, base.path!, { keepLocal: config.output.keepLocal, signal });
          log.debug(`${base.baseName} (${base.baseId}): uploaded to ${uploaded.url}`);
          base.path = uploaded.location;
        }
        if (prune) await pruneBase(prune, base.baseId, new Date(), signal, (message) => log.info(message));
      },
      tool: { name: pkg.name, version: pkg.version },
      signal: shutdownSignal,
      onEvent,
    }).finally(() => progress?.clear());

    let exit: number = EXIT.ok;
    for (const base of report.bases) {
      const code = base.error ? exitCodeFor(base.error) : base.warnings.length > 0 ? EXIT.warnings : EXIT.ok;
      exit = worst(exit, code);
    }
    if (shutdownSignal.aborted) throw shutdownSignal.reason;
    process.exitCode = exit;
  },
});

// --- internal ---

function resolveTargets(
  configured: BaseTarget[] | undefined,
  bases: string[],
  tables: string[],
): BaseTarget[] | undefined {
  if (tables.length > 0 && bases.length !== 1) throw new AirbackupError("USAGE", "--table needs exactly one --base");
  for (const id of bases) {
    if (!isAirtableId("base", id))
      throw new AirbackupError("USAGE", `--base ${id}: expected a base id like ${idExample("base")}`);
  }
  if (bases.length === 0) return configured;
  return bases.map((id) => ({ id, tables: tables.length > 0 ? tables : configured?.find((b) => b.id === id)?.tables }));
}

function pruneSettings(prune: boolean, policy: KeepPolicy | undefined, places: Storage[]): PruneSettings | undefined {
  if (!prune) return undefined;
  if (!policy)
    throw new AirbackupError("USAGE", "--prune needs a retention policy: output.keep in the config", {
      hint: "add e.g. output: { keep: { last: 7, daily: 14 } } to airbackup.yaml",
    });
  return { policy, places };
}

/** Failure beats warnings beats success; an interruption beats everything. */
function worst(a: number, b: number): number {
  const rank = (code: number) =>
    code === EXIT.interrupted ? 4 : code === EXIT.ok ? 0 : code === EXIT.warnings ? 1 : code === EXIT.usage ? 2 : 3;
  return rank(b) > rank(a) ? b : a;
}

function summarize(report: BaseReport, log: ConsolaInstance, verbose: boolean): void {
  const records = report.tables.reduce((n, t) => n + t.records, 0);
  const what = `${report.baseName} (${report.baseId})`;
  if (report.error) {
    log.error(`${what}: ${formatError(report.error, { verbose })}`);
    return;
  }
  const { files, bytes, reused } = report.attachments;
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  const reuse = reused.files > 0 ? `; ${reused.files} reused, ${mb(reused.bytes)} not downloaded` : "";
  const line = `${what}: ${report.tables.length} tables, ${records} records, ${files} attachments (${mb(bytes)}${reuse}), ${report.apiCalls} API calls, ${report.seconds.toFixed(1)} s -> ${report.path}`;
  if (report.warnings.length > 0)
    log.warn(`${line} (${report.warnings.length} warning${report.warnings.length > 1 ? "s" : ""})`);
  else log.success(line);
}
