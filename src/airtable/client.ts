// The authenticated Airtable HTTP client: every API request goes through the shared rate limiter, is
// retried when that is safe, validated where it enters, and failures become AirbackupErrors without the token.
import * as v from "valibot";
import { AirbackupError } from "../errors.ts";
import { withRetry } from "../retry.ts";
import { createDownload } from "./download.ts";
import { errorForStatus, parseErrorBody, type RequestContext, redact } from "./error-answers.ts";
import { anySignal, interrupted, readCapped, send, Transient } from "./http.ts";
import { createRateLimiter, type RateLimiter } from "./rate-limiter.ts";
import { AmbiguousWriteError } from "./recoverable-errors.ts";

/** Airtable's Web API; the config layer lets AIRTABLE_API_URL replace it. */
export const DEFAULT_API_URL = "https://api.airtable.com";
/** Airtable's upload endpoint host; the config layer lets AIRTABLE_CONTENT_URL replace it. */
export const DEFAULT_CONTENT_URL = "https://content.airtable.com";

/**
 * The largest API answer read (256 MB): hundreds of times Airtable's largest real answers (a 100-record
 * page, a base's schema), and no more than an archive reader takes for schema.json (MAX_SMALL_ENTRY, 256 MiB).
 */
export const MAX_RESPONSE_BYTES = 256_000_000;

export interface AirtableClientOptions {
  token: string;
  /** Default DEFAULT_API_URL. */
  apiUrl?: string;
  /** Default DEFAULT_CONTENT_URL. */
  contentUrl?: string;
  /** e.g. `airbackup/0.1.0`. */
  userAgent: string;
  /** Aborts every request and wait of this client (SIGINT). */
  signal?: AbortSignal;
  /** Share one limiter between clients of the same token; default: a new one at 5/s per base, 50/s per user. */
  limiter?: RateLimiter;
  /** Retries for 5xx, timeouts and dropped connections (not for 429). Default 5. */
  retries?: number;
  /** First backoff window; doubles per retry, full jitter, capped at 30 s. Default 500 ms. */
  retryBaseDelayMs?: number;
  /** Per attempt, until the whole body is read (downloads: until the headers). Default 60 s. */
  timeoutMs?: number;
  /** An API answer larger than this is refused, not read (default MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
  /** A download's body may take this long (default 60 s) plus 1 s per `downloadMinBytesPerSecond` received. */
  downloadGraceMs?: number;
  /** The slowest average a download may keep up after the grace period (default 16 KB/s). */
  downloadMinBytesPerSecond?: number;
  /** How long a base is held after a 429; Airtable asks for 30 s. */
  rateLimitWaitMs?: number;
  /** 429s in a row for one request before giving up. Default 10. */
  maxRateLimitWaits?: number;
  /**
   * Reuse connections (default true). Bun's fetch silently resends a GET whose reused connection was
   * reset, a request this client can neither count nor pace; false trades a handshake per request
   * for exact counting and pacing when connections drop after the server has seen the request.
   */
  keepAlive?: boolean;
  /** Told about every retry and every 429 wait; never given the token. */
  onRetry?: (info: AirtableRetryInfo) => void;
}

export interface AirtableRetryInfo {
  method: string;
  /** URL path and query of the request (for a download: the host only; signed URLs are secrets). */
  target: string;
  /** Retry number for this request, from 1. */
  attempt: number;
  delayMs: number;
  /** e.g. `HTTP 503 RETRIABLE_ERROR`, `HTTP 429 RATE_LIMIT_REACHED`, `timed out after 60000 ms`. */
  reason: string;
}

export interface ApiRequest<T> extends RequestContext {
  method: "GET" | "POST" | "PATCH";
  /** Path from the host root, e.g. `/v0/meta/bases`. */
  path: string;
  /** `content` for the upload endpoint. */
  host?: "api" | "content";
  query?: URLSearchParams;
  body?: unknown;
  schema: v.GenericSchema<unknown, T>;
  /** What the request is for, counted in `callsByKind`: schema, create, update, upload, comments, read... */
  kind?: string;
  /** Safe to resend after an unanswered attempt. Default: GET and PATCH yes, POST no. */
  idempotent?: boolean;
  signal?: AbortSignal;
}

export interface AirtableClient {
  /**
   * API requests sent so far: every request to the API or content host, retries and 429s included
   * (each one counts against the plan's monthly call budget). Attachment downloads are not counted.
   */
  readonly calls: number;
  /** API requests sent so far by kind (`ApiRequest.kind`), each counted as in `calls`. */
  readonly callsByKind: Readonly<Record<string, number>>;
  /** How long the API takes to answer, smoothed over recent requests (ms; 0 before the first answer). */
  readonly latencyMs: number;
  request<T>(req: ApiRequest<T>): Promise<T>;
  /**
   * GETs an attachment file, without the token and outside the rate limit. Resolves once headers arrive
   * (the caller streams the body); retries 5xx/429/network failures. A 401/403/404/410 throws
   * AttachmentUrlExpiredError: re-read the record for a fresh URL.
   */
  download(url: string, options?: { signal?: AbortSignal }): Promise<Response>;
}

export function createAirtableClient(options: AirtableClientOptions): AirtableClient {
  const apiUrl = (options.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, "");
  const contentUrl = (options.contentUrl ?? DEFAULT_CONTENT_URL).replace(/\/+$/, "");
  const limiter = options.limiter ?? createRateLimiter();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  const waitMs = options.rateLimitWaitMs ?? 30_000;
  const maxWaits = options.maxRateLimitWaits ?? 10;
  const retry = { retries: options.retries ?? 5, baseDelayMs: options.retryBaseDelayMs ?? 500, maxDelayMs: 30_000 };
  const headers = { Authorization: `Bearer ${options.token}`, "User-Agent": options.userAgent };
  let calls = 0;
  let latencyMs = 0;
  const callsByKind: Record<string, number> = {};

  async function request<T>(req: ApiRequest<T>): Promise<T> {
    const idempotent = req.idempotent ?? req.method !== "POST";
    const target = req.path + (req.query && req.query.size > 0 ? `?${req.query}` : "");
    const url = (req.host === "content" ? contentUrl : apiUrl) + target;
    const signal = anySignal(options.signal, req.signal);
    const init = (): RequestInit => ({
      method: req.method,
      keepalive: options.keepAlive ?? true,
      redirect: "manual", // the API never redirects: a 3xx is refused, never followed (to another host, say)
      headers: req.body === undefined ? headers : { ...headers, "Content-Type": "application/json" },
      ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
    });
    const report = (attempt: number, delayMs: number, reason: string) =>
      options.onRetry?.({ method: req.method, target, attempt, delayMs, reason: redact(reason, options.token) });
    let rateLimited = 0;

    const attemptOnce = async (): Promise<T> => {
      for (;;) {
        await limiter.acquire(req.baseId, signal);
        calls++;
        const kind = req.kind ?? "other";
        callsByKind[kind] = (callsByKind[kind] ?? 0) + 1;
        const sent = performance.now();
        const { status, text, retryAfterMs } = await send(
          url,
          init(),
          { signal, timeoutMs, timeBody: true, token: options.token },
          (r) => readCapped(r, maxResponseBytes, req.what),
        );
        const took = performance.now() - sent;
        latencyMs = latencyMs === 0 ? took : latencyMs * 0.8 + took * 0.2;
        if (status >= 200 && status < 300) return validate(req, text);
        const body = parseErrorBody(text);
        if (status === 429 && body.type !== "PUBLIC_API_BILLING_LIMIT_EXCEEDED" && rateLimited < maxWaits) {
          rateLimited++;
          limiter.pause(req.baseId, waitMs); // holds every caller of this base, not just this one
          report(rateLimited, waitMs, `HTTP 429 ${body.type}`);
          continue;
        }
        // Only Airtable's own documented "safe to retry" answer (503 RETRIABLE_ERROR, JSON) says nothing was
        // written; any other 5xx (a proxy's HTML page, 500, 502, 504) may follow a write that happened.
        if (status >= 500) {
          const safe = status === 503 && body.type === "RETRIABLE_ERROR";
          throw new Transient(`HTTP ${status} ${body.type}`, safe, retryAfterMs);
        }
        const message = body.message === undefined ? undefined : redact(body.message, options.token);
        throw sanitize(
          errorForStatus(status, { ...body, ...(message === undefined ? {} : { message }) }, req),
          options.token,
        );
      }
    };

    try {
      return await withRetry(attemptOnce, {
        ...retry,
        signal,
        isRetryable: (e) => e instanceof Transient && (idempotent || e.noWriteHappened),
        minDelayMs: (e) => (e instanceof Transient ? e.retryAfterMs : undefined),
        onRetry: ({ attempt, delayMs, error }) => report(attempt, delayMs, (error as Transient).reason),
      });
    } catch (error) {
      if (signal?.aborted) throw interrupted(signal.reason);
      if (!(error instanceof Transient)) throw error;
      if (!idempotent && !error.noWriteHappened) throw new AmbiguousWriteError(req.what, error.reason, error.cause);
      throw new AirbackupError(
        "AIRTABLE_UNAVAILABLE",
        `Airtable did not answer ${req.what} (${error.reason}, after ${retry.retries + 1} attempts)`,
        {
          hint: "Airtable or the network may be down; try again later",
          cause: error.cause,
        },
      );
    }
  }

  const download = createDownload({
    userAgent: options.userAgent,
    airtableUrls: [apiUrl, contentUrl],
    timeoutMs,
    retry,
    graceMs: options.downloadGraceMs ?? 60_000,
    minBytesPerSecond: options.downloadMinBytesPerSecond ?? 16_000,
    signal: options.signal,
    onRetry: ({ host, ...info }) => options.onRetry?.({ method: "GET", target: host, ...info }),
  });

  return {
    get calls() {
      return calls;
    },
    get callsByKind() {
      return callsByKind;
    },
    get latencyMs() {
      return latencyMs;
    },
    request,
    download,
  };
}

// --- internal ---

function validate<T>(req: ApiRequest<T>, text: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AirbackupError("AIRTABLE_BAD_RESPONSE", `unexpected response from Airtable for ${req.what}: not JSON`);
  }
  const result = v.safeParse(req.schema, json);
  if (!result.success) {
    throw new AirbackupError(
      "AIRTABLE_BAD_RESPONSE",
      `unexpected response from Airtable for ${req.what}: ${v.summarize(result.issues)}`,
    );
  }
  return json as T; // the schemas do not transform: keep the object as parsed (key order, unknown keys)
}

/** The token out of an error's message and hint; the error itself (its class, fields and cause) is kept. */
export function sanitize<E extends AirbackupError>(error: E, token: string): E {
  error.message = redact(error.message, token);
  if (error.hint !== undefined) Object.assign(error, { hint: redact(error.hint, token) });
  return error;
}
