// `airbackup restore ARCHIVE --base APP | --workspace WSP`: tables, fields, records, links and files back
// into a base. The report goes to stderr (or as JSON on stdout with --json); exit 3 when anything was skipped.
import { defineCommand } from "citty";
import pkg from "../../package.json" with { type: "json" };
import { idExample, isAirtableId } from "../airtable/ids.ts";
import { loadConfig, resolveAirtable } from "../config/load.ts";
import { resolveS3 } from "../config/s3-settings.ts";
import { AirbackupError, EXIT } from "../errors.ts";
import { configureLog } from "../log.ts";
import { formatReport, hasSkips } from "../restore/report.ts";
import { runRestore } from "../restore/run.ts";
import { shutdownSignal } from "../shutdown.ts";
import { isS3Url, localCopyOf } from "../storage/locate.ts";
import { S3Storage } from "../storage/s3.ts";
import { commonArgs, repeated } from "./args.ts";

export default defineCommand({
  meta: {
    name: "restore",
    description: "Restore an archive into a base: tables, fields, records, links and attachments",
  },
  args: {
    ...commonArgs,
    archive: {
      type: "positional",
      required: true,
      description: "The archive to restore: a .zip path or s3://bucket/key",
    },
    base: { type: "string", alias: "b", description: "Target base id (normally an empty base the token can edit)" },
    workspace: { type: "string", alias: "w", description: "Create a new base in this workspace instead" },
    table: { type: "string", alias: "t", description: "Only this archived table, by name or id (repeatable)" },
    attachments: {
      type: "string",
      default: "auto",
      description:
        "auto|upload|s3|skip (auto: s3 when s3: is configured, files of any size by presigned URL; else upload, files up to 5 MB)",
    },
    "dry-run": { type: "boolean", description: "Print the plan and write nothing" },
    append: { type: "boolean", description: "Also add records to target tables that already hold records" },
    typecast: {
      type: "boolean",
      description: "Let Airtable convert values (off: values are written exactly as backed up)",
    },
    comments: {
      type: "boolean",
      default: true,
      description: "Restore record comments, when the archive has them (--no-comments: skip them)",
    },
  },
  async run({ args, rawArgs }) {
    const log = configureLog({ quiet: args.quiet, verbose: args.verbose, json: args.json });
    const asked = args.attachments;
    if (asked !== "auto" && asked !== "upload" && asked !== "s3" && asked !== "skip")
      throw new AirbackupError("USAGE", `--attachments ${asked}: expected auto, upload, s3 or skip`);
    if (Boolean(args.base) === Boolean(args.workspace))
      throw new AirbackupError("USAGE", "give exactly one of --base APP or --workspace WSP");
    if (args.base && !isAirtableId("base", args.base))
      throw new AirbackupError("USAGE", `--base ${args.base}: expected a base id like ${idExample("base")}`);
    if (args.workspace && !/^wsp[A-Za-z0-9]{8,}$/.test(args.workspace))
      throw new AirbackupError(
        "USAGE",
        `--workspace ${args.workspace}: expected a workspace id like wspXXXXXXXXXXXXXX`,
      );
    if (!isS3Url(args.archive) && !(await Bun.file(args.archive).exists()))
      throw new AirbackupError("USAGE", `${args.archive}: no such archive`);
    const { config, warnings } = await loadConfig(args.config);
    for (const warning of warnings) log.warn(warning);
    // Files go through S3 staging whenever `s3:` is configured (auto), else through the upload endpoint.
    const s3 = resolveS3(config);
    const mode = asked === "auto" ? (s3 ? "s3" : "upload") : asked;
    if (mode === "s3" && !s3)
      throw new AirbackupError("USAGE", "--attachments s3 needs `s3:` in the config (the bucket files are staged in)", {
        hint: "add an s3: section (see `airbackup init`), or use --attachments upload (files up to 5 MB)",
      });
    const staging = s3 && new S3Storage({ ...s3, prefix: `${s3.prefix}restore-staging/` });
    // s3://: fetched to a local file first (kept for a resume, reused when complete).
    const archive = await localCopyOf(args.archive, config, shutdownSignal);

    const report = await runRestore({
      archive,
      airtable: resolveAirtable(config),
      target: args.base ? { baseId: args.base } : { workspaceId: args.workspace! },
      tables: repeated(rawArgs, "--table", "-t"),
      attachments: mode,
      ...(mode === "s3" && staging ? { staging } : {}),
      dryRun: args["dry-run"] === true,
      append: args.append === true,
      typecast: args.typecast === true,
      comments: args.comments !== false,
      userAgent: `airbackup/${pkg.version}`,
      signal: shutdownSignal,
      onEvent: (event) => {
        if (event.type === "step") log.info(event.message);
        else if (event.type === "records") log.debug(`${event.table}: ${event.done}/${event.total} records`);
        else if (event.type === "skip") log.warn(event.message);
        else log.debug(event.message);
      },
    });
    if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stderr.write(`${formatReport(report).join("\n")}\n`);
    process.exitCode = !report.dryRun && hasSkips(report) ? EXIT.warnings : EXIT.ok;
  },
});
