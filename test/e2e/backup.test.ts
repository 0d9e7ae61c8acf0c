// `airbackup backup`, end to end: the compiled binary against the Airtable simulator.
import { describe, expect, test } from "bun:test";
import { mkdtemp, readdir, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openZip } from "../../src/archive/zip-reader.ts";
import { type AirtableSim, startAirtableSim } from "../support/airtable-sim/index.ts";
import { generateBase, sampleBase } from "../support/airtable-sim/seeds.ts";
import { readArchive } from "../support/archive-contents.ts";
import { runCli } from "../support/cli.ts";
import { skipWithout, ZIP_READERS } from "../support/tools.ts";
import { checkWithAllReaders, sha256Hex } from "../support/zip-oracles.ts";

const TOKEN = "patTEST.secret";

function envFor(sim: AirtableSim, token = TOKEN): Record<string, string> {
  return { AIRTABLE_TOKEN: token, AIRTABLE_API_URL: sim.url, AIRTABLE_CONTENT_URL: sim.contentUrl };
}

async function outDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "airbackup-e2e-"));
}

/** What the API serves now, read straight from the simulator: schema, records and every file's hash by attachment id. */
async function served(sim: AirtableSim, baseId: string) {
  await Bun.sleep(1100); // let the base's 1 s window drain after the backup's requests, then stay under 5/s
  const get = async (path: string) => {
    await Bun.sleep(210);
    const res = await fetch(`${sim.url}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    return res.json() as Promise<any>;
  };
  const schema = await get(`/v0/meta/bases/${baseId}/tables?include=visibleFieldIds`);
  const tables = new Map<string, any[]>();
  const fileHash = new Map<string, string>();
  for (const table of schema.tables) {
    const records: any[] = [];
    let offset: string | undefined;
    do {
      const page = await get(
        `/v0/${baseId}/${table.id}?pageSize=100${offset ? `&offset=${encodeURIComponent(offset)}` : ""}`,
      );
      records.push(...page.records);
      offset = page.offset;
    } while (offset);
    tables.set(table.id, records);
    const attachmentFields = table.fields.filter((f: any) => f.type === "multipleAttachments").map((f: any) => f.name);
    for (const record of records) {
      for (const field of attachmentFields) {
        for (const a of record.fields[field] ?? []) {
          const bytes = new Uint8Array(await (await fetch(a.url)).arrayBuffer());
          fileHash.set(a.id, sha256Hex(bytes));
        }
      }
    }
  }
  return { schema, tables, fileHash };
}

/** Records without the parts that legitimately differ between two reads (signed URLs). */
function stable(records: any[]): any[] {
  return records
    .map((r) =>
      JSON.parse(JSON.stringify(r), (key, value) => (key === "url" || key === "thumbnails" ? undefined : value)),
    )
    .sort((a, b) => a.id.localeCompare(b.id));
}

async function expectArchiveMatches(path: string, sim: AirtableSim, baseId: string): Promise<void> {
  const archive = await readArchive(path);
  const truth = await served(sim, baseId);
  expect(archive.manifest.base.id).toBe(baseId);
  expect(archive.schema).toEqual(truth.schema);
  expect([...archive.tables.keys()].sort()).toEqual([...truth.tables.keys()].sort());
  for (const [tableId, records] of truth.tables) {
    const archived = archive.tables.get(tableId)!;
    expect(stable(archived)).toEqual(stable(records));
    expect(archive.manifest.tables.find((t: any) => t.id === tableId).records).toBe(records.length);
  }
  // Every attachment: indexed once per cell item, bytes present, hash matching what the API serves.
  expect(new Set(archive.index.map((l: any) => l.id))).toEqual(new Set(truth.fileHash.keys()));
  for (const line of archive.index) {
    expect(line.sha256).toBe(truth.fileHash.get(line.id)!);
    const bytes = archive.files.get(line.sha256);
    expect(bytes).toBeDefined();
    expect(sha256Hex(bytes!)).toBe(line.sha256);
  }
  expect(archive.files.size).toBe(new Set(truth.fileHash.values()).size);
}

async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

describe("airbackup backup", () => {
  test.skipIf(skipWithout(...ZIP_READERS))(
    "a whole base: every record, the schema and every attachment byte, readable by every zip tool",
    async () => {
      await using sim = await startAirtableSim({ bases: [sampleBase()] });
      const out = await outDir();
      const r = await runCli(["backup", "-o", out], { env: envFor(sim) });
      expect(r.stderr).toBe(""); // cron: silence when all is well
      expect(r.code).toBe(0);
      const path = r.stdout.trim();
      expect(path).toMatch(new RegExp(`^${out}/sample-crm-${sampleBase().id}-\\d{8}T\\d{6}Z\\.zip$`));
      expect(await filesIn(out)).toEqual([path.slice(out.length + 1)]);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      await expectArchiveMatches(path, sim, sampleBase().id);
      await checkWithAllReaders(path);
      expect(sim.counters.rateLimited).toBe(0);
      const contents = await readArchive(path);
      const manifest = contents.manifest;
      expect(manifest.apiCalls).toBeGreaterThan(0);
      const everything =
        JSON.stringify([contents.manifest, contents.schema, [...contents.tables], contents.index]) +
        Buffer.concat([...contents.files.values()]).toString("latin1");
      expect(everything).not.toContain(TOKEN); // the token never reaches an archive
      expect(manifest.warnings).toEqual([]);

      const verify = await runCli(["verify", path]);
      expect(verify.code).toBe(0);
    },
    60_000, // six zip readers and two binary runs: ~6 s on a loaded machine, over bun's default 5 s
  );

  test("faults: 5xx, dropped connections, an expired iterator and expired attachment URLs still give a complete archive", async () => {
    const seed = generateBase({
      id: "appFAULTSFAULTS01",
      name: "Faulty",
      tables: 3,
      recordsPerTable: 250,
      attachments: { count: 40, bytes: 400_000 },
    });
    await using sim = await startAirtableSim({
      bases: [seed],
      faults: { seed: 7, errorRate: 0.08, dropRate: 0.05, routes: ["list", "meta", "download"] },
    });
    let lists = 0;
    let downloads = 0;
    sim.onRequest(({ route }) => {
      if (route === "listRecords" && ++lists === 4) sim.expireIterators();
      if (route === "download" && ++downloads === 3) sim.expireAttachmentUrls();
    });
    const out = await outDir();
    const r = await runCli(["backup", "-o", out, "--verbose"], { env: envFor(sim) });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("reading it again from the start");
    const path = r.stdout.trim();
    sim.setFaults(undefined);
    await expectArchiveMatches(path, sim, seed.id);
    expect(sim.counters.requests.getRecord ?? 0).toBeGreaterThan(0); // fresh URLs were fetched
  }, 180_000);

  test("at full speed the simulator serves no 429 and sees at most 5 requests/s for the base", async () => {
    const seed = generateBase({ id: "appSPEEDSPEEDSP01", name: "Speed", tables: 4, recordsPerTable: 500 });
    await using sim = await startAirtableSim({ bases: [seed], penaltyMs: 30_000 });
    const out = await outDir();
    const r = await runCli(["backup", "-o", out, "--no-attachments"], { env: envFor(sim) });
    expect(r.code).toBe(0);
    expect(sim.counters.requests.listRecords).toBe(20);
    expect(sim.counters.rateLimited).toBe(0);
    expect(sim.counters.maxRatePerBase[seed.id]).toBeLessThanOrEqual(5);
  }, 60_000);

  test.each(["SIGINT", "SIGTERM", "SIGHUP"] as const)(
    "%s mid-run: exit 130, no archive, no .partial, no temp files",
    async (signal) => {
      const seed = generateBase({ id: "appINTERRUPTED001", name: "Interrupted", tables: 2, recordsPerTable: 2000 });
      await using sim = await startAirtableSim({ bases: [seed], latencyMs: 50 });
      const out = await outDir();
      const r = await runCli(["backup", "-o", out, "--verbose"], {
        env: envFor(sim),
        interrupt: { signal, when: () => (sim.counters.requests.listRecords ?? 0) >= 3 },
      });
      expect(r.code).toBe(130);
      expect(r.stdout).toBe("");
      expect(await filesIn(out)).toEqual([]);
    },
    60_000,
  );

  test("several bases: one failing does not stop the other; the exit code is the worst", async () => {
    const good = generateBase({ id: "appGOODGOODGOOD01", name: "Good", tables: 1, recordsPerTable: 5 });
    const hidden = generateBase({ id: "appHIDDENHIDDEN01", name: "Hidden", tables: 1, recordsPerTable: 5 });
    await using sim = await startAirtableSim({
      bases: [hidden, good],
      tokens: { [TOKEN]: { userId: "usrTEST00000000001", bases: [good.id] } },
    });
    const out = await outDir();
    const r = await runCli(["backup", "-o", out, "--base", hidden.id, "--base", good.id], { env: envFor(sim) });
    expect(r.code).toBe(1);
    const paths = r.stdout.trim().split("\n");
    expect(paths).toHaveLength(1);
    expect(paths[0]).toContain(good.id);
    expect(r.stderr).toContain(hidden.id);
    expect(r.stderr).toContain("403");
    // Not a TTY (cron mail, a pipe): no consola badges; every line says where it comes from.
    for (const line of r.stderr.trim().split("\n")) expect(line).toStartWith("airbackup: ");
    expect(r.stderr).not.toContain(" ERROR ");
    expect(await filesIn(out)).toHaveLength(1);
  });

  test("a field renamed during the run is a warning: exit 3, listed in the manifest", async () => {
    const seed = generateBase({ id: "appRENAMERENAME01", name: "Renamed", tables: 2, recordsPerTable: 300 });
    await using sim = await startAirtableSim({ bases: [seed] });
    let lists = 0;
    sim.onRequest(({ route }) => {
      if (route === "listRecords" && ++lists === 2)
        sim.renameField(seed.id, seed.tables[0]!.id, "Amount", "Amount (EUR)");
    });
    const out = await outDir();
    const r = await runCli(["backup", "-o", out], { env: envFor(sim) });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('"Amount"');
    expect(r.stderr).toContain("renamed");
    const archive = await readArchive(r.stdout.trim());
    expect(archive.manifest.warnings.join("\n")).toContain("Amount (EUR)");
  });

  test("an attachment that cannot be fetched is a warning: exit 3, the rest of the archive verified", async () => {
    const seed = sampleBase();
    await using sim = await startAirtableSim({ bases: [seed] });
    let victim: string | undefined;
    sim.onRequest(({ route, path }) => {
      if (route !== "download") return;
      const attachmentId = path.split("/")[4]; // /v3/<kind>/<expires>/<att id>/<signature>/<filename>
      victim ??= attachmentId;
      if (attachmentId === victim) return new Response("gone", { status: 404 });
    });
    const out = await outDir();
    const r = await runCli(["backup", "-o", out], { env: envFor(sim) });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("could not be downloaded");
    expect(r.stderr).toStartWith("airbackup: warning: ");
    expect(r.stderr).not.toContain(" WARN ");
    const path = r.stdout.trim();
    const archive = await readArchive(path);
    expect(archive.manifest.warnings).toHaveLength(1);
    expect((await runCli(["verify", path])).code).toBe(0);
  });

  test("--table backs up only the named tables; --no-attachments skips files", async () => {
    const seed = sampleBase();
    await using sim = await startAirtableSim({ bases: [seed] });
    const out = await outDir();
    const table = seed.tables[1]!;
    const r = await runCli(["backup", "-o", out, "-b", seed.id, "-t", table.name, "--no-attachments"], {
      env: envFor(sim),
    });
    expect(r.code).toBe(0);
    const archive = await readArchive(r.stdout.trim());
    expect([...archive.tables.keys()]).toEqual([table.id]);
    expect(archive.files.size).toBe(0);
    expect(sim.counters.requests.download ?? 0).toBe(0);
  });

  test("comments: true saves the comments of exactly the records that have some", async () => {
    const seed = sampleBase();
    await using sim = await startAirtableSim({ bases: [seed] });
    const out = await outDir();
    const config = join(out, "airbackup.yaml");
    await writeFile(config, `comments: true\noutput:\n  dir: ${out}/archives\n`);
    const r = await runCli(["backup", "-c", config], { env: envFor(sim) });
    expect(r.code).toBe(0);
    await using zip = await openZip(r.stdout.trim());
    const commented = seed.tables.flatMap((t) =>
      t.records.filter((rec) => (rec.comments?.length ?? 0) > 0).map((rec) => ({ table: t.id, rec })),
    );
    expect(commented.length).toBeGreaterThan(0);
    expect(sim.counters.requests.listComments).toBe(commented.length); // one call per commented record, none for the rest
    for (const { table, rec } of commented) {
      const entry = zip.entry(`comments/${table}.jsonl`);
      expect(entry).toBeDefined();
      const chunks: Uint8Array[] = [];
      for await (const c of zip.readEntry(entry!)) chunks.push(c);
      const lines = Buffer.concat(chunks)
        .toString("utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      const line = lines.find((l) => l.record === rec.id);
      expect(line.comments.map((c: any) => c.text).sort()).toEqual(rec.comments!.map((c: any) => c.text).sort());
    }
  });

  test("without schema.bases:read: the configured tables are backed up, with a warning and no schema.json", async () => {
    const seed = sampleBase();
    await using sim = await startAirtableSim({
      bases: [seed],
      tokens: { [TOKEN]: { userId: "usrTEST00000000001", scopes: ["data.records:read"] } },
    });
    const out = await outDir();
    const config = join(out, "airbackup.yaml");
    const [first, second] = [seed.tables[0]!, seed.tables[1]!];
    await writeFile(
      config,
      `bases:\n  - id: ${seed.id}\n    tables: ["${first.name}", ${second.id}]\noutput:\n  dir: ${out}\n`,
    );
    const r = await runCli(["backup", "-c", config], { env: envFor(sim) });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("schema.bases:read");
    const archive = await readArchive(r.stdout.trim());
    expect(archive.schema).toBeUndefined();
    expect(archive.manifest.tables.map((t: any) => t.name)).toEqual(expect.arrayContaining([first.name, second.id]));
    expect(archive.manifest.tables.reduce((n: number, t: any) => n + t.records, 0)).toBe(
      first.records.length + second.records.length,
    );
    expect(archive.index.length).toBeGreaterThan(0); // attachments found by their shape without a schema
  });

  test("a bad config and a rejected token get their one-line messages", async () => {
    await using sim = await startAirtableSim({ bases: [sampleBase()] });
    const out = await outDir();
    const config = join(out, "airbackup.yaml");
    await writeFile(config, "output:\n  dri: /tmp\n");
    const bad = await runCli(["backup", "-c", config], { env: envFor(sim) });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(`airbackup: ${config}: unknown key "dri" in output; did you mean "dir"?\n`);

    const secret = "patNOPENOPENOPENO.ffffffffffffffffffffffffffffffff";
    const rejected = await runCli(["backup", "-o", out], { env: envFor(sim, secret) });
    expect(rejected.code).toBe(1);
    expect(rejected.stderr.trim().split("\n")[0]).toContain("401");
    expect(rejected.stderr).not.toContain(secret);
    expect(await filesIn(out)).toEqual(["airbackup.yaml"]);
  });
});
