// Several writes in flight at once: as many as the base's rate needs at the latency observed, so that
// the rate limiter (not the wait for each answer) sets the pace. A write whose answer was lost needs
// the target quiet while it is read back: `exclusive` waits until every other task has finished (or is
// waiting to be exclusive too) and holds new ones back meanwhile.

/** Requests per second a base allows (the client's limiter keeps to it). */
export const BASE_RATE = 5;
/** Most writes in flight at once, whatever the latency. */
export const MAX_IN_FLIGHT = 12;

/** Writes in flight needed to keep `rate` requests/s going when an answer takes `latencyMs`. */
export function inFlightFor(latencyMs: number, rate = BASE_RATE): number {
  return Math.max(1, Math.min(MAX_IN_FLIGHT, Math.ceil((rate * latencyMs) / 1000) + 1));
}

export interface Pipeline {
  /** Starts `task` once a slot is free. Throws the first failure of any task (later tasks are not started). */
  add(task: () => Promise<void>): Promise<void>;
  /** Waits for every task; throws the first failure. */
  drain(): Promise<void>;
  /** Runs `fn` while no other task runs (for reading the target back). Only from inside a task. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}

export function createPipeline(width: () => number): Pipeline {
  let active = 0;
  let parked = 0;
  let failure: { error: unknown } | undefined;
  let lock: Promise<void> = Promise.resolve();
  let waiters: (() => void)[] = [];
  const changed = () => new Promise<void>((resolve) => waiters.push(resolve));
  const notify = () => {
    const woken = waiters;
    waiters = [];
    for (const w of woken) w();
  };
  const throwIfFailed = () => {
    if (failure) throw failure.error;
  };
  return {
    async add(task) {
      throwIfFailed();
      while (parked > 0 || active >= Math.max(1, width())) {
        await changed();
        throwIfFailed();
      }
      active++;
      task()
        .catch((error) => {
          failure ??= { error };
        })
        .finally(() => {
          active--;
          notify();
        });
    },
    async drain() {
      while (active > 0) await changed();
      throwIfFailed();
    },
    async exclusive(fn) {
      parked++;
      notify(); // tasks waiting to be exclusive count as quiet: let the one holding the lock re-check
      const previous = lock;
      let release = () => {};
      lock = new Promise<void>((resolve) => {
        release = resolve;
      });
      try {
        await previous;
        while (active - parked > 0) await changed();
        return await fn();
      } finally {
        parked--;
        release();
        notify();
      }
    },
  };
}
