// The compiled binary's `verify` and `inspect` on real archives: stdout/stderr split and exit codes.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { createArchive } from "../../src/archive/archive-writer.ts";
import { tempDir } from "../archive/helpers.ts";
import { runCli } from "../support/cli.ts";

async function sampleArchive(path: string): Promise<string> {
  const archive = await createArchive(path, {
    tool: { name: "airbackup", version: "0.1.0" },
    base: { id: "appAAAAAAAAAAAAAA", name: "CRM" },
    startedAt: new Date("2024-05-06T07:00:00Z"),
  });
  await archive.writeSchema({ tables: [] });
  await archive.writeTable(
    { id: "tblA", name: "Contacts" },
    (async function* () {
      yield [
        { id: "rec1", createdTime: "2024-01-01T00:00:00.000Z", fields: { Name: "Ada" } },
        { id: "rec2", createdTime: "2024-01-01T00:00:00.000Z", fields: {} },
      ];
    })(),
  );
  return archive.finish({
    warnings: ["attachment att1 could not be fetched"],
    finishedAt: new Date("2024-05-06T07:01:00Z"),
    apiCalls: 7,
  });
}

describe("airbackup verify", () => {
  test("exit 0 and `ok  <path>` for each intact archive", async () => {
    using dir = tempDir();
    const a = await sampleArchive(dir.file("a.zip"));
    const b = await sampleArchive(dir.file("b.zip"));
    const result = await runCli(["verify", a, b]);
    expect(result).toMatchObject({ code: 0, stdout: `ok  ${a}\nok  ${b}\n`, stderr: "" });
  });

  test("exit 1 with one line per broken archive naming its first problem", async () => {
    using dir = tempDir();
    const good = await sampleArchive(dir.file("good.zip"));
    const bytes = await Bun.file(good).bytes();
    writeFileSync(dir.file("cut.zip"), bytes.subarray(0, bytes.length - 10));
    writeFileSync(dir.file("notes.txt"), "not an archive, just some text that is long enough");
    const result = await runCli(["verify", dir.file("cut.zip"), good, dir.file("notes.txt")]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(`ok  ${good}\n`);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(`${dir.file("cut.zip")}: truncated or incomplete`);
    expect(lines[1]).toContain(`${dir.file("notes.txt")}: not a zip archive`);
    expect(result.stderr).not.toContain("    at "); // no stack trace
  });

  test("--json reports every problem", async () => {
    using dir = tempDir();
    writeFileSync(dir.file("empty.zip"), "");
    const result = await runCli(["verify", "--json", dir.file("empty.zip")]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual([
      { path: dir.file("empty.zip"), ok: false, problems: [`${dir.file("empty.zip")}: empty file, not a zip archive`] },
    ]);
  });
});

describe("airbackup inspect", () => {
  test("a human summary on stdout", async () => {
    using dir = tempDir();
    const path = await sampleArchive(dir.file("crm.zip"));
    const result = await runCli(["inspect", path]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("base        CRM (appAAAAAAAAAAAAAA)");
    expect(result.stdout).toContain("backed up   2024-05-06T07:00:00.000Z → 2024-05-06T07:01:00.000Z");
    expect(result.stdout).toMatch(/Contacts\s+2\s+tblA/);
    expect(result.stdout).toContain("attachment att1 could not be fetched");
    expect(result.stdout).toContain("api calls   7");
  });

  test("a table name holding \\x1b[31m prints no raw ESC byte", async () => {
    using dir = tempDir();
    const archive = await createArchive(dir.file("evil.zip"), {
      tool: { name: "airbackup", version: "0.1.0" },
      base: { id: "appAAAAAAAAAAAAAA", name: "CRM\x1b]0;pwned\x07" },
      startedAt: new Date("2024-05-06T07:00:00Z"),
    });
    await archive.writeSchema({ tables: [] });
    await archive.writeTable(
      { id: "tblA", name: "Contacts\x1b[31m" },
      (async function* () {
        yield [{ id: "rec1", createdTime: "2024-01-01T00:00:00.000Z", fields: {} }];
      })(),
    );
    const path = await archive.finish({ warnings: [], finishedAt: new Date("2024-05-06T07:01:00Z") });
    const result = await runCli(["inspect", path]);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain("\x1b");
    expect(result.stdout).not.toContain("\x07");
    expect(result.stdout).toContain("Contacts\\x1b[31m");
  });

  test("--json gives the summary object", async () => {
    using dir = tempDir();
    const path = await sampleArchive(dir.file("crm.zip"));
    const result = await runCli(["inspect", "--json", path]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      format: 1,
      base: { id: "appAAAAAAAAAAAAAA", name: "CRM" },
      tables: [{ id: "tblA", records: 2 }],
      records: 2,
      apiCalls: 7,
    });
  });

  test("a damaged archive: exit 1 and one clear line on stderr", async () => {
    using dir = tempDir();
    writeFileSync(dir.file("bad.zip"), "PK\u0003\u0004 but nothing else of a zip");
    const result = await runCli(["inspect", dir.file("bad.zip")]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("truncated or incomplete");
  });
});
