// The compiled binary's contract: version, help colour, usage errors, `bases`, `init`, and the exit-code table.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { type AirtableSim, startAirtableSim } from "../support/airtable-sim/index.ts";
import { sampleBase } from "../support/airtable-sim/seeds.ts";
import { runCli } from "../support/cli.ts";

const TOKEN = "patTEST.secret";
let sim: AirtableSim;
let env: Record<string, string>;

beforeAll(async () => {
  sim = await startAirtableSim({ bases: [sampleBase()] });
  env = { AIRTABLE_TOKEN: TOKEN, AIRTABLE_API_URL: sim.url, AIRTABLE_CONTENT_URL: sim.contentUrl };
});
afterAll(() => sim.stop());

describe("airbackup (compiled)", () => {
  test("--version prints the package version", async () => {
    const r = await runCli(["--version"]);
    expect(r).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  test("--help into a pipe has no colour codes, with no TERM at all and with NO_COLOR", async () => {
    for (const env of [{ NO_COLOR: undefined }, { TERM: "xterm-256color", NO_COLOR: "1" }]) {
      const r = await runCli(["--help"], { env });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("USAGE");
      expect(r.stdout).not.toContain("\x1b");
      const sub = await runCli(["backup", "--help"], { env });
      expect(sub.stdout).toContain("--base");
      expect(sub.stdout).not.toContain("\x1b");
    }
  });

  test("no command is a usage error", async () => {
    expect((await runCli([])).code).toBe(2);
  });

  test("an unknown flag is a usage error with one clear line", async () => {
    const r = await runCli(["bases", "--frobnicate"], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith("airbackup: unknown option --frobnicate\n");
    expect(r.stdout).toBe("");
  });

  test("an unknown command is a usage error", async () => {
    const r = await runCli(["frobnicate"], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown command frobnicate");
  });
});

describe("airbackup bases", () => {
  test("lists the simulator's bases: id, name, permission", async () => {
    const r = await runCli(["bases"], { env });
    expect(r.code).toBe(0);
    const base = sampleBase();
    expect(r.stdout).toMatch(new RegExp(`^${base.id}  ${base.name}\\s+\\w+\\n$`));
  });

  test("--json gives machine output", async () => {
    const r = await runCli(["bases", "--json"], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { id: sampleBase().id, name: sampleBase().name, permissionLevel: expect.any(String) },
    ]);
  });

  test("a wrong token exits 1 with one line that names the problem and not the token", async () => {
    const secret = "patWRONGWRONGWRONG.0123456789abcdef0123456789abcdef";
    const r = await runCli(["bases", "--verbose"], { env: { ...env, AIRTABLE_TOKEN: secret } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("401");
    expect(r.stderr).toContain("token");
    expect(r.stderr).not.toContain(secret);
    expect(r.stderr).not.toContain("patWRONG");
  });

  test("no token at all exits 2", async () => {
    const r = await runCli(["bases"], { env: { AIRTABLE_API_URL: sim.url } });
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith("airbackup: no Airtable token\n");
  });

  test("a bad config file exits 2 naming the file and the key", async () => {
    const dir = await mkdtemp(join(tmpdir(), "airbackup-cli-"));
    const config = join(dir, "airbackup.yaml");
    await writeFile(config, "token: x\nbases:\n  - id: appAAAAAAAAAAAAAA\n    tabels: [A]\n");
    const r = await runCli(["bases", "-c", config], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`airbackup: ${config}: unknown key "tabels" in bases[0]; did you mean "tables"?\n`);
  });

  test("s3: without keys anywhere is a configuration error (exit 2) before any backup starts", async () => {
    const dir = await mkdtemp(join(tmpdir(), "airbackup-cli-"));
    const config = join(dir, "airbackup.yaml");
    await writeFile(config, "s3:\n  bucket: my-airtable-backups\n");
    const r = await runCli(["backup", "-c", config, "-o", dir], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith("airbackup: no S3 keys\n");
    expect(r.stdout).toBe("");
  });

  test("a misspelt s3 key is refused with the nearest valid one (exit 2)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "airbackup-cli-"));
    const config = join(dir, "airbackup.yaml");
    await writeFile(config, "s3:\n  bucket: b\n  pathstyle: true\n");
    const r = await runCli(["backup", "-c", config, "-o", dir], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown key "pathstyle" in s3; did you mean "pathStyle"?');
  });

  test("invalid YAML exits 2", async () => {
    const dir = await mkdtemp(join(tmpdir(), "airbackup-cli-"));
    await writeFile(join(dir, "airbackup.yaml"), "bases: [\n");
    const r = await runCli(["bases"], { env, cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("airbackup.yaml: invalid YAML");
  });

  test("no stack trace without --verbose", async () => {
    const r = await runCli(["bases"], { env: { ...env, AIRTABLE_API_URL: "http://127.0.0.1:1" } });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);
});

describe("airbackup init", () => {
  test("writes a valid commented config with mode 0600 and never overwrites", async () => {
    const dir = await mkdtemp(join(tmpdir(), "airbackup-init-"));
    const path = join(dir, "airbackup.yaml");
    const first = await runCli(["init", path]);
    expect(first.code).toBe(0);
    const text = await readFile(path, "utf8");
    expect(text).toContain("token: ${AIRTABLE_TOKEN}");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const bases = await runCli(["bases", "-c", path], { env }); // the written config works as it is
    expect(bases.stderr).toBe("");
    expect(bases.code).toBe(0);

    await writeFile(path, "token: mine\n");
    const second = await runCli(["init", path]);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain("already exists");
    expect(await readFile(path, "utf8")).toBe("token: mine\n");
  });
});
