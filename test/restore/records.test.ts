// The records pass against the simulator: a create whose answer is ambiguous is reconciled by reading the
// table back, never resent blind; a pending create from an earlier run is settled by content hash.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRecords } from "../../src/airtable/write.ts";
import type { ArchivedRecord } from "../../src/archive/contents.ts";
import type { ArchiveSource } from "../../src/restore/archive-source.ts";
import { contentHash, writeFields } from "../../src/restore/cells.ts";
import type { RestoreContext, TableRun } from "../../src/restore/context.ts";
import { openJournal } from "../../src/restore/journal.ts";
import { restoreRecords } from "../../src/restore/records.ts";
import { BASE_ID, fakeId, simClient, TABLE_ID, tinyBase } from "../airtable/sim-client.ts";
import { type AirtableSim, startAirtableSim } from "../support/airtable-sim/index.ts";

const OLD_TABLE = "tblOLD0000000001";
const archived: ArchivedRecord[] = [1, 2, 3].map((i) => ({
  id: fakeId("rec", `OLD${i}`),
  createdTime: "2023-06-01T00:00:00.000Z",
  fields: { Name: `Restored ${i}` },
}));
const table: TableRun = {
  oldId: OLD_TABLE,
  name: "Clients",
  newId: TABLE_ID,
  fields: [{ name: "Name", key: fakeId("fld", "NAME"), type: "singleLineText" }],
};

let dir: string;
let sim: AirtableSim;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "airbackup-records-"));
  sim = await startAirtableSim({ bases: [tinyBase()], perBaseRps: 1000, perUserRps: 1000 });
});
afterEach(async () => {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

function context(journalPath = join(dir, "j.jsonl")): RestoreContext {
  const source = {
    records: async function* () {
      yield* archived;
    },
  } as unknown as ArchiveSource;
  return {
    client: simClient(sim),
    baseId: BASE_ID,
    journal: openJournal(journalPath),
    source,
    typecast: false,
    onEvent: () => {},
  };
}

const restoredNames = () =>
  sim
    .base(BASE_ID)
    .tables[0]!.records.map((r) => r.fields.Name as string)
    .filter((n) => n.startsWith("Restored"))
    .sort();

test("a create answered 503 with an HTML body after the records were written yields no duplicate", async () => {
  sim.onResponse((info) =>
    info.route === "createRecords" && info.n === 1
      ? new Response("<html><body>503 Service Temporarily Unavailable</body></html>", {
          status: 503,
          headers: { "Content-Type": "text/html" },
        })
      : undefined,
  );
  const ctx = context();
  await restoreRecords(ctx, table, archived.length);
  expect(restoredNames()).toEqual(["Restored 1", "Restored 2", "Restored 3"]);
  expect(sim.counters.requests.createRecords).toBe(1);
  expect(ctx.journal.state.records.get(OLD_TABLE)?.size).toBe(3);
  expect(ctx.journal.state.pending.has(OLD_TABLE)).toBe(false);
  ctx.journal.close();
});

test("a pending create whose local `at` is far in the future (a fast clock) still reconciles to the existing record", async () => {
  const path = join(dir, "j.jsonl");
  // An earlier run, on a machine whose clock ran years ahead, sent the create; its answer never came back.
  const fields = writeFields(archived[0]!.fields, table.fields);
  const [existing] = await createRecords(simClient(sim), BASE_ID, TABLE_ID, [{ fields }]);
  const earlier = openJournal(path);
  earlier.append({
    t: "pending",
    table: OLD_TABLE,
    at: "2099-01-01T00:00:00.000Z",
    items: [{ old: archived[0]!.id, hash: contentHash(fields, table.fields) }],
  });
  earlier.close();

  const ctx = context(path);
  await restoreRecords(ctx, table, archived.length);
  expect(restoredNames()).toEqual(["Restored 1", "Restored 2", "Restored 3"]);
  expect(ctx.journal.state.records.get(OLD_TABLE)?.get(archived[0]!.id)).toBe(existing!.id);
  ctx.journal.close();
});

test("reconcile ignores identical rows older than what this restore already created (Airtable's clock only)", async () => {
  const path = join(dir, "j.jsonl");
  const client = simClient(sim);
  const fields = writeFields(archived[1]!.fields, table.fields);
  // An identical row was in the table before (--append); then this restore created record 1.
  await createRecords(client, BASE_ID, TABLE_ID, [{ fields }]);
  await Bun.sleep(5);
  const [first] = await createRecords(client, BASE_ID, TABLE_ID, [
    { fields: writeFields(archived[0]!.fields, table.fields) },
  ]);
  const earlier = openJournal(path);
  earlier.append({ t: "created", table: OLD_TABLE, pairs: [[archived[0]!.id, first!.id]], last: first!.createdTime });
  // The create of record 2 was sent and never arrived.
  earlier.append({
    t: "pending",
    table: OLD_TABLE,
    at: "2099-01-01T00:00:00.000Z",
    after: first!.createdTime,
    items: [{ old: archived[1]!.id, hash: contentHash(fields, table.fields) }],
  });
  earlier.close();

  const ctx = context(path);
  await restoreRecords(ctx, table, archived.length);
  // The old identical row is not claimed: record 2 is created, so there are two "Restored 2" now.
  expect(restoredNames()).toEqual(["Restored 1", "Restored 2", "Restored 2", "Restored 3"]);
  ctx.journal.close();
});
