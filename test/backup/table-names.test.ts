// Without schema.bases:read the configured table names stand in for ids: each still gets its own
// spool file and archive entries, while the manifest records the real name.
import { describe, expect, test } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openZip } from "../../src/archive/zip-reader.ts";
import { runBackup } from "../../src/backup/run.ts";
import { startAirtableSim } from "../support/airtable-sim/index.ts";
import { sampleBase } from "../support/airtable-sim/seeds.ts";
import { readArchive } from "../support/archive-contents.ts";

const TOKEN = "patTEST.secret";

async function backupWithoutSchema(rename: Record<string, string>, tables: string[], comments: boolean) {
  const seed = sampleBase();
  for (const t of seed.tables) t.name = rename[t.name] ?? t.name;
  const scopes = ["data.records:read", ...(comments ? ["data.recordComments:read"] : [])];
  const sim = await startAirtableSim({
    bases: [seed],
    tokens: { [TOKEN]: { userId: "usrTEST00000000001", scopes } },
  });
  const outDir = await mkdtemp(join(tmpdir(), "airbackup-names-"));
  try {
    const report = await runBackup({
      airtable: { token: TOKEN, apiUrl: sim.url, contentUrl: sim.contentUrl },
      targets: [{ id: seed.id, tables }],
      outDir,
      attachments: false,
      comments,
      downloads: 2,
      tool: { name: "airbackup", version: "0.0.0-test" },
      signal: new AbortController().signal,
    });
    return { seed, base: report.bases[0]! };
  } finally {
    await sim[Symbol.asyncDispose]();
  }
}

describe("table names standing in for ids", () => {
  test("two non-Latin table names of one length (both sanitise to six underscores) are both backed up with their own records", async () => {
    const { seed, base } = await backupWithoutSchema(
      { Companies: "Задачи", Contacts: "Заказы" },
      ["Задачи", "Заказы"],
      false,
    );
    expect(base.error).toBeUndefined();
    expect(base.warnings.join("\n")).toContain("schema.bases:read");
    const archive = await readArchive(base.path!);
    expect(archive.manifest.tables.map((t: any) => t.name)).toEqual(["Задачи", "Заказы"]);
    const ids = archive.manifest.tables.map((t: any) => t.id);
    expect(new Set(ids).size).toBe(2);
    for (const name of ["Задачи", "Заказы"]) {
      const entry = archive.manifest.tables.find((t: any) => t.name === name);
      const expected = seed.tables.find((t) => t.name === name)!.records.map((r) => r.id);
      expect(
        archive.tables
          .get(entry.id)!
          .map((r: any) => r.id)
          .sort(),
      ).toEqual([...expected].sort());
      expect(entry.records).toBe(expected.length);
    }
  });

  test("a table name with a space and comments: true backs up the records and their comments", async () => {
    const { seed, base } = await backupWithoutSchema({ Deals: "Open Deals" }, ["Open Deals"], true);
    expect(base.error).toBeUndefined();
    const archive = await readArchive(base.path!);
    const [entry] = archive.manifest.tables;
    expect(entry.name).toBe("Open Deals");
    expect(entry.id).toMatch(/^[A-Za-z0-9_-]+$/);
    const table = seed.tables.find((t) => t.name === "Open Deals")!;
    expect(archive.tables.get(entry.id)!.length).toBe(table.records.length);
    const commented = table.records.filter((r) => r.comments?.length).map((r) => r.id);
    expect(commented.length).toBeGreaterThan(0);
    expect(archive.manifest.comments).toEqual([
      expect.objectContaining({ table: entry.id, records: commented.length }),
    ]);
    await using zip = await openZip(base.path!);
    const path = archive.manifest.comments[0].path;
    const chunks: Uint8Array[] = [];
    for await (const chunk of zip.readEntry(zip.entry(path)!)) chunks.push(chunk);
    const lines = Buffer.concat(chunks)
      .toString("utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.record).sort()).toEqual([...commented].sort());
    expect(lines.every((l) => l.comments.length > 0)).toBe(true);
  });
});
