// Keeps every base under 5 requests/s and the token's user under 50 requests/s, for all concurrent callers.
// A dispatcher: waiting requests queue, and one timer lets the next one go when both its lanes (its base's
// and the user's) allow it: never sooner than 1000/rps ms (plus a margin) after that lane's previous send,
// so any 1 s sliding window on the server holds at most rps, and a token bucket never runs dry.
import { sleep } from "../retry.ts";

export interface RateLimiterOptions {
  /** Airtable: 5 per base. */
  perBaseRps?: number;
  /** Airtable: 50 per user, across all of that user's tokens (this process only sees its own). */
  perUserRps?: number;
  /**
   * Extra spacing as a fraction of the interval (default 0.025: 205 ms per base, 20.5 ms per user),
   * so that jitter between sending and the server's arrival clock does not put rps+1 in one window.
   */
  margin?: number;
  /** Injected for tests: a monotonic millisecond clock and its timer. Default performance.now and setTimeout. */
  clock?: Clock;
}

export interface Clock {
  now(): number;
  /** Resolves after `ms` (fractions allowed) on this clock, or rejects with the signal's reason as soon as it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface RateLimiter {
  /** Resolves when a request for `baseId` (null: not base-scoped, e.g. list bases) may be sent now. */
  acquire(baseId: string | null, signal?: AbortSignal): Promise<void>;
  /** Holds every later request of that base (null: of the user) for `ms` after a 429, and widens its spacing. */
  pause(baseId: string | null, ms: number): void;
  /** Spacing between sends, in ms, as asked (a lane widens after a pause). */
  readonly intervals: { base: number; user: number };
}

/** How many sends a base held up (a slow answer, a busy event loop) may make up ahead of the others' turns. */
export const CATCH_UP_SENDS = 3;

export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const margin = 1 + (options.margin ?? 0.025);
  const baseInterval = spacing(options.perBaseRps ?? 5, margin);
  const userInterval = spacing(options.perUserRps ?? 50, margin);
  const clock = options.clock ?? realClock;
  const user = newLane(userInterval);
  const bases = new Map<string, Lane>();
  const waiting: Waiter[] = [];
  let arrivals = 0;
  let wakeAt = Number.POSITIVE_INFINITY;
  /** Fair queuing's virtual time: the turn of the latest base request let through (never decreases). */
  let turn = 0;

  const laneFor = (baseId: string | null): Lane | undefined => {
    if (baseId === null) return undefined;
    let lane = bases.get(baseId);
    if (!lane) {
      lane = newLane(baseInterval, turn); // a new base takes its turn from now: no credit for the past
      bases.set(baseId, lane);
    }
    return lane;
  };

  /** Lets the best waiter go if its lanes allow it now, then sets the timer for the next one. */
  function dispatch(): void {
    const now = clock.now();
    const ready = waiting.filter((w) => readyAt(w) <= now);
    if (ready.length > 0) {
      const next = pick(ready);
      waiting.splice(waiting.indexOf(next), 1);
      user.lastSent = now;
      if (next.lane) {
        const at = turnOf(next.lane);
        next.lane.lastSent = now;
        next.lane.nextTurn = at + 1;
        turn = Math.max(turn, at);
      }
      next.go();
    }
    schedule();
  }

  function readyAt(w: Waiter): number {
    return Math.max(opensAt(user), w.lane ? opensAt(w.lane) : Number.NEGATIVE_INFINITY);
  }

  /** A base's place in the round: its next turn, or a few behind the current one if it fell further back. */
  function turnOf(lane: Lane): number {
    return Math.max(lane.nextTurn, turn - CATCH_UP_SENDS);
  }

  /**
   * Among waiters ready now, fair queuing: the base whose turn is earliest goes first (then arrival
   * order), so bases started together stay in step and finish together, none left alone at its 5/s at the
   * end while the token's 50/s idles; one held up makes up at most CATCH_UP_SENDS, and a new one starts at
   * the current turn, so a base far ahead is never starved. A request of no base (the list of bases,
   * which every base waits for) goes first.
   */
  function pick(ready: Waiter[]): Waiter {
    const rank = (w: Waiter) => (w.lane ? turnOf(w.lane) : Number.NEGATIVE_INFINITY);
    const before = (a: Waiter, b: Waiter) => rank(a) < rank(b) || (rank(a) === rank(b) && a.arrival < b.arrival);
    return ready.reduce((best, w) => (before(w, best) ? w : best));
  }

  function schedule(): void {
    if (waiting.length === 0) return;
    const at = Math.min(...waiting.map(readyAt));
    if (at >= wakeAt) return; // an earlier timer is set; it schedules again when it fires
    wakeAt = at;
    clock.sleep(Math.max(0, at - clock.now())).then(() => {
      if (wakeAt === at) wakeAt = Number.POSITIVE_INFINITY;
      dispatch();
    });
  }

  function acquire(baseId: string | null, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        const at = waiting.indexOf(waiter);
        if (at < 0) return;
        waiting.splice(at, 1); // its slot was never taken: the next waiter may have it
        reject(signal?.reason);
        schedule();
      };
      const waiter: Waiter = {
        lane: laneFor(baseId),
        arrival: arrivals++,
        go: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      waiting.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
      dispatch();
    });
  }

  function pause(baseId: string | null, ms: number): void {
    const lane = laneFor(baseId) ?? user;
    lane.pausedUntil = Math.max(lane.pausedUntil, clock.now() + ms);
    // A 429 means the server saw our sends closer together than we spaced them (its clock, the network's
    // jitter): that lane keeps a wider spacing from then on, so one run pays for a 429 once, not again.
    lane.interval = Math.min(lane.interval * WIDEN_AFTER_PAUSE, lane.nominal * MOST_WIDENED);
  }

  return { acquire, pause, intervals: { base: baseInterval, user: userInterval } };
}

// --- internal ---

/** After a pause (a 429) a lane's spacing grows by a tenth, to at most a quarter over the nominal. */
const WIDEN_AFTER_PAUSE = 1.1;
const MOST_WIDENED = 1.25;

interface Lane {
  /** The spacing asked for (1000/rps with the margin). */
  nominal: number;
  /** The spacing in use: the nominal one, widened after each pause. */
  interval: number;
  /** When the latest request on this lane was let through (its real time, however late the timer fired). */
  lastSent: number;
  pausedUntil: number;
  /** Fair queuing: the turn of this base's next request (one more per request let through). */
  nextTurn: number;
}

interface Waiter {
  lane: Lane | undefined;
  /** Arrival order, for ties. */
  arrival: number;
  go(): void;
}

function newLane(interval: number, turn = 0): Lane {
  return { nominal: interval, interval, lastSent: Number.NEGATIVE_INFINITY, pausedUntil: 0, nextTurn: turn };
}

/** ms between sends, rounded up to the microsecond (205, not 204.99999999999997: times add up exactly). */
function spacing(rps: number, margin: number): number {
  return Math.ceil((1_000_000 / rps) * margin) / 1000;
}

function opensAt(lane: Lane): number {
  return Math.max(lane.lastSent + lane.interval, lane.pausedUntil);
}

/**
 * setTimeout fires about 0.2 ms late at best, and takes whole milliseconds: sleeping the whole part and
 * yielding to the event loop for the rest keeps sends within a fraction of a millisecond of their time
 * (rounded up, every send lost ~0.7 ms: 4% of the token's 20.5 ms spacing).
 */
const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    ms >= 1 ? sleep(Math.floor(ms), signal) : new Promise<void>((resolve) => setImmediate(resolve)),
};
