// `airbackup verify ARCHIVE...`: read every archive end to end; `ok  <path>` on stdout for each intact one,
// one line on stderr naming the first problem of each broken one; exit 0 only if all are intact.
import { defineCommand } from "citty";
import { type VerifyReport, verifyArchive } from "../archive/verify.ts";
import { loadConfig } from "../config/load.ts";
import { EXIT, formatError } from "../errors.ts";
import { configureLog } from "../log.ts";
import { printable } from "../printable.ts";
import { isS3Url, openArchiveArg } from "../storage/locate.ts";
import { commonArgs } from "./args.ts";

export default defineCommand({
  meta: {
    name: "verify",
    description:
      "Check archives end to end (CRC-32, sha256, record counts, attachments); exit 0 only if all are intact",
  },
  args: {
    ...commonArgs,
    archive: { type: "positional", required: true, description: "Archive(s) to check: paths or s3://bucket/key" },
  },
  async run({ args }) {
    const log = configureLog({ quiet: args.quiet, verbose: args.verbose, json: args.json });
    const paths = args._.length > 0 ? args._.map(String) : [args.archive];
    const reports: VerifyReport[] = [];
    for (const path of paths) {
      log.debug(`verifying ${path}`);
      // s3://: the object is read once, front to back, in bounded Range requests.
      const config = isS3Url(path) ? (await loadConfig(args.config)).config : undefined;
      const report = config
        ? await openArchiveArg(path, config).then(verifyArchive, (error: unknown) => ({
            path,
            ok: false,
            problems: [formatError(error)],
          }))
        : await verifyArchive(path);
      reports.push(report);
      if (args.json) continue;
      if (report.ok) process.stdout.write(`ok  ${path}\n`);
      else process.stderr.write(`airbackup: ${printable(String(report.problems[0]))}\n`);
      if (!report.ok && args.verbose) for (const problem of report.problems.slice(1)) log.debug(printable(problem));
    }
    if (args.json)
      process.stdout.write(
        `${JSON.stringify(
          reports.map(({ path, ok, problems }) => ({ path, ok, problems })),
          null,
          2,
        )}\n`,
      );
    process.exitCode = reports.every((r) => r.ok) ? EXIT.ok : EXIT.failure;
  },
});
