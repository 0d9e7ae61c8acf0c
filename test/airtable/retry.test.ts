// withRetry: bounded attempts, backoff with full jitter, abort.
import { describe, expect, test } from "bun:test";
import { backoffDelay, LOST_ANSWER_SENDS, sleep, withReadBack, withRetry } from "../../src/retry.ts";

describe("withRetry", () => {
  test("retries until the call succeeds and reports each retry", async () => {
    const seen: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        if (++calls < 3) throw new Error(`fail ${calls}`);
        return "ok";
      },
      { retries: 5, baseDelayMs: 1, onRetry: (info) => seen.push(info.attempt) },
    );
    expect(result).toBe("ok");
    expect(calls).toBe(3);
    expect(seen).toEqual([1, 2]);
  });

  test("gives up after retries + 1 attempts with the last error", async () => {
    let calls = 0;
    const run = withRetry(
      async () => {
        throw new Error(`fail ${++calls}`);
      },
      { retries: 3, baseDelayMs: 1 },
    );
    await expect(run).rejects.toThrow("fail 4");
    expect(calls).toBe(4);
  });

  test("does not retry an error the caller says is final", async () => {
    let calls = 0;
    const run = withRetry(
      async () => {
        calls++;
        throw new TypeError("bug");
      },
      { retries: 5, baseDelayMs: 1, isRetryable: (e) => !(e instanceof TypeError) },
    );
    await expect(run).rejects.toThrow("bug");
    expect(calls).toBe(1);
  });

  test("waits at least the error's own minimum delay (Retry-After)", async () => {
    const delays: number[] = [];
    let calls = 0;
    const started = performance.now();
    await withRetry(
      async () => {
        if (++calls === 1) throw new Error("busy");
      },
      { retries: 1, baseDelayMs: 1, random: () => 0, minDelayMs: () => 120, onRetry: (i) => delays.push(i.delayMs) },
    );
    expect(delays).toEqual([120]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(115);
  });

  test("an abort during the backoff rejects at once with the signal's reason", async () => {
    const controller = new AbortController();
    const started = performance.now();
    const run = withRetry(
      async () => {
        throw new Error("down");
      },
      { retries: 5, baseDelayMs: 60_000, random: () => 0.99, signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error("stop")), 30);
    await expect(run).rejects.toThrow("stop");
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test("an already aborted signal means no attempt at all", async () => {
    let calls = 0;
    const run = withRetry(async () => void calls++, { retries: 2, signal: AbortSignal.abort(new Error("gone")) });
    await expect(run).rejects.toThrow("gone");
    expect(calls).toBe(0);
  });
});

describe("backoffDelay", () => {
  test.each([
    [0, 0.5, 50],
    [1, 0.5, 100],
    [3, 0.5, 400],
    [10, 0.5, 500], // capped by maxDelayMs 1000
    [4, 0, 0],
  ])("attempt %i with random %d waits %i ms (base 100, max 1000)", (attempt, r, expected) => {
    expect(backoffDelay(attempt, 100, 1000, () => r)).toBe(expected);
  });

  test("full jitter: delays spread over the whole window", () => {
    const delays = Array.from({ length: 200 }, () => backoffDelay(2, 100, 10_000));
    expect(Math.min(...delays)).toBeLessThan(100);
    expect(Math.max(...delays)).toBeGreaterThan(300);
    expect(Math.max(...delays)).toBeLessThan(400);
  });
});

describe("sleep", () => {
  test("rejects with the reason when aborted", async () => {
    const controller = new AbortController();
    const pending = sleep(10_000, controller.signal);
    controller.abort(new Error("cancelled"));
    await expect(pending).rejects.toThrow("cancelled");
  });
});

// The one "a write whose answer was lost: read back, then decide" helper, over a real (in-memory) target:
// the write lands or not, its answer is lost or not, and the target is what the read-back consults.
describe("withReadBack", () => {
  class Lost extends Error {}
  function target(plan: { lands: boolean; answered: boolean }[]) {
    const stored: string[] = [];
    let sends = 0;
    const send = async () => {
      const step = plan[Math.min(sends++, plan.length - 1)]!;
      if (step.lands) stored.push(`row ${sends}`);
      if (!step.answered) throw new Lost("connection dropped");
      return `created row ${sends}`;
    };
    const readBack = async () => (stored.length > 0 ? { value: `found ${stored.at(-1)}` } : undefined);
    return { stored, send, readBack, sends: () => sends };
  }
  const isLost = (e: unknown) => e instanceof Lost;

  test("a write that landed but whose answer was lost is not sent again", async () => {
    const t = target([{ lands: true, answered: false }]);
    expect(await withReadBack(t.send, t.readBack, { isLost })).toBe("found row 1");
    expect(t.stored).toEqual(["row 1"]);
    expect(t.sends()).toBe(1);
  });

  test("a write that never arrived is sent again, once per read-back", async () => {
    const t = target([
      { lands: false, answered: false },
      { lands: true, answered: true },
    ]);
    expect(await withReadBack(t.send, t.readBack, { isLost })).toBe("created row 2");
    expect(t.stored).toEqual(["row 2"]);
  });

  test(`at most ${LOST_ANSWER_SENDS} sends, then the lost answer's error`, async () => {
    const t = target([{ lands: false, answered: false }]);
    await expect(withReadBack(t.send, t.readBack, { isLost })).rejects.toThrow("connection dropped");
    expect(t.sends()).toBe(LOST_ANSWER_SENDS);
    expect(t.stored).toEqual([]);
  });

  test("any other error is thrown at once, without a read-back", async () => {
    let readBacks = 0;
    const run = withReadBack(
      async () => {
        throw new Error("refused");
      },
      async () => {
        readBacks++;
        return undefined;
      },
      { isLost },
    );
    await expect(run).rejects.toThrow("refused");
    expect(readBacks).toBe(0);
  });
});
