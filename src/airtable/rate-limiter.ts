// Keeps every base under 5 requests/s and the token's user under 50 requests/s, for all concurrent callers.
// A spaced scheduler: each lane (one per base, one for the user) hands out send times at least
// 1000/rps ms apart (plus a safety margin), so any 1 s sliding window on the server holds at most rps.
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
  /** Resolves after `ms` on this clock, or rejects with the signal's reason as soon as it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const realClock: Clock = { now: () => performance.now(), sleep };

export interface RateLimiter {
  /** Resolves when a request for `baseId` (null: not base-scoped, e.g. list bases) may be sent now. */
  acquire(baseId: string | null, signal?: AbortSignal): Promise<void>;
  /** Holds every later request of that base (null: of the user) for `ms` after a 429, and widens its spacing. */
  pause(baseId: string | null, ms: number): void;
  /** Spacing between sends, in ms, as asked (a lane widens after a pause). */
  readonly intervals: { base: number; user: number };
}

export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const margin = 1 + (options.margin ?? 0.025);
  const baseInterval = (1000 / (options.perBaseRps ?? 5)) * margin;
  const userInterval = (1000 / (options.perUserRps ?? 50)) * margin;
  const clock = options.clock ?? realClock;
  const now = () => clock.now();
  const user = newLane(userInterval);
  const bases = new Map<string, Lane>();

  const laneFor = (baseId: string | null): Lane | undefined => {
    if (baseId === null) return undefined;
    let lane = bases.get(baseId);
    if (!lane) {
      lane = newLane(baseInterval);
      bases.set(baseId, lane);
    }
    return lane;
  };

  async function acquire(baseId: string | null, signal?: AbortSignal): Promise<void> {
    const lanes = [laneFor(baseId), user].filter((l): l is Lane => l !== undefined);
    // Rounds repeat only when a pause() arrived while we waited for our slot.
    for (let round = 0; round < 100; round++) {
      signal?.throwIfAborted();
      const start = now();
      for (const lane of lanes) prune(lane, start);
      const slot = earliestCommonSlot(lanes, start);
      for (const lane of lanes) insert(lane, slot);
      let sendAt = slot;
      try {
        await waitUntil(slot, signal);
        if (lanes.some((lane) => lane.pausedUntil > now())) {
          for (const lane of lanes) remove(lane, slot);
          continue;
        }
        // A timer that fired late (a busy event loop) may have let an earlier slot's request go
        // after its time: never send closer than one interval after any earlier send. Only real sends
        // count: waiting on reservations whose own timers are late would starve a request on a busy machine.
        for (let check = 0; check < 100; check++) {
          const t = now();
          const earliest = Math.max(...lanes.map((lane) => lane.lastSent + lane.interval));
          if (earliest <= t) {
            sendAt = t;
            break;
          }
          await waitUntil(earliest, signal);
        }
      } catch (error) {
        for (const lane of lanes) remove(lane, slot); // an unused slot only widens the gaps: safe
        throw error;
      }
      // keep the real send time
      for (const lane of lanes) {
        remove(lane, slot);
        insert(lane, sendAt);
        lane.lastSent = Math.max(lane.lastSent, sendAt);
      }
      return;
    }
    throw new Error("rate limiter: paused too many times in a row");
  }

  async function waitUntil(time: number, signal?: AbortSignal): Promise<void> {
    // setTimeout may fire a little early in ms rounding: loop until the clock really is there.
    for (let wait = time - now(); wait > 0; wait = time - now()) await clock.sleep(Math.ceil(wait), signal);
  }

  function pause(baseId: string | null, ms: number): void {
    const lane = laneFor(baseId) ?? user;
    lane.pausedUntil = Math.max(lane.pausedUntil, now() + ms);
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
  /** Reserved send times, ascending; past ones are kept for one interval since they still constrain. */
  slots: number[];
  pausedUntil: number;
  /** When the latest request on this lane was let through. */
  lastSent: number;
}

function newLane(interval: number): Lane {
  return { nominal: interval, interval, slots: [], pausedUntil: 0, lastSent: Number.NEGATIVE_INFINITY };
}

/** The earliest time >= t that is at least one interval away from every reservation in every lane. */
function earliestCommonSlot(lanes: Lane[], t: number): number {
  // Each pass moves t forward past at least one reservation, so it ends within sum(slots) passes.
  for (let pass = 0; pass < 10_000; pass++) {
    let moved = false;
    for (const lane of lanes) {
      const fitted = fit(lane, t);
      if (fitted !== t) {
        t = fitted;
        moved = true;
      }
    }
    if (!moved) return t;
  }
  return t;
}

/** First gap in one lane at or after t (a lane may have free gaps between later reservations). */
function fit(lane: Lane, t: number): number {
  t = Math.max(t, lane.pausedUntil);
  for (const slot of lane.slots) {
    if (slot + lane.interval <= t) continue;
    if (slot >= t + lane.interval) break;
    t = slot + lane.interval;
  }
  return t;
}

function prune(lane: Lane, now: number): void {
  let stale = 0;
  while (stale < lane.slots.length && (lane.slots[stale] ?? 0) + lane.interval <= now) stale++;
  if (stale > 0) lane.slots.splice(0, stale);
}

function insert(lane: Lane, slot: number): void {
  let i = lane.slots.length;
  while (i > 0 && (lane.slots[i - 1] ?? 0) > slot) i--;
  lane.slots.splice(i, 0, slot);
}

function remove(lane: Lane, slot: number): void {
  const i = lane.slots.indexOf(slot);
  if (i >= 0) lane.slots.splice(i, 1);
}
