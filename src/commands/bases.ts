// `airbackup bases`: the bases the token can read, as a table or JSON on stdout.
import { defineCommand } from "citty";
import pkg from "../../package.json" with { type: "json" };
import { createAirtableClient } from "../airtable/client.ts";
import { listBases } from "../airtable/read.ts";
import { loadConfig, resolveAirtable } from "../config/load.ts";
import { log } from "../log.ts";
import { printable } from "../printable.ts";
import { shutdownSignal } from "../shutdown.ts";
import { commonArgs } from "./args.ts";

export default defineCommand({
  meta: { name: "bases", description: "List the bases the token can read (id, name, permission level)" },
  args: { ...commonArgs },
  async run({ args }) {
    const { config, warnings } = await loadConfig(args.config);
    for (const warning of warnings) log.warn(warning);
    const airtable = resolveAirtable(config);
    const client = createAirtableClient({ ...airtable, userAgent: `airbackup/${pkg.version}`, signal: shutdownSignal });
    const bases = await listBases(client);
    if (args.json) {
      process.stdout.write(
        `${JSON.stringify(
          bases.map(({ id, name, permissionLevel }) => ({ id, name, permissionLevel })),
          null,
          2,
        )}\n`,
      );
      return;
    }
    process.stdout.write(formatBases(bases));
  },
});

/** One line per base; names come from Airtable, so every line goes through printable(). */
export function formatBases(bases: { id: string; name: string; permissionLevel?: string }[]): string {
  const names = bases.map((b) => printable(b.name));
  const width = Math.max(4, ...names.map((name) => name.length));
  return bases.map((b, i) => `${printable(`${b.id}  ${names[i]!.padEnd(width)}  ${b.permissionLevel}`)}\n`).join("");
}
