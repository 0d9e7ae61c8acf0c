// Golden archives: every released format version stays readable, verifiable and restorable. An archive
// written by an earlier airbackup lives in test/fixtures/archives/ and is never regenerated.
import { describe, expect, test } from "bun:test";
import { copyFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspectArchive } from "../../src/archive/inspect.ts";
import { verifyArchive } from "../../src/archive/verify.ts";
import { startAirtableSim } from "../support/airtable-sim/index.ts";
import { SAMPLE_USERS } from "../support/airtable-sim/seeds.ts";
import { runCli } from "../support/cli.ts";
import { skipWithout, ZIP_READERS } from "../support/tools.ts";
import { checkWithAllReaders } from "../support/zip-oracles.ts";

const FIXTURES = join(import.meta.dir, "../fixtures/archives");
// format 1, written by airbackup 0.1.0 from the simulator's sample base
const SAMPLE = {
  file: join(FIXTURES, "format1-sample-crm.zip"),
  tables: { Companies: 5, Contacts: 8, Deals: 6, Tasks: 8 },
  cells: 10,
  files: 5,
};

describe("golden archive: format 1 (airbackup 0.1.0)", () => {
  test.skipIf(skipWithout(...ZIP_READERS))("verifies, and every zip tool reads it", async () => {
    const report = await verifyArchive(SAMPLE.file);
    expect(report.problems).toEqual([]);
    await checkWithAllReaders(SAMPLE.file);
  });

  test("inspect reads what it holds", async () => {
    const summary = await inspectArchive(SAMPLE.file);
    expect(Object.fromEntries(summary.tables.map((t) => [t.name, t.records]))).toEqual(SAMPLE.tables);
    expect(summary.format).toBe(1);
  });

  test("restores into an empty base: every record back, exit 0", async () => {
    await using sim = await startAirtableSim({
      bases: [{ id: "appGOLDENTARGET01", name: "Empty", tables: [] }],
      users: SAMPLE_USERS,
    });
    const dir = await mkdtemp(join(tmpdir(), "airbackup-golden-"));
    const archive = join(dir, "sample.zip"); // the restore journal goes next to the archive: keep it out of the repo
    await copyFile(SAMPLE.file, archive);
    const env = { AIRTABLE_TOKEN: "patTEST.secret", AIRTABLE_API_URL: sim.url, AIRTABLE_CONTENT_URL: sim.contentUrl };
    const run = await runCli(["restore", archive, "--base", "appGOLDENTARGET01"], { env });
    expect(run.code).toBe(0);
    const restored = Object.fromEntries(sim.base("appGOLDENTARGET01").tables.map((t) => [t.name, t.records.length]));
    expect(restored).toEqual(SAMPLE.tables);
    const files = sim
      .base("appGOLDENTARGET01")
      .tables.flatMap((t) =>
        t.records.flatMap((r) =>
          Object.values(r.fields).flatMap((v) =>
            Array.isArray(v) ? v.filter((x) => typeof x === "object" && x && "filename" in x) : [],
          ),
        ),
      );
    expect(files).toHaveLength(SAMPLE.cells);
  }, 60_000);
});
