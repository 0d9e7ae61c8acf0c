// A record Airtable refuses: bisection over its fields drops exactly the refused values and keeps every
// other one, with a few requests; a run killed half-way resumes with updates, never a second create.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ArchivedRecord } from "../../src/archive/contents.ts";
import type { ArchiveSource } from "../../src/restore/archive-source.ts";
import type { RestoreContext, TableRun } from "../../src/restore/context.ts";
import { openJournal } from "../../src/restore/journal.ts";
import { restoreRecords } from "../../src/restore/records.ts";
import { fakeId, simClient } from "../airtable/sim-client.ts";
import { type AirtableSim, startAirtableSim } from "../support/airtable-sim/index.ts";

const BASE = fakeId("app", "BISECT");
const TABLE = fakeId("tbl", "TARGET");
const OLD_TABLE = fakeId("tbl", "OLD");
const NUMBERS = ["A", "B", "C", "D", "E", "F", "G"];
// Name plus seven number fields; B and F hold text, which a number field refuses.
const record: ArchivedRecord = {
  id: fakeId("rec", "OLD1"),
  createdTime: "2023-06-01T00:00:00.000Z",
  fields: { Name: "Kept", A: 1, B: "not a number", C: 3, D: 4, E: 5, F: "nor this", G: 7 },
};
const table: TableRun = {
  oldId: OLD_TABLE,
  name: "Scores",
  newId: TABLE,
  fields: [
    { name: "Name", key: fakeId("fld", "NAME"), type: "singleLineText" },
    ...NUMBERS.map((n) => ({ name: n, key: fakeId("fld", n), type: "number" })),
  ],
};

let dir: string;
let sim: AirtableSim;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "airbackup-bisect-"));
  sim = await startAirtableSim({
    bases: [
      {
        id: BASE,
        name: "Bisect",
        tables: [
          {
            id: TABLE,
            name: "Scores",
            fields: table.fields.map((f) => ({
              id: f.key,
              name: f.name,
              type: f.type,
              ...(f.type === "number" ? { options: { precision: 0 } } : {}),
            })),
            records: [],
          },
        ],
      },
    ],
    perBaseRps: 1000,
    perUserRps: 1000,
  });
});
afterEach(async () => {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

function context(signal?: AbortSignal): RestoreContext {
  const source = {
    records: async function* () {
      yield record;
    },
  } as unknown as ArchiveSource;
  return {
    client: simClient(sim),
    baseId: BASE,
    journal: openJournal(join(dir, "j.jsonl")),
    source,
    typecast: false,
    ...(signal ? { signal } : {}),
    onEvent: () => {},
  };
}

const restored = () => sim.base(BASE).tables[0]!.records.map((r) => r.fields);
const good = { Name: "Kept", A: 1, C: 3, D: 4, E: 5, G: 7 };

test("two refused values among eight: exactly those two are dropped, every other value is kept", async () => {
  const ctx = context();
  await restoreRecords(ctx, table, 1);
  expect(restored()).toEqual([good]);
  expect(ctx.journal.state.skipped.map((s) => s.field).sort()).toEqual(["B", "F"]);
  for (const s of ctx.journal.state.skipped) expect(s.reason).toStartWith("422 INVALID_VALUE_FOR_COLUMN: ");
  expect(ctx.journal.state.failed).toEqual([]);
  expect(sim.counters.requests.createRecords).toBeLessThanOrEqual(4); // one create that succeeds
  expect(sim.counters.requests.createRecords! + sim.counters.requests.updateRecords!).toBeLessThanOrEqual(12);
  expect(ctx.journal.state.partial.get(OLD_TABLE)?.get(record.id)?.rest).toEqual([]);
  ctx.journal.close();
});

test("killed after the record was created with part of its fields: the resume adds the rest, no second record", async () => {
  const abort = new AbortController();
  sim.onResponse((info, response) => {
    if (info.route === "createRecords" && response.status === 200) abort.abort(new Error("killed"));
    return undefined;
  });
  const first = context(abort.signal);
  await expect(restoreRecords(first, table, 1)).rejects.toThrow();
  first.journal.close();
  expect(restored()).toHaveLength(1);
  expect(Object.keys(restored()[0]!).length).toBeLessThan(Object.keys(good).length); // created with a part only

  const again = context();
  await restoreRecords(again, table, 1);
  expect(restored()).toEqual([good]);
  expect(sim.counters.requests.createRecords).toBeGreaterThan(0);
  expect(again.journal.state.skipped.map((s) => s.field).sort()).toEqual(["B", "F"]);
  again.journal.close();
});
