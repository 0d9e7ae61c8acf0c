import { describe, expect, test } from "bun:test";
import { startAirtableSim } from "../support/airtable-sim/index.ts";
import { generateBase } from "../support/airtable-sim/seeds.ts";
import { call } from "./helpers.ts";

const one = generateBase({ id: "appRATEONE0000001", tables: 1, recordsPerTable: 3 });
const two = generateBase({ id: "appRATETWO0000001", tables: 1, recordsPerTable: 3 });
const LIMITED = { error: { type: "RATE_LIMIT_REACHED", message: "Rate limit exceeded. Please try again later" } };
const list = (sim: Parameters<typeof call>[0], base = one.id, token?: string) =>
  call(sim, `/v0/${base}/Table%201`, { token });

describe("rate limits", () => {
  test("the 6th request within a second at one base gets 429, and so does every request in the penalty window", async () => {
    await using sim = await startAirtableSim({ bases: [one, two], penaltyMs: 1500 });
    const burst = await Promise.all(Array.from({ length: 6 }, () => list(sim)));
    expect(burst.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 429]);
    expect(burst.find((r) => r.status === 429)!.body).toEqual(LIMITED);
    expect((await list(sim, two.id)).status).toBe(200); // other bases are not affected
    await Bun.sleep(1100); // the window has moved on, the penalty has not
    expect((await list(sim)).status).toBe(429);
    await Bun.sleep(500);
    expect((await list(sim)).status).toBe(200);
    expect(sim.counters.rateLimited).toBe(2);
    expect(sim.counters.maxRatePerBase[one.id]).toBe(6); // attempted, not only accepted
  });

  test("the per-user limit spans all of a user's tokens and bases", async () => {
    await using sim = await startAirtableSim({
      bases: [one, two],
      perUserRps: 3,
      perBaseRps: 100,
      penaltyMs: 0,
      tokens: {
        "patA.a": { userId: "usrSAME0000000001" },
        "patB.b": { userId: "usrSAME0000000001" },
        "patC.c": { userId: "usrOTHER000000001" },
      },
    });
    const statuses = [];
    for (const [base, token] of [
      [one.id, "patA.a"],
      [two.id, "patB.b"],
      [one.id, "patB.b"],
      [two.id, "patA.a"],
    ] as const)
      statuses.push((await list(sim, base, token)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await list(sim, one.id, "patC.c")).status).toBe(200);
    expect(sim.counters.maxRatePerUser.usrSAME0000000001).toBe(4);
    // Requests without a base (list bases) count for the user only.
    expect((await call(sim, "/v0/meta/bases", { token: "patA.a" })).status).toBe(429);
  });

  test("a client pacing itself at 5 req/s draws no 429 and the sim sees at most 5 in any second", async () => {
    await using sim = await startAirtableSim({ bases: [one] });
    for (let i = 0; i < 12; i++) {
      const started = performance.now();
      expect((await list(sim)).status).toBe(200);
      await Bun.sleep(Math.max(0, 210 - (performance.now() - started)));
    }
    expect(sim.counters.rateLimited).toBe(0);
    expect(sim.counters.maxRatePerBase[one.id]).toBeLessThanOrEqual(5);
    expect(sim.counters.maxRatePerBase[one.id]).toBeGreaterThanOrEqual(4);
  });

  test("429s are counted, and a 401 is not rate limited", async () => {
    await using sim = await startAirtableSim({ bases: [one], perBaseRps: 1, penaltyMs: 10_000 });
    await list(sim);
    await list(sim);
    await list(sim);
    expect(sim.counters.rateLimited).toBe(2);
    expect((await call(sim, `/v0/${one.id}/Table%201`, { token: null })).status).toBe(401);
  });
});
