// The rate limiter: spacing per base and per user, concurrency across bases, pause and abort. Every test
// runs on a virtual clock, so the times below are exact and a busy machine cannot make them flake.
import { describe, expect, test } from "bun:test";
import { createRateLimiter, type RateLimiter, type RateLimiterOptions } from "../../src/airtable/rate-limiter.ts";
import { type VirtualClock, virtualClock } from "../support/virtual-clock.ts";

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

function gapsOf(times: number[]): number[] {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted.slice(1).map((t, i) => t - (sorted[i] ?? 0));
}

function setup(options: RateLimiterOptions = {}): { clock: VirtualClock; limiter: RateLimiter } {
  const clock = virtualClock();
  return { clock, limiter: createRateLimiter({ ...options, clock }) };
}

/** Starts one acquire per key; `times` fills in (virtual send times) as the clock runs. */
function acquireAll(clock: VirtualClock, limiter: RateLimiter, keys: (string | null)[]) {
  const times: { key: string | null; at: number }[] = [];
  const done = Promise.all(
    keys.map((key) => limiter.acquire(key).then(() => void times.push({ key, at: clock.now() }))),
  );
  return { times, done };
}

describe("rate limiter (virtual clock)", () => {
  test("defaults space one base's requests 205 ms apart: never 6 in a second, yet 10 intervals take 2.05 s", async () => {
    const { clock, limiter } = setup();
    const { times, done } = acquireAll(clock, limiter, Array(11).fill("appA"));
    await clock.run();
    await done;
    const at = times.map((t) => t.at);
    expect(Math.min(...gapsOf(at))).toBeGreaterThanOrEqual(205);
    expect(maxInWindow(at)).toBe(5);
    expect(Math.max(...at)).toBeLessThanOrEqual(10 * 205 + 10); // ~4.9/s: spaced, not slowed further
  });

  test("different bases run side by side; only the user limit is shared", async () => {
    const { clock, limiter } = setup({ perBaseRps: 5, perUserRps: 20 });
    const bases = ["appA", "appB", "appC", "appD"];
    const { times, done } = acquireAll(
      clock,
      limiter,
      bases.flatMap((k) => Array(5).fill(k)),
    );
    await clock.run();
    await done;
    for (const base of bases) {
      const at = times.filter((t) => t.key === base).map((t) => t.at);
      expect(Math.min(...gapsOf(at))).toBeGreaterThanOrEqual(205);
    }
    const all = times.map((t) => t.at);
    expect(maxInWindow(all)).toBeLessThanOrEqual(20);
    expect(Math.min(...gapsOf(all))).toBeGreaterThanOrEqual(51.25);
    // 20 requests over 4 bases take about 4 base intervals (~0.97 s), not 19 (3.9 s) as one queue would.
    expect(Math.max(...all)).toBeLessThan(1100);
  });

  test("a blocked event loop (late timers) never lets two sends of a base come closer than the interval", async () => {
    const { clock, limiter } = setup();
    const { times, done } = acquireAll(clock, limiter, Array(6).fill("appA"));
    // The third slot is at 410 ms; the loop is blocked from 390 to 460 ms, so its timer fires 50 ms
    // late, while the fourth (615 ms) is on time: sent as scheduled, the two would be 155 ms apart.
    await clock.advanceTo(390);
    expect(times).toHaveLength(2);
    await clock.jumpTo(460);
    await clock.run();
    await done;
    const at = times.map((t) => t.at);
    expect(at[2]).toBe(460);
    expect(Math.min(...gapsOf(at))).toBeGreaterThanOrEqual(205);
  });

  test("a request for another base is not queued behind one busy base", async () => {
    const { clock, limiter } = setup();
    const busy = acquireAll(clock, limiter, Array(8).fill("appBusy"));
    const other = acquireAll(clock, limiter, ["appOther"]);
    await clock.run();
    await Promise.all([busy.done, other.done]);
    expect(other.times[0]?.at).toBeLessThan(205); // the next user slot (20.5 ms), not after 8 busy ones
    expect(Math.max(...busy.times.map((t) => t.at))).toBeGreaterThanOrEqual(7 * 205);
  });

  test("requests without a base count only against the user limit", async () => {
    const { clock, limiter } = setup({ perUserRps: 10 });
    const { times, done } = acquireAll(clock, limiter, Array(6).fill(null));
    await clock.run();
    await done;
    const gaps = gapsOf(times.map((t) => t.at));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(102.5);
    expect(Math.max(...gaps)).toBeLessThan(205); // not held to the 5/s of a base
  });

  test("pause holds a base (requests already waiting included) and leaves others alone", async () => {
    const { clock, limiter } = setup();
    const first = acquireAll(clock, limiter, ["appA"]);
    await clock.advanceTo(0);
    await first.done;
    const waiting = acquireAll(clock, limiter, ["appA"]);
    limiter.pause("appA", 400);
    const other = acquireAll(clock, limiter, ["appB"]);
    await clock.run();
    await Promise.all([waiting.done, other.done]);
    expect(waiting.times[0]?.at).toBeGreaterThanOrEqual(400);
    expect(other.times[0]?.at).toBeLessThan(100);
  });

  test("after a pause (a 429) that base's sends are spaced a tenth wider, a quarter at most; other bases keep theirs", async () => {
    const { clock, limiter } = setup();
    const spacing = async (key: string) => {
      const { times, done } = acquireAll(clock, limiter, Array(4).fill(key));
      await clock.run();
      await done;
      return Math.min(...gapsOf(times.map((t) => t.at)));
    };
    // Whole milliseconds on the virtual clock: each gap is the spacing, rounded up.
    const within = (gap: number, spacing: number) => expect(gap - spacing).toBeWithin(0, 1);
    within(await spacing("appA"), 205);
    limiter.pause("appA", 1000);
    within(await spacing("appA"), 225.5);
    for (let i = 0; i < 5; i++) limiter.pause("appA", 0);
    within(await spacing("appA"), 256.25);
    within(await spacing("appB"), 205);
  });

  test("an aborted wait rejects with the reason and gives its slot back", async () => {
    const { clock, limiter } = setup();
    const first = acquireAll(clock, limiter, ["appA"]);
    await clock.advanceTo(0);
    await first.done;
    const controller = new AbortController();
    const doomed = limiter.acquire("appA", controller.signal); // holds the slot at 205 ms
    controller.abort(new Error("stop"));
    await expect(doomed).rejects.toThrow("stop");
    const next = acquireAll(clock, limiter, ["appA"]);
    await clock.run();
    await next.done;
    expect(next.times[0]?.at).toBe(205); // the freed slot, not the one after it (410 ms)
  });

  test("an already aborted signal rejects without taking a slot", async () => {
    const { clock, limiter } = setup();
    await expect(limiter.acquire("appA", AbortSignal.abort(new Error("no")))).rejects.toThrow("no");
    const next = acquireAll(clock, limiter, ["appA"]);
    await clock.run();
    await next.done;
    expect(next.times[0]?.at).toBe(0);
  });
});
