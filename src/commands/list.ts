// `airbackup list`: the archives in the output directory (and the bucket), newest first, on stdout.
import { defineCommand } from "citty";
import { loadConfig } from "../config/load.ts";
import { EXIT, formatError } from "../errors.ts";
import { columns, formatBytes } from "../format.ts";
import { log } from "../log.ts";
import { printable } from "../printable.ts";
import { listArchives } from "../storage/catalog.ts";
import { archivePlaces, placeOf } from "../storage/places.ts";
import { baseFilter, commonArgs, outArg, repeated } from "./args.ts";

export default defineCommand({
  meta: {
    name: "list",
    description: "List the archives in the output directory and in S3, newest first (base, time, size, where)",
  },
  args: {
    ...commonArgs,
    place: {
      type: "positional",
      required: false,
      description: "Only this place: a directory or s3://bucket/prefix/ (default: output.dir and the config's s3:)",
    },
    base: { type: "string", alias: "b", description: "Only this base's archives (repeatable)" },
    out: outArg,
  },
  async run({ args, rawArgs }) {
    const { config, warnings } = await loadConfig(args.config);
    for (const warning of warnings) log.warn(warning);
    const bases = baseFilter(repeated(rawArgs, "--base", "-b"));
    const places = args.place ? [placeOf(args.place, config)] : archivePlaces(config, args.out ?? config.output.dir);
    const { archives, failures } = await listArchives(places, bases);
    for (const { label, error } of failures) log.error(`cannot list ${label}: ${formatError(error)}`);
    if (failures.length > 0) process.exitCode = EXIT.failure;
    if (args.json) {
      const rows = archives.map((a) => ({ ...a, where: a.places.map((p) => p.where), size: a.places[0]!.size }));
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    if (archives.length === 0 && failures.length === 0)
      log.info(`no archives in ${places.map((p) => p.label).join(" or ")}`);
    const rows = archives.map((a) => [
      a.baseId,
      a.slug,
      a.at.replace(".000Z", "Z"),
      formatBytes(a.places[0]!.size),
      a.places.map((p) => p.where).join("+"),
      printable(a.name),
    ]);
    process.stdout.write(columns(rows));
  },
});
