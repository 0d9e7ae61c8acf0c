// `--help` of the compiled binary, for every command in src/commands/: the top level lists each command with
// its description; each command's help shows its usage, its arguments and every flag (as typed on the
// command line, kebab-case, with its alias and description); and the README documents each flag.
import { describe, expect, test } from "bun:test";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { ArgDef, CommandDef } from "citty";
import { ROOT, runCli } from "../support/cli.ts";

interface Command {
  name: string;
  description: string;
  args: [string, ArgDef][];
}

const commandFiles = (await readdir(join(ROOT, "src/commands"))).filter((f) => f.endsWith(".ts") && f !== "args.ts");
const commands: Command[] = [];
for (const file of commandFiles.sort()) {
  const def = (await import(join(ROOT, "src/commands", file))).default as CommandDef;
  const meta = (await def.meta) as { name: string; description: string };
  const args = Object.entries(((await def.args) ?? {}) as Record<string, ArgDef>);
  commands.push({ name: meta.name, description: meta.description, args });
}
const readme = await Bun.file(join(ROOT, "README.md")).text();

/** The text of the line of `help` that shows `--flag` (or the positional's name). */
function lineShowing(help: string, token: string): string | undefined {
  return help.split("\n").find((line) => new RegExp(`(^|[\\s,])${token.replace(/[-]/g, "\\-")}(=|\\s|$)`).test(line));
}

describe("--help", () => {
  test("the command files are the commands (guards the list below)", () => {
    expect(commands.map((c) => c.name).sort()).toEqual(commandFiles.map((f) => f.replace(/\.ts$/, "")).sort());
  });

  test("the top level lists every command with its description, then how to get a command's help", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`USAGE airbackup ${commands.map((c) => c.name).join("|")}`);
    for (const command of commands) {
      const line = r.stdout.split("\n").find((l) => l.trim().startsWith(`${command.name} `));
      expect(line, command.name).toBeDefined();
      expect(line?.trim()).toEndWith(command.description);
    }
    expect(r.stdout).toContain("airbackup <command> --help");
  });

  for (const command of commands) {
    test(`${command.name} --help: usage, arguments and every flag with its alias and description`, async () => {
      const r = await runCli([command.name, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      const help = r.stdout;
      expect(help).toStartWith(command.description);
      const positionals = command.args.filter(([, def]) => def.type === "positional");
      const usage = help.split("\n").find((l) => l.startsWith("USAGE "));
      expect(usage).toStartWith(`USAGE airbackup ${command.name}`);
      for (const [name, def] of positionals) {
        expect(usage).toContain(name.toUpperCase());
        expect(lineShowing(help, name.toUpperCase())).toContain(def.description ?? "");
      }
      for (const [name, def] of command.args) {
        if (def.type === "positional") continue;
        expect(name, "flags are spelled as typed: kebab-case").toMatch(/^[a-z][a-z0-9-]*$/);
        const line = lineShowing(help, `--${name}`);
        expect(line, `--${name} in ${command.name} --help`).toBeDefined();
        expect(def.description, `--${name} has a description`).toBeTruthy();
        expect(line).toContain(def.description ?? "");
        const alias = (def as { alias?: string | string[] }).alias;
        for (const a of [alias ?? []].flat()) expect(line).toContain(`-${a},`);
      }
      expect(help).not.toMatch(/--[a-z]+[A-Z]/); // no camelCase flag
    });

    test(`the README documents ${command.name} and each of its flags`, () => {
      expect(readme.includes(`### \`airbackup ${command.name}`), `a README section for ${command.name}`).toBe(true);
      const undocumented = command.args
        .filter(([, def]) => def.type !== "positional")
        // a flag on by default is documented by how it is turned off
        .filter(
          ([name, def]) =>
            !readme.includes(def.type === "boolean" && def.default === true ? `--no-${name}` : `--${name}`),
        )
        .map(([name]) => `--${name}`);
      expect(undocumented).toEqual([]);
    });
  }
});
