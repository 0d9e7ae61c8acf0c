#!/usr/bin/env bun
// Entry point: the command tree, and the one error boundary that turns errors into messages and exit codes.
import { type ArgsDef, type CommandDef, defineCommand, renderUsage, runCommand } from "citty";
import pkg from "../package.json" with { type: "json" };
import { AirbackupError, EXIT, exitCodeFor, formatError } from "./errors.ts";
import { configureLog } from "./log.ts";
import { installSignalHandlers } from "./shutdown.ts";

export const VERSION: string = pkg.version;

const main = defineCommand({
  meta: { name: "airbackup", version: pkg.version, description: pkg.description },
  subCommands: {
    backup: () => import("./commands/backup.ts").then((m) => guard(m.default)),
    bases: () => import("./commands/bases.ts").then((m) => guard(m.default)),
    export: () => import("./commands/export.ts").then((m) => guard(m.default)),
    init: () => import("./commands/init.ts").then((m) => guard(m.default)),
    inspect: () => import("./commands/inspect.ts").then((m) => guard(m.default)),
    list: () => import("./commands/list.ts").then((m) => guard(m.default)),
    prune: () => import("./commands/prune.ts").then((m) => guard(m.default)),
    restore: () => import("./commands/restore.ts").then((m) => guard(m.default)),
    verify: () => import("./commands/verify.ts").then((m) => guard(m.default)),
  },
});

await runCli(process.argv.slice(2));

async function runCli(rawArgs: string[]): Promise<void> {
  const verbose = rawArgs.includes("--verbose");
  installSignalHandlers();
  try {
    if (rawArgs.length === 0) {
      process.stderr.write(`${forTerminal(await renderUsage(main), process.stderr)}\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
      process.stdout.write(`${pkg.version}\n`);
      return;
    }
    if (rawArgs.includes("--help") || rawArgs.includes("-h")) {
      const [command, parent] = await resolveCommand(main, rawArgs);
      process.stdout.write(`${forTerminal(await renderUsage(command, parent), process.stdout)}\n`);
      return;
    }
    await runCommand(main, { rawArgs });
  } catch (error) {
    if (isCittyError(error)) {
      process.stderr.write(`airbackup: ${stripAnsi(error.message)}\n  hint: run \`airbackup --help\`\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    process.stderr.write(`airbackup: ${formatError(error, { verbose })}\n`);
    process.exitCode = exitCodeFor(error);
  }
}

// --- internal ---

/** Wraps a command: refuses unknown flags, then configures logging from the common flags. */
function guard<T extends ArgsDef>(command: CommandDef<T>): CommandDef<T> {
  const run = command.run;
  return {
    ...command,
    async run(context) {
      const argsDef = (command.args ?? {}) as ArgsDef;
      rejectUnknownFlags(context.rawArgs, argsDef);
      const args = context.args as { quiet?: boolean; verbose?: boolean; json?: boolean };
      configureLog({ quiet: args.quiet, verbose: args.verbose, json: args.json });
      return run?.(context);
    },
  };
}

function rejectUnknownFlags(rawArgs: string[], argsDef: ArgsDef): void {
  const known = new Set<string>();
  for (const [name, def] of Object.entries(argsDef)) {
    if (def.type === "positional") continue;
    const alias = (def as { alias?: string | string[] }).alias;
    const names = [name, toKebab(name), ...(Array.isArray(alias) ? alias : alias ? [alias] : [])];
    for (const n of names) known.add(n);
    if (def.type === "boolean") known.add(`no-${toKebab(name)}`);
  }
  for (const arg of rawArgs) {
    if (arg === "--") break;
    if (!arg.startsWith("-") || arg === "-") continue;
    const name = arg.replace(/^-{1,2}/, "").split("=")[0]!;
    if (!known.has(name))
      throw new AirbackupError("USAGE", `unknown option ${arg.split("=")[0]}`, {
        hint: "run `airbackup <command> --help`",
      });
  }
}

async function resolveCommand(
  command: CommandDef,
  rawArgs: string[],
  parent?: CommandDef,
): Promise<[CommandDef, CommandDef | undefined]> {
  const subCommands =
    typeof command.subCommands === "function" ? await command.subCommands() : await command.subCommands;
  const name = rawArgs.find((arg) => !arg.startsWith("-"));
  const loader = name && subCommands ? (subCommands as Record<string, unknown>)[name] : undefined;
  if (!loader) return [command, parent];
  const sub = (typeof loader === "function" ? await loader() : loader) as CommandDef;
  return resolveCommand(sub, rawArgs.slice(rawArgs.indexOf(name!) + 1), command);
}

function isCittyError(error: unknown): error is Error {
  return error instanceof Error && error.name === "CLIError";
}

function toKebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** citty colours its usage text unconditionally: keep colour only on a TTY, and never with NO_COLOR. */
function forTerminal(text: string, stream: { isTTY?: boolean }): string {
  return stream.isTTY === true && !process.env.NO_COLOR ? text : stripAnsi(text);
}

function stripAnsi(text: string): string {
  return text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "");
}
