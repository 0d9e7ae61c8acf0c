// The rate limiter: spacing per base and per user, concurrency across bases, pause and abort.
import { describe, expect, test } from "bun:test";
import { createRateLimiter } from "../../src/airtable/rate-limiter.ts";

/** The most timestamps found in any window of `windowMs` (closed at both ends: the strictest count). */
function maxInWindow(times: number[], windowMs = 1000): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] ?? 0) - (sorted[j] ?? 0) > windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

async function acquireAll(limiter: ReturnType<typeof createRateLimiter>, keys: (string | null)[]) {
  const times: { key: string | null; at: number }[] = [];
  await Promise.all(keys.map((key) => limiter.acquire(key).then(() => times.push({ key, at: performance.now() }))));
  return times;
}

describe("rate limiter", () => {
  test("defaults space one base's requests ≥ 200 ms apart: never 6 in a second, yet ≥ 4.8/s", async () => {
    const limiter = createRateLimiter();
    const started = performance.now();
    const times = (await acquireAll(limiter, Array(11).fill("appA"))).map((t) => t.at);
    const elapsed = performance.now() - started;
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(195); // 205 ms, less timer jitter in this measurement
    expect(maxInWindow(times)).toBeLessThanOrEqual(5);
    // 10 intervals of 205 ms: 2.05 s, i.e. ~4.9 requests/s after the first.
    expect(10 / (elapsed / 1000)).toBeGreaterThanOrEqual(4.8);
  });

  test("different bases run side by side; only the user limit is shared", async () => {
    const limiter = createRateLimiter({ perBaseRps: 5, perUserRps: 20 });
    const keys = ["appA", "appB", "appC", "appD"].flatMap((k) => Array(5).fill(k));
    const started = performance.now();
    const times = await acquireAll(limiter, keys);
    const elapsed = performance.now() - started;
    for (const base of ["appA", "appB", "appC", "appD"]) {
      expect(maxInWindow(times.filter((t) => t.key === base).map((t) => t.at))).toBeLessThanOrEqual(5);
    }
    expect(maxInWindow(times.map((t) => t.at))).toBeLessThanOrEqual(20);
    const all = times.map((t) => t.at).sort((a, b) => a - b);
    const gaps = all.slice(1).map((t, i) => t - (all[i] ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(45); // 51.25 ms, less timer jitter in this measurement
    // 20 requests over 4 bases: ~4 base intervals (0.82 s), not 19 (3.9 s) as one queue would take.
    expect(elapsed).toBeLessThan(1500);
  });

  test("a blocked event loop (late timers) never lets two sends of a base come closer than the interval", async () => {
    const limiter = createRateLimiter();
    const started = performance.now();
    const pending = acquireAll(limiter, Array(6).fill("appA"));
    // Block the loop across the third slot (~410 ms) so its timer fires ~50 ms late, while the
    // fourth (~615 ms) is on time: sent as scheduled, the two would be only ~155 ms apart.
    await Bun.sleep(390);
    while (performance.now() - started < 460) {} // busy: no timers run
    const times = (await pending).map((t) => t.at).sort((a, b) => a - b);
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(200);
  });

  test("a request for another base is not queued behind one busy base", async () => {
    const limiter = createRateLimiter();
    const busy = Promise.all(Array.from({ length: 8 }, () => limiter.acquire("appBusy")));
    await Bun.sleep(5);
    const started = performance.now();
    await limiter.acquire("appOther");
    expect(performance.now() - started).toBeLessThan(100);
    await busy;
  });

  test("requests without a base count only against the user limit", async () => {
    const limiter = createRateLimiter({ perUserRps: 10 });
    const times = (await acquireAll(limiter, Array(6).fill(null))).map((t) => t.at);
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(95);
    expect(Math.max(...gaps)).toBeLessThan(180); // not held to the 5/s of a base
  });

  test("pause holds a base (requests already waiting included) and leaves others alone", async () => {
    const limiter = createRateLimiter();
    await limiter.acquire("appA");
    const waiting = limiter.acquire("appA").then(() => performance.now());
    const started = performance.now();
    limiter.pause("appA", 400);
    const other = limiter.acquire("appB").then(() => performance.now());
    expect((await waiting) - started).toBeGreaterThanOrEqual(395);
    expect((await other) - started).toBeLessThan(100);
  });

  test("an aborted wait rejects with the reason and gives its slot back", async () => {
    const limiter = createRateLimiter();
    await limiter.acquire("appA");
    const started = performance.now();
    const controller = new AbortController();
    const doomed = limiter.acquire("appA", controller.signal); // holds the slot at ~205 ms
    controller.abort(new Error("stop"));
    await expect(doomed).rejects.toThrow("stop");
    await limiter.acquire("appA"); // takes the freed ~205 ms slot, not ~410 ms
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(195);
    expect(waited).toBeLessThan(330);
  });

  test("an already aborted signal rejects without taking a slot", async () => {
    const limiter = createRateLimiter();
    await expect(limiter.acquire("appA", AbortSignal.abort(new Error("no")))).rejects.toThrow("no");
    const started = performance.now();
    await limiter.acquire("appA");
    expect(performance.now() - started).toBeLessThan(50);
  });
});
