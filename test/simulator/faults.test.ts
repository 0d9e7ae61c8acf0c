import { describe, expect, test } from "bun:test";
import { type AirtableSim, startAirtableSim } from "../support/airtable-sim/index.ts";
import { generateBase } from "../support/airtable-sim/seeds.ts";
import { call, TOKEN } from "./helpers.ts";

const base = generateBase({
  id: "appFAULTS00000001",
  tables: 1,
  recordsPerTable: 3,
  attachments: { count: 1, bytes: 1000 },
});
const open = (faults?: Parameters<AirtableSim["setFaults"]>[0], latencyMs = 0) =>
  startAirtableSim({ bases: [base], faults, latencyMs, perBaseRps: 1000, perUserRps: 1000 });
const list = (sim: AirtableSim) => call(sim, `/v0/${base.id}/Table%201`);
const createOne = (sim: AirtableSim) =>
  fetch(`${sim.url}/v0/${base.id}/Table%201`, {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ records: [{ fields: { Name: "new" } }] }),
  });

describe("faults", () => {
  test("errorRate 1 answers 5xx without processing; 503 carries RETRIABLE_ERROR", async () => {
    await using sim = await open({ seed: 7, errorRate: 1, routes: ["list", "write"] });
    const statuses = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const r = await list(sim);
      statuses.add(r.status);
      expect(r.contentType).toBe("application/json; charset=utf-8");
      if (r.status === 503)
        expect(r.body).toEqual({
          error: {
            type: "RETRIABLE_ERROR",
            message: "Server encountered an error while processing your request, and it is safe to retry the request",
          },
        });
    }
    expect([...statuses].every((s) => [500, 502, 503].includes(s))).toBe(true);
    expect(statuses.has(503)).toBe(true);
    expect((await createOne(sim)).status).toBeGreaterThanOrEqual(500);
    expect(sim.base(base.id).tables[0]!.records).toHaveLength(3);
    expect((await call(sim, `/v0/meta/bases/${base.id}/tables`)).status).toBe(200); // meta not selected
  });

  test("a dropped connection is a network error for fetch; a dropped write was still applied", async () => {
    await using sim = await open({ seed: 1, dropRate: 1, routes: ["write", "list"] });
    await expect(list(sim)).rejects.toThrow();
    const error = await createOne(sim).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect(sim.base(base.id).tables[0]!.records).toHaveLength(4);
    expect(sim.counters.writes).toBe(1);
  });

  test("downloads can fault too", async () => {
    await using sim = await open({ seed: 3, dropRate: 1, routes: ["download"] });
    const record = (await list(sim)).body.records.find((r: any) => r.fields.Files);
    await expect(fetch(record.fields.Files[0].url)).rejects.toThrow();
  });

  test("the same seed gives the same faults in the same order; setFaults(undefined) stops them", async () => {
    const run = async () => {
      await using sim = await open({ seed: 42, errorRate: 0.5 });
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push((await list(sim)).status);
      sim.setFaults(undefined);
      statuses.push((await list(sim)).status);
      return statuses;
    };
    const [a, b] = [await run(), await run()];
    expect(a).toEqual(b);
    expect(a.filter((s) => s === 200).length).toBeGreaterThan(5);
    expect(a.filter((s) => s >= 500).length).toBeGreaterThan(5);
    expect(a.at(-1)).toBe(200);
  });

  test("latencyMs delays every API response", async () => {
    await using sim = await open(undefined, 120);
    const started = performance.now();
    await list(sim);
    await call(sim, "/v0/meta/bases", { token: null });
    expect(performance.now() - started).toBeGreaterThanOrEqual(230);
  });
});
