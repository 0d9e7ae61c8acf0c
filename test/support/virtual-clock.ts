// A clock whose time moves only when the test says so: code given it (the rate limiter) sleeps on
// virtual timers, so a busy machine cannot change what a test observes.
import type { Clock } from "../../src/airtable/rate-limiter.ts";

export interface VirtualClock extends Clock {
  /** Fires every timer in time order, letting the code react after each, until none is left. */
  run(): Promise<void>;
  /** Fires the timers due by `at` in time order (each on time), then moves time to `at`. */
  advanceTo(at: number): Promise<void>;
  /** Moves time to `at` in one jump (as a blocked event loop would), then fires the timers due by then. */
  jumpTo(at: number): Promise<void>;
}

interface Timer {
  at: number;
  fire: () => void;
}

export function virtualClock(): VirtualClock {
  let time = 0;
  let timers: Timer[] = [];

  /** Lets every promise chain that can move on do so (setImmediate runs after the microtasks). */
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  const fireDue = async (until: number) => {
    for (;;) {
      await settle();
      const next = timers.reduce<Timer | undefined>((a, t) => (a === undefined || t.at < a.at ? t : a), undefined);
      if (!next || next.at > until) return;
      timers = timers.filter((t) => t !== next);
      time = Math.max(time, next.at);
      next.fire();
    }
  };

  return {
    now: () => time,
    sleep(ms, signal) {
      return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const timer: Timer = {
          at: time + Math.max(0, ms),
          fire: () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          timers = timers.filter((t) => t !== timer);
          reject(signal?.reason);
        };
        timers.push(timer);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
    run: () => fireDue(Number.POSITIVE_INFINITY),
    async advanceTo(at) {
      await fireDue(at);
      time = Math.max(time, at);
    },
    async jumpTo(at) {
      await settle();
      time = Math.max(time, at);
      await fireDue(at);
    },
  };
}
