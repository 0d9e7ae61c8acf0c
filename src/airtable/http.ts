// One HTTP exchange for the Airtable client: a timeout per attempt, network failures as Transient (the
// retry loop decides), and API bodies read with a size cap so a hostile or broken server cannot fill memory.
import { AirbackupError } from "../errors.ts";
import { formatBytes } from "../format.ts";
import { redact } from "./error-answers.ts";

/** A failure worth another attempt: 5xx, 429 on downloads, timeouts, dropped connections. */
export class Transient extends Error {
  constructor(
    readonly reason: string,
    /** Airtable itself said it did nothing (503 with a RETRIABLE_ERROR body), so even a create may be resent. */
    readonly noWriteHappened: boolean,
    readonly retryAfterMs: number | undefined,
    cause?: Error,
  ) {
    super(reason, { cause });
  }
}

export interface SendOptions {
  signal: AbortSignal | undefined;
  timeoutMs: number;
  /** true: the timeout covers reading the body too (API calls); false: only until the headers (downloads). */
  timeBody: boolean;
  /** Redacted from network error messages. */
  token: string;
}

/** One HTTP exchange under a timeout; `read` runs inside it. Network failures become Transient. */
export async function send<R>(url: string, init: RequestInit, o: SendOptions, read: (r: Response) => Promise<R>) {
  const timer = new AbortController();
  const timeout = setTimeout(() => timer.abort(), o.timeoutMs);
  try {
    const response = await fetch(url, { ...init, signal: anySignal(o.signal, timer.signal) });
    if (!o.timeBody) clearTimeout(timeout);
    const text = await read(response);
    return { status: response.status, text, response, retryAfterMs: retryAfter(response) };
  } catch (error) {
    if (o.signal?.aborted) throw interrupted(o.signal.reason);
    if (error instanceof AirbackupError) throw error;
    if (timer.signal.aborted) throw new Transient(`timed out after ${o.timeoutMs} ms`, false, undefined);
    const message = redact(error instanceof Error ? error.message : String(error), o.token);
    throw new Transient(`network error: ${message}`, false, undefined, new Error(message));
  } finally {
    clearTimeout(timeout);
  }
}

/**
 * The body as text, refusing more than `maxBytes` (declared by Content-Length, or as it arrives): an
 * AirbackupError naming the cap, never retried. `what` names the request, e.g. `the list of bases`.
 */
export async function readCapped(response: Response, maxBytes: number, what: string): Promise<string> {
  const refuse = (seen: string) =>
    new AirbackupError(
      "AIRTABLE_BAD_RESPONSE",
      `Airtable's answer for ${what} is larger than the ${formatBytes(maxBytes)} cap (${seen}); not read`,
      { hint: "check AIRTABLE_API_URL: Airtable's answers are far smaller than this" },
    );
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw refuse(`Content-Length ${declared}`);
  }
  if (!response.body) return "";
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel();
      throw refuse(`${formatBytes(bytes)} had arrived`);
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

export function interrupted(reason: unknown): AirbackupError {
  return new AirbackupError("INTERRUPTED", "interrupted while talking to Airtable", { cause: reason });
}

export function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return present.length <= 1 ? present[0] : AbortSignal.any(present);
}

// --- internal ---

function retryAfter(response: Response): number | undefined {
  const seconds = Number(response.headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, 60_000) : undefined;
}
