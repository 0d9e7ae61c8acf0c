// The acceptance test of the limiter: a client at full speed never draws a 429 from the simulator's
// sliding-window limits (5/s per base, 50/s per user, 30 s penalty), yet runs close to the ceiling.
import { describe, expect, test } from "bun:test";
import { createRateLimiter } from "../../src/airtable/rate-limiter.ts";
import { getBaseSchema, listRecordPages } from "../../src/airtable/read.ts";
import { startAirtableSim } from "../support/airtable-sim/index.ts";
import { generateBase } from "../support/airtable-sim/seeds.ts";
import { fakeId, simClient } from "./sim-client.ts";

async function countRecords(client: ReturnType<typeof simClient>, baseId: string, table: string, pageSize: number) {
  let count = 0;
  for await (const page of listRecordPages(client, baseId, table, { pageSize })) count += page.length;
  return count;
}

describe("rate limits", () => {
  test("four tables of one base read concurrently at full speed: no 429, ≤ 5/s, near 5/s", async () => {
    const baseId = fakeId("app", "LOAD");
    await using sim = await startAirtableSim({
      bases: [generateBase({ id: baseId, tables: 4, recordsPerTable: 300 })],
      penaltyMs: 30_000,
    });
    const client = simClient(sim); // the defaults: 5/s per base, 50/s per user
    const started = performance.now();
    const schema = await getBaseSchema(client, baseId);
    const counts = await Promise.all(schema.tables.map((t) => countRecords(client, baseId, t.id, 25)));
    const seconds = (performance.now() - started) / 1000;
    const n = sim.counters.total;

    expect(counts).toEqual([300, 300, 300, 300]);
    expect(n).toBe(1 + 4 * 12);
    expect(client.calls).toBe(n);
    expect(sim.counters.rateLimited).toBe(0);
    expect(sim.counters.maxRatePerBase[baseId]).toBeLessThanOrEqual(5);
    expect(seconds).toBeGreaterThanOrEqual((n - 5) / 5);
  }, 60_000);

  test("several bases at once stay under the user limit (scaled down: 10/s per user)", async () => {
    const bases = ["A", "B", "C", "D"].map((tag) =>
      generateBase({ id: fakeId("app", `USER${tag}`), tables: 2, recordsPerTable: 40, seed: tag.charCodeAt(0) }),
    );
    await using sim = await startAirtableSim({ bases, perUserRps: 10, penaltyMs: 30_000 });
    const client = simClient(sim, { limiter: createRateLimiter({ perUserRps: 10 }) });
    const started = performance.now();
    const counts = await Promise.all(
      bases.flatMap((base) => base.tables.map((table) => countRecords(client, base.id, table.id, 10))),
    );
    const seconds = (performance.now() - started) / 1000;
    const n = sim.counters.total;

    expect(counts).toEqual(Array(8).fill(40));
    expect(n).toBe(8 * 4);
    expect(sim.counters.rateLimited).toBe(0);
    expect(Math.max(...Object.values(sim.counters.maxRatePerUser))).toBeLessThanOrEqual(10);
    for (const base of bases) expect(sim.counters.maxRatePerBase[base.id]).toBeLessThanOrEqual(5);
    // Bound by the user's 10/s, not by four bases × 5/s.
    expect(seconds).toBeGreaterThanOrEqual((n - 10) / 10);
  }, 30_000);

  test("one shared limiter keeps two clients of the same token together under the base limit", async () => {
    const baseId = fakeId("app", "SHARED");
    await using sim = await startAirtableSim({ bases: [generateBase({ id: baseId, tables: 2, recordsPerTable: 60 })] });
    const limiter = createRateLimiter();
    const [a, b] = [simClient(sim, { limiter }), simClient(sim, { limiter })];
    const schema = await getBaseSchema(a, baseId);
    await Promise.all([
      countRecords(a, baseId, schema.tables[0]!.id, 10),
      countRecords(b, baseId, schema.tables[1]!.id, 10),
    ]);
    expect(sim.counters.rateLimited).toBe(0);
    expect(sim.counters.maxRatePerBase[baseId]).toBeLessThanOrEqual(5);
  }, 30_000);
});
