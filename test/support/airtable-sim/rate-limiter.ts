// Airtable's limits: 5 req/s per base and 50 req/s per user (all of its tokens), in a sliding
// 1-second window. Going over gets a 429 and starts a penalty window in which every request for
// that base (or user) also gets a 429. Also keeps the highest rate seen, for assertions.

export interface RateLimiterOptions {
  perBaseRps: number;
  perUserRps: number;
  penaltyMs: number;
}

export interface RateLimiter {
  /** Records an attempt at `now` (ms); true if it may proceed, false if it gets a 429. */
  admit(userId: string, baseId: string | undefined, now: number): boolean;
  maxRatePerBase: Record<string, number>;
  maxRatePerUser: Record<string, number>;
}

const WINDOW_MS = 1000;

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const bases = new Map<string, Bucket>();
  const users = new Map<string, Bucket>();
  const maxRatePerBase: Record<string, number> = {};
  const maxRatePerUser: Record<string, number> = {};

  return {
    maxRatePerBase,
    maxRatePerUser,
    admit(userId, baseId, now) {
      const user = bucket(users, userId);
      const base = baseId === undefined ? undefined : bucket(bases, baseId);
      // The max rates count every request that arrived (accepted or refused), so a client that
      // overruns the limit shows its true rate; a client that never drew a 429 has attempted == accepted.
      maxRatePerUser[userId] = Math.max(maxRatePerUser[userId] ?? 0, record(user.attempts, now));
      if (base && baseId) maxRatePerBase[baseId] = Math.max(maxRatePerBase[baseId] ?? 0, record(base.attempts, now));

      const userOk = allowed(user, options.perUserRps, options.penaltyMs, now);
      const baseOk = base ? allowed(base, options.perBaseRps, options.penaltyMs, now) : true;
      if (!userOk || !baseOk) return false;
      user.accepted.push(now);
      base?.accepted.push(now);
      return true;
    },
  };
}

// --- internal ---

interface Bucket {
  attempts: number[]; // arrival times in the current window
  accepted: number[]; // accepted request times in the current window
  penaltyUntil: number;
}

function bucket(map: Map<string, Bucket>, key: string): Bucket {
  let b = map.get(key);
  if (!b) {
    b = { attempts: [], accepted: [], penaltyUntil: 0 };
    map.set(key, b);
  }
  return b;
}

/** Adds `now` to a window of times and returns how many fall in (now - 1 s, now]. */
function record(times: number[], now: number): number {
  times.push(now);
  prune(times, now);
  return times.length;
}

function prune(times: number[], now: number): void {
  let drop = 0;
  while (drop < times.length && times[drop]! <= now - WINDOW_MS) drop++;
  if (drop > 0) times.splice(0, drop);
}

/** The limit applies to accepted requests: the (limit+1)th within a second is refused and starts the penalty. */
function allowed(b: Bucket, limit: number, penaltyMs: number, now: number): boolean {
  if (now < b.penaltyUntil) return false;
  prune(b.accepted, now);
  if (b.accepted.length < limit) return true;
  b.penaltyUntil = now + penaltyMs;
  return false;
}
