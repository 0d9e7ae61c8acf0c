// Failures on the way: 5xx and dropped connections are retried for reads; writes that may have
// happened are reported as ambiguous, never resent blindly; timeouts; 429 waits.
import { describe, expect, test } from "bun:test";
import type { AirtableRetryInfo } from "../../src/airtable/client.ts";
import { getBaseSchema, listRecordPages } from "../../src/airtable/read.ts";
import { AmbiguousWriteError } from "../../src/airtable/recoverable-errors.ts";
import { createRecords, updateRecords } from "../../src/airtable/write.ts";
import type { AirbackupError } from "../../src/errors.ts";
import { startAirtableSim } from "../support/airtable-sim/index.ts";
import { BASE_ID, fakeId, rejection, simClient, TABLE_ID, tinyBase } from "./sim-client.ts";

const newRecords = (n: number) => Array.from({ length: n }, (_, i) => ({ fields: { Name: `New ${i}` } }));

describe("faults", () => {
  test("5xx answers and dropped connections on reads are retried until the listing is whole", async () => {
    await using sim = await startAirtableSim({
      bases: [tinyBase()],
      faults: { seed: 7, errorRate: 0.3, dropRate: 0.15, routes: ["list", "meta"] },
    });
    const retries: AirtableRetryInfo[] = [];
    // keepAlive false: Bun's fetch would otherwise resend some dropped GETs itself, unseen and uncounted.
    const client = simClient(sim, { retries: 8, keepAlive: false, onRetry: (info) => retries.push(info) });
    await getBaseSchema(client, BASE_ID);
    const ids: string[] = [];
    for await (const page of listRecordPages(client, BASE_ID, TABLE_ID, { pageSize: 3 }))
      ids.push(...page.map((r) => r.id));
    expect(ids).toEqual(sim.base(BASE_ID).tables[0]!.records.map((r) => r.id));
    expect(retries.some((r) => r.reason.startsWith("HTTP 5"))).toBe(true);
    expect(retries.some((r) => r.reason.startsWith("network error"))).toBe(true);
    expect(client.calls).toBe(sim.counters.total); // every attempt counted, retries included
    expect(client.calls).toBe(9 + retries.length); // 1 schema + 8 pages, plus one per retry
  }, 30_000);

  test("a create whose connection dropped throws AmbiguousWriteError and is not resent", async () => {
    await using sim = await startAirtableSim({
      bases: [tinyBase()],
      faults: { seed: 1, dropRate: 1, routes: ["write"] },
    });
    const client = simClient(sim);
    const error = await rejection(createRecords(client, BASE_ID, TABLE_ID, newRecords(3)));
    expect(error).toBeInstanceOf(AmbiguousWriteError);
    expect((error as AirbackupError).message).toContain("may or may not have happened");
    expect(sim.counters.requests.createRecords).toBe(1);
    // It did happen: exactly why the caller must read back before trying again.
    expect(sim.base(BASE_ID).tables[0]!.records.length).toBe(26);
  });

  test.each([500, 502])("a create answered %i is ambiguous too", async (status) => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    sim.onRequest((info) =>
      info.route === "createRecords" ? Response.json({ error: { type: "SERVER_ERROR" } }, { status }) : undefined,
    );
    const error = await rejection(createRecords(simClient(sim), BASE_ID, TABLE_ID, newRecords(1)));
    expect(error).toBeInstanceOf(AmbiguousWriteError);
    expect(sim.counters.requests.createRecords).toBe(1);
  });

  test("a create answered 503 (nothing written) is retried and goes through once", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    sim.onRequest((info) =>
      info.route === "createRecords" && info.n <= 2
        ? Response.json({ error: { type: "RETRIABLE_ERROR" } }, { status: 503 })
        : undefined,
    );
    const created = await createRecords(simClient(sim), BASE_ID, TABLE_ID, newRecords(2));
    expect(created.map((r) => r.fields.Name)).toEqual(["New 0", "New 1"]);
    expect(sim.counters.requests.createRecords).toBe(3);
    expect(sim.base(BASE_ID).tables[0]!.records.length).toBe(25);
  });

  test("a create answered 503 with a proxy's HTML page (not Airtable's RETRIABLE_ERROR) is ambiguous, not resent", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    sim.onResponse((info) =>
      info.route === "createRecords"
        ? new Response("<html><body><h1>503 Service Unavailable</h1></body></html>", {
            status: 503,
            headers: { "Content-Type": "text/html" },
          })
        : undefined,
    );
    const error = await rejection(createRecords(simClient(sim), BASE_ID, TABLE_ID, newRecords(1)));
    expect(error).toBeInstanceOf(AmbiguousWriteError);
    expect(sim.counters.requests.createRecords).toBe(1);
    expect(sim.base(BASE_ID).tables[0]!.records.length).toBe(24); // it was written once, never resent
  });

  test("an update (PATCH, idempotent) is retried through dropped connections", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    let dropped = 0;
    sim.setFaults({ seed: 1, dropRate: 1, routes: ["write"] }); // the PATCH is applied, then the answer is lost
    const client = simClient(sim, {
      keepAlive: false,
      onRetry: () => {
        dropped++;
        sim.setFaults(undefined);
      },
    });
    const updated = await updateRecords(client, BASE_ID, TABLE_ID, [
      { id: fakeId("rec", 1), fields: { Name: "Renamed" } },
    ]);
    expect(updated[0]!.fields.Name).toBe("Renamed");
    expect(dropped).toBe(1);
    expect(sim.counters.requests.updateRecords).toBe(2);
  });

  test("a slow answer times out and is retried; past the budget it is AIRTABLE_UNAVAILABLE", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()], latencyMs: 300 });
    const reasons: string[] = [];
    const client = simClient(sim, { timeoutMs: 100, retries: 1, onRetry: (i) => reasons.push(i.reason) });
    const error = await rejection(getBaseSchema(client, BASE_ID));
    expect((error as AirbackupError).code).toBe("AIRTABLE_UNAVAILABLE");
    expect((error as Error).message).toContain("timed out after 100 ms, after 2 attempts");
    expect(reasons).toEqual(["timed out after 100 ms"]);
  });

  test("a create that times out is ambiguous", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()], latencyMs: 300 });
    const error = await rejection(createRecords(simClient(sim, { timeoutMs: 100 }), BASE_ID, TABLE_ID, newRecords(1)));
    expect(error).toBeInstanceOf(AmbiguousWriteError);
    expect((error as Error).message).toContain("timed out");
  });

  test("a 429 holds the base for rateLimitWaitMs, then the work goes on; it does not use the retry budget", async () => {
    // The server allows 2/s with a 700 ms lockout; the client is set for 5/s, so it will overrun.
    await using sim = await startAirtableSim({ bases: [tinyBase()], perBaseRps: 2, penaltyMs: 700 });
    const reports: AirtableRetryInfo[] = [];
    const client = simClient(sim, { retries: 0, rateLimitWaitMs: 800, onRetry: (i) => reports.push(i) });
    const started = performance.now();
    let count = 0;
    for await (const page of listRecordPages(client, BASE_ID, TABLE_ID, { pageSize: 3 })) count += page.length;
    expect(count).toBe(23);
    expect(sim.counters.rateLimited).toBeGreaterThan(0);
    expect(reports.filter((r) => r.reason === "HTTP 429 RATE_LIMIT_REACHED").length).toBe(sim.counters.rateLimited);
    expect(reports.every((r) => r.delayMs === 800)).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(800);
  });

  test("429 again and again: gives up after maxRateLimitWaits with a clear error", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    sim.onRequest(() =>
      Response.json({ error: { type: "RATE_LIMIT_REACHED", message: "Rate limit exceeded" } }, { status: 429 }),
    );
    const client = simClient(sim, { rateLimitWaitMs: 10, maxRateLimitWaits: 3 });
    const error = await rejection(getBaseSchema(client, BASE_ID));
    expect((error as AirbackupError).code).toBe("AIRTABLE_UNAVAILABLE");
    expect((error as Error).message).toContain("keeps rate-limiting");
    expect(client.calls).toBe(4);
  });

  test("the monthly call budget (PUBLIC_API_BILLING_LIMIT_EXCEEDED) is not waited out", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    sim.onRequest(() => Response.json({ error: { type: "PUBLIC_API_BILLING_LIMIT_EXCEEDED" } }, { status: 429 }));
    const client = simClient(sim, { rateLimitWaitMs: 10_000 });
    const error = await rejection(getBaseSchema(client, BASE_ID));
    expect((error as AirbackupError).hint).toContain("monthly");
    expect(client.calls).toBe(1);
  });

  test("aborting the client's signal stops a 429 wait at once with INTERRUPTED", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    sim.onRequest(() => Response.json({ error: { type: "RATE_LIMIT_REACHED" } }, { status: 429 }));
    const controller = new AbortController();
    const client = simClient(sim, { signal: controller.signal });
    const started = performance.now();
    setTimeout(() => controller.abort(), 50);
    const error = await rejection(getBaseSchema(client, BASE_ID));
    expect((error as AirbackupError).code).toBe("INTERRUPTED");
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
