// withRetry: bounded attempts with exponential backoff and full jitter, abortable between attempts.
// Shared by the Airtable client and the S3 store; callers decide which errors are worth another try.

export interface RetryInfo {
  /** 1 for the first retry (the second attempt), 2 for the next... */
  attempt: number;
  delayMs: number;
  error: unknown;
}

export interface RetryOptions {
  /** Retries after the first attempt; 0 means one attempt only. */
  retries: number;
  /** Cap of the first retry's delay window; doubles each retry. Default 500 ms. */
  baseDelayMs?: number;
  /** Upper bound of any delay window. Default 30 s. */
  maxDelayMs?: number;
  /** Default: every error is retryable. */
  isRetryable?: (error: unknown) => boolean;
  /** A floor for the next delay taken from the error (e.g. a Retry-After header), if any. */
  minDelayMs?: (error: unknown) => number | undefined;
  onRetry?: (info: RetryInfo) => void;
  signal?: AbortSignal;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
}

/** Runs `fn(attempt)` (attempt 0, 1, ...) until it resolves, a non-retryable error, or the budget ends. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { retries, signal } = options;
  const base = options.baseDelayMs ?? 500;
  const max = options.maxDelayMs ?? 30_000;
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (attempt >= retries || !(options.isRetryable?.(error) ?? true)) throw error;
      const delayMs = Math.max(backoffDelay(attempt, base, max, random), options.minDelayMs?.(error) ?? 0);
      options.onRetry?.({ attempt: attempt + 1, delayMs, error });
      await sleep(delayMs, signal);
    }
  }
}

/** Full jitter (AWS architecture blog): uniform in [0, min(max, base * 2^attempt)). */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random = Math.random): number {
  const window = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  return Math.floor(random() * window);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Sends of one write whose answer may be lost (the first and the resends): the one limit for all of them. */
export const LOST_ANSWER_SENDS = 4;

/**
 * A write that must not happen twice (a create, an upload, a comment), whose answer may be lost: send it;
 * when `isLost(error)` says the answer was lost, `readBack()` looks at the target and decides: `{ value }`
 * if the write happened (its result), undefined if it did not, and it is sent again. Never resent blind;
 * at most `sends` sends (default LOST_ANSWER_SENDS), then the last error is thrown.
 */
export async function withReadBack<T>(
  send: () => Promise<T>,
  readBack: () => Promise<{ value: T } | undefined>,
  options: { isLost: (error: unknown) => boolean; sends?: number },
): Promise<T> {
  const sends = options.sends ?? LOST_ANSWER_SENDS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (!options.isLost(error) || attempt >= sends) throw error;
      const landed = await readBack();
      if (landed) return landed.value;
    }
  }
}
