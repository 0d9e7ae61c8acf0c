// `airbackup inspect ARCHIVE [--json]`: what an archive holds, from its manifest: base, time, tables with
// record counts, attachments, warnings. Human text on stdout, or the summary as JSON.
import { defineCommand } from "citty";
import { type ArchiveSummary, inspectArchive } from "../archive/inspect.ts";
import { loadConfig } from "../config/load.ts";
import { formatBytes } from "../format.ts";
import { configureLog } from "../log.ts";
import { printable } from "../printable.ts";
import { isS3Url, openArchiveArg } from "../storage/locate.ts";
import { commonArgs } from "./args.ts";

export default defineCommand({
  meta: {
    name: "inspect",
    description: "Summarise an archive: base, time, tables with record counts, attachments, warnings",
  },
  args: {
    ...commonArgs,
    archive: {
      type: "positional",
      required: true,
      description: "The archive (.zip path or s3://bucket/key) to describe",
    },
  },
  async run({ args }) {
    configureLog({ quiet: args.quiet, verbose: args.verbose, json: args.json });
    // s3://: only the zip's tail and the manifest are read, with Range requests.
    const config = isS3Url(args.archive) ? (await loadConfig(args.config)).config : undefined;
    const summary = await inspectArchive(config ? await openArchiveArg(args.archive, config) : args.archive);
    process.stdout.write(args.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
  },
});

// --- internal ---

/** The summary for people; everything in it comes from the archive, so every line goes through printable(). */
export function formatSummary(s: ArchiveSummary): string {
  const names = s.tables.map((t) => printable(t.name));
  const width = Math.max(5, ...names.map((name) => name.length));
  const lines = [
    `archive     ${s.path} (${formatBytes(s.bytes)}, format ${s.format}, ${s.tool.name} ${s.tool.version})`,
    `base        ${s.base.name} (${s.base.id})`,
    `backed up   ${s.startedAt} → ${s.finishedAt}`,
    `tables      ${s.tables.length}, ${s.records} records`,
    ...s.tables.map((t, i) => `  ${names[i]!.padEnd(width)}  ${String(t.records).padStart(8)}  ${t.id}`),
    `attachments ${s.attachments.count} in cells, ${s.attachments.files} files, ${formatBytes(s.attachments.bytes)}`,
    ...(s.comments.length > 0
      ? [`comments    on ${s.comments.reduce((n, c) => n + c.records, 0)} records in ${s.comments.length} tables`]
      : []),
    ...(s.apiCalls !== undefined ? [`api calls   ${s.apiCalls}`] : []),
    `warnings    ${s.warnings.length}`,
    ...s.warnings.map((w) => `  - ${w}`),
  ];
  return `${lines.map((line) => printable(line)).join("\n")}\n`;
}
