// `airbackup prune`: output.keep applied per base in every place; `--dry-run` shows what would go and
// why each kept archive stays. Leftovers of killed runs more than a day old go too.
import { defineCommand } from "citty";
import { loadConfig } from "../config/load.ts";
import { AirbackupError, EXIT, formatError } from "../errors.ts";
import { columns } from "../format.ts";
import { log } from "../log.ts";
import { printable } from "../printable.ts";
import { shutdownSignal } from "../shutdown.ts";
import { LocalStorage } from "../storage/local.ts";
import { backupLockPath, isLockHeld } from "../storage/lock.ts";
import { archivePlaces } from "../storage/places.ts";
import { type PruneReport, prunePlace } from "../storage/prune.ts";
import { checkPolicy } from "../storage/retention.ts";
import { baseFilter, commonArgs, outArg, repeated } from "./args.ts";

export default defineCommand({
  meta: {
    name: "prune",
    description: "Apply the retention policy (output.keep) to the archives in the output directory and in S3",
  },
  args: {
    ...commonArgs,
    "dry-run": { type: "boolean", description: "Show what would be removed and why each kept archive stays" },
    base: { type: "string", alias: "b", description: "Only this base's archives (repeatable)" },
    out: outArg,
  },
  async run({ args, rawArgs }) {
    const { config, warnings, path } = await loadConfig(args.config);
    for (const warning of warnings) log.warn(warning);
    if (!config.output.keep)
      throw new AirbackupError("USAGE", `no retention policy: ${path ?? "the config"} has no output.keep`, {
        hint: "add e.g. output: { keep: { last: 7, daily: 14, weekly: 8, monthly: 12 } } to airbackup.yaml",
      });
    const policy = checkPolicy(config.output.keep);
    const bases = baseFilter(repeated(rawArgs, "--base", "-b"));
    const outDir = args.out ?? config.output.dir;
    const dryRun = args["dry-run"] === true;
    const reports: PruneReport[] = [];
    let failed = false;
    // Each place on its own: one that cannot be read (S3 down) does not stop the others.
    for (const place of archivePlaces(config, outDir)) {
      const pruned = await prunePlace(place, {
        policy,
        dryRun,
        now: new Date(),
        signal: shutdownSignal,
        ...(bases ? { bases } : {}),
        ...(place instanceof LocalStorage ? { localDir: place.dir } : {}),
        // A base whose backup runs right now keeps its in-progress files, whatever their age.
        leftoversFree: (baseId) => !isLockHeld(backupLockPath(outDir, baseId)),
        onDamaged: (_name, problem) => log.warn(`damaged archive: ${problem}`),
      }).catch((error: unknown) => {
        if (shutdownSignal.aborted) throw error;
        failed = true;
        log.error(`cannot prune ${place.label}: ${formatError(error)}`);
        return undefined;
      });
      if (pruned) reports.push(pruned);
    }
    for (const report of reports) {
      for (const baseId of report.unprotected) {
        failed = true;
        log.error(`${report.label}: no intact archive of ${baseId} found; nothing of it was removed`);
      }
      for (const item of [...report.archives, ...report.leftovers]) {
        if (item.error) {
          failed = true;
          log.error(`${report.label}: cannot remove ${item.name}: ${item.error}`);
        }
      }
    }
    process.stdout.write(args.json ? `${JSON.stringify(reports, null, 2)}\n` : reports.map(render).join(""));
    process.exitCode = failed ? EXIT.failure : EXIT.ok;
  },
});

// --- internal ---

function render(report: PruneReport): string {
  const gone = report.dryRun ? "would remove" : "removed";
  const rows = [
    ...report.archives.map((a) => [
      a.keep ? "keep" : a.error ? "failed" : gone,
      report.where,
      printable(a.name),
      a.reasons.join(", "),
    ]),
    ...report.leftovers.map((l) => [
      l.error ? "failed" : gone,
      report.where,
      printable(l.kind === "temporary directory" ? `${l.name}/` : l.name),
      `${l.kind} left by a killed run, ${l.hours} hours old`,
    ]),
  ];
  return columns(rows);
}
