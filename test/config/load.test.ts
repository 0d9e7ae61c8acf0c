import { describe, expect, test } from "bun:test";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, parseConfig, resolveAirtable } from "../../src/config/load.ts";
import { AirbackupError } from "../../src/errors.ts";

function messageOf(text: string, env: Record<string, string> = {}): string {
  try {
    parseConfig(text, "airbackup.yaml", env);
  } catch (error) {
    expect(error).toBeInstanceOf(AirbackupError);
    expect((error as AirbackupError).code).toBe("CONFIG_INVALID");
    return (error as AirbackupError).message;
  }
  throw new Error("expected the config to be refused");
}

describe("parseConfig", () => {
  test("the design's example parses, with ${VAR} read from the environment", () => {
    const config = parseConfig(
      [
        "token: ${AIRTABLE_TOKEN}",
        "bases:",
        "  - id: appAAAAAAAAAAAAAA",
        "    tables: [Contacts, tblYYYYYYYYYYYYYY]",
        "attachments: true",
        "comments: false",
        "output:",
        "  dir: /var/backups/airtable",
      ].join("\n"),
      "airbackup.yaml",
      { AIRTABLE_TOKEN: "patX.y" },
    );
    expect(config.token).toBe("patX.y");
    expect(config.bases).toEqual([{ id: "appAAAAAAAAAAAAAA", tables: ["Contacts", "tblYYYYYYYYYYYYYY"] }]);
    expect(config.output).toEqual({ dir: "/var/backups/airtable", keepLocal: true });
    expect(config.downloads).toBe(8);
    expect(config.concurrency).toEqual({ bases: 4 });
  });

  test("an empty file gives the defaults", () => {
    const config = parseConfig("", "airbackup.yaml", {});
    expect(config).toMatchObject({ attachments: true, comments: false, output: { dir: "./backups" } });
  });

  test.each([
    ["bsaes: []", 'airbackup.yaml: unknown key "bsaes"; did you mean "bases"?'],
    [
      "bases:\n  - id: appAAAAAAAAAAAAAA\n    tabels: [A]",
      'airbackup.yaml: unknown key "tabels" in bases[0]; did you mean "tables"?',
    ],
    [
      "bases:\n  - id: nope",
      'airbackup.yaml: bases[0].id: expected an Airtable base id like appXXXXXXXXXXXXXX, got "nope"',
    ],
    ["attachments: yes please", 'airbackup.yaml: attachments: expected boolean, got "yes please"'],
    ["downloads: -1", "airbackup.yaml: downloads: expected a number >= 0, got -1"],
    ["concurrency:\n  bases: 17", "airbackup.yaml: concurrency.bases: expected a number <= 16, got 17"],
    ["concurrency:\n  bases: 0", "airbackup.yaml: concurrency.bases: expected a number >= 1, got 0"],
    ["bases: [", "airbackup.yaml: invalid YAML"],
  ])("%p is refused with a message naming the key", (text, expected) => {
    expect(messageOf(text)).toStartWith(expected);
  });

  test.each([
    ["token: 12345", "12345"],
    ["token: [12345abcdef]", "12345abcdef"],
    ["token: { pat: 12345abcdef }", "12345abcdef"],
  ])("an invalid token (%p) is refused without echoing its value", (text, secret) => {
    const message = messageOf(text);
    expect(message).toStartWith("airbackup.yaml: token: expected");
    expect(message).not.toContain(secret);
  });

  test("retention: output.keep and prune are read", () => {
    const config = parseConfig("output:\n  keep: { last: 7, daily: 14, weekly: 8 }\nprune: true", "x.yaml", {});
    expect(config.output.keep).toEqual({ last: 7, daily: 14, weekly: 8 });
    expect(config.prune).toBe(true);
    expect(parseConfig("", "x.yaml", {}).prune).toBe(false);
  });

  test.each([
    ["output:\n  keep: {}", "airbackup.yaml: output.keep: expected a policy that keeps something"],
    ["output:\n  keep: { last: 0, daily: 0 }", "airbackup.yaml: output.keep: expected a policy that keeps something"],
    ["output:\n  keep: { dayly: 7 }", 'airbackup.yaml: unknown key "dayly" in output.keep; did you mean "daily"?'],
    ["output:\n  keep: { last: -1 }", "airbackup.yaml: output.keep.last: expected a number >= 0"],
    ["prune: true", "airbackup.yaml: prune: true needs a retention policy in output.keep"],
    ["keep: { last: 7 }", 'airbackup.yaml: unknown key "keep"'],
  ])("retention %p is refused: %s", (text, expected) => {
    expect(messageOf(text)).toStartWith(expected);
  });

  test("an unset ${VAR} names the variable and the key", () => {
    expect(messageOf("token: ${NOPE_NOT_SET}")).toBe(
      "airbackup.yaml: token: environment variable NOPE_NOT_SET is not set",
    );
  });

  test("interpolated values cannot inject YAML", () => {
    const config = parseConfig("token: ${T}", "x.yaml", { T: "a\nbases: [{id: appAAAAAAAAAAAAAA}]" });
    expect(config.bases).toBeUndefined();
    expect(config.token).toBe("a\nbases: [{id: appAAAAAAAAAAAAAA}]");
  });
});

describe("resolveAirtable", () => {
  test("token from the config wins over the environment; URLs from the environment", () => {
    const config = parseConfig("token: patCONFIG.x", "x.yaml", {});
    expect(resolveAirtable(config, { AIRTABLE_TOKEN: "patENV.x", AIRTABLE_API_URL: "http://127.0.0.1:9/" })).toEqual({
      token: "patCONFIG.x",
      apiUrl: "http://127.0.0.1:9",
      contentUrl: "https://content.airtable.com",
    });
  });

  test("no token anywhere is a configuration error (exit 2)", () => {
    expect(() => resolveAirtable(parseConfig("", "x.yaml", {}), {})).toThrow("no Airtable token");
  });
});

describe("EXAMPLE_CONFIG (airbackup init)", () => {
  test("is valid and means what its comments say", async () => {
    const { EXAMPLE_CONFIG } = await import("../../src/config/example.ts");
    const config = parseConfig(EXAMPLE_CONFIG, "airbackup.yaml", { AIRTABLE_TOKEN: "patX.y" });
    expect(config).toMatchObject({
      token: "patX.y",
      attachments: true,
      comments: false,
      downloads: 8,
      concurrency: { bases: 4 },
      output: { dir: "./backups", keepLocal: true },
    });
    expect(config.bases).toBeUndefined();
    expect(config.output.keep).toEqual({ last: 7, daily: 14, weekly: 8, monthly: 12 });
    expect(config.prune).toBe(false);
  });
});

describe("loadConfig: a literal token in a file others can read", () => {
  async function load(text: string, mode: number): Promise<string[]> {
    const dir = await mkdtemp(join(tmpdir(), "airbackup-config-"));
    const path = join(dir, "airbackup.yaml");
    await writeFile(path, text);
    await chmod(path, mode);
    const { warnings } = await loadConfig(path, { AIRTABLE_TOKEN: "patX.y" });
    await rm(dir, { recursive: true, force: true });
    return warnings;
  }

  test("a literal token in a mode 0644 file is warned about (without the token)", async () => {
    const warnings = await load("token: patLITERAL.secret\n", 0o644);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("holds a literal token and is readable by everyone (mode 0644)");
    expect(warnings[0]).not.toContain("patLITERAL");
  });

  test("a literal token in a mode 0640 file names the group", async () => {
    expect((await load("token: patLITERAL.secret\n", 0o640))[0]).toContain("readable by its group (mode 0640)");
  });

  test("no warning for mode 0600, for token: ${VAR}, or without a token", async () => {
    expect(await load("token: patLITERAL.secret\n", 0o600)).toEqual([]);
    expect(await load("token: ${AIRTABLE_TOKEN}\n", 0o644)).toEqual([]);
    expect(await load("comments: true\n", 0o644)).toEqual([]);
  });
});

describe("s3: settings from the config, then AWS_* variables", () => {
  const { resolveS3, resolveS3ForBucket } =
    require("../../src/config/s3-settings.ts") as typeof import("../../src/config/s3-settings.ts");
  const env = { AWS_ACCESS_KEY_ID: "AKIAENV", AWS_SECRET_ACCESS_KEY: "envsecret", AWS_REGION: "eu-west-3" };

  test("config keys and endpoint win; region from the environment; virtual-hosted unless asked", () => {
    const config = parseConfig(
      "s3:\n  bucket: b\n  prefix: airbackup/\n  endpoint: https://s3.example.com/\n  accessKeyId: AKIACONF\n  secretAccessKey: ${S}",
      "x.yaml",
      { S: "confsecret" },
    );
    expect(resolveS3(config, env)).toEqual({
      endpoint: "https://s3.example.com",
      region: "eu-west-3",
      bucket: "b",
      prefix: "airbackup/",
      pathStyle: false,
      accessKeyId: "AKIACONF",
      secretAccessKey: "confsecret",
      sessionToken: undefined,
    });
  });

  test("only a bucket: AWS's endpoint for the region, keys from the environment; an IP endpoint is path-style", () => {
    const config = parseConfig("s3:\n  bucket: b", "x.yaml", {});
    expect(resolveS3(config, env)).toMatchObject({
      endpoint: "https://s3.eu-west-3.amazonaws.com",
      accessKeyId: "AKIAENV",
    });
    const ip = resolveS3ForBucket("other", parseConfig("", "x.yaml", {}), {
      ...env,
      AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9000",
    });
    expect(ip).toMatchObject({ bucket: "other", prefix: "", pathStyle: true, endpoint: "http://127.0.0.1:9000" });
  });

  test("no keys anywhere is a configuration error naming where to put them, no s3: is no upload", () => {
    expect(() => resolveS3(parseConfig("s3:\n  bucket: b", "x.yaml", {}), {})).toThrow("no S3 keys");
    expect(resolveS3(parseConfig("", "x.yaml", {}), env)).toBeUndefined();
  });

  test("an s3 secret that is not a string is refused without echoing it", () => {
    expect(messageOf("s3:\n  bucket: b\n  secretAccessKey: [verysecret123]")).not.toContain("verysecret123");
  });
});
