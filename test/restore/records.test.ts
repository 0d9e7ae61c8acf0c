// The records pass against the simulator: a create whose answer is ambiguous is reconciled by reading the
// table back, never resent blind; a pending create from an earlier run is settled by content hash.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ArchivedRecord, ArchiveSource } from "../../src/restore/archive-source.ts";
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
