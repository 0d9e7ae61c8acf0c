// Attachment downloads: no token, outside the rate limit, only http(s) on every redirect hop, retried up
// to the headers; the body then has a total deadline that grows with what arrives (a slow drip is cut off).
import { AirbackupError } from "../errors.ts";
import { formatBytes } from "../format.ts";
import { type RetryOptions, withRetry } from "../retry.ts";
import { anySignal, interrupted, send, Transient } from "./http.ts";
import { AttachmentUrlExpiredError } from "./recoverable-errors.ts";

export interface DownloadSettings {
  userAgent: string;
  /** The configured API and content URLs: http: downloads are allowed only where one of these is http:. */
  airtableUrls: string[];
  /** Until the headers arrive. */
  timeoutMs: number;
  retry: Pick<RetryOptions, "retries" | "baseDelayMs" | "maxDelayMs">;
  /** The body may take this long plus one second per `minBytesPerSecond` that arrived. */
  graceMs: number;
  minBytesPerSecond: number;
  signal?: AbortSignal;
  onRetry?: (info: { attempt: number; delayMs: number; reason: string; host: string }) => void;
}

/** Redirect hops followed for one attachment download. */
const MAX_REDIRECTS = 5;

export function createDownload(settings: DownloadSettings) {
  // Only https (and http where the configured Airtable URLs are http, as in tests): Bun's fetch would
  // also open file:// and s3:// URLs. Redirects are followed here, each hop checked the same way.
  const allowedSchemes = new Set([
    "https:",
    ...(settings.airtableUrls.some((u) => u.startsWith("http:")) ? ["http:"] : []),
  ]);

  return async function download(url: string, opts: { signal?: AbortSignal } = {}): Promise<Response> {
    const signal = anySignal(settings.signal, opts.signal);
    const host = safeHost(url);
    try {
      const response = await withRetry(
        async () => {
          let target = checkedDownloadUrl(url, allowedSchemes, host);
          for (let hop = 0; ; hop++) {
            const { status, response } = await send(
              target.href,
              { headers: { "User-Agent": settings.userAgent }, redirect: "manual" },
              { signal, timeoutMs: settings.timeoutMs, timeBody: false, token: "" },
              async (r) => r,
            );
            if (status >= 200 && status < 300) return response;
            await response.body?.cancel();
            const location = response.headers.get("location");
            if (status >= 300 && status < 400 && location !== null) {
              if (hop >= MAX_REDIRECTS) {
                throw new AirbackupError(
                  "UNSAFE_URL",
                  `attachment download from ${host} refused: more than ${MAX_REDIRECTS} redirects`,
                );
              }
              target = checkedDownloadUrl(resolveUrl(location, target), allowedSchemes, host);
              continue;
            }
            if ([401, 403, 404, 410].includes(status)) throw new AttachmentUrlExpiredError(status);
            if (status >= 500 || status === 429) throw new Transient(`HTTP ${status}`, true, undefined);
            throw new AirbackupError(
              "AIRTABLE_UNAVAILABLE",
              `attachment download from ${host} failed (HTTP ${status})`,
            );
          }
        },
        {
          ...settings.retry,
          signal,
          isRetryable: (e) => e instanceof Transient,
          onRetry: ({ attempt, delayMs, error }) =>
            settings.onRetry?.({ attempt, delayMs, reason: (error as Transient).reason, host }),
        },
      );
      return withDeadline(response, host, settings);
    } catch (error) {
      if (signal?.aborted) throw interrupted(signal.reason);
      if (!(error instanceof Transient)) throw error;
      throw new AirbackupError(
        "AIRTABLE_UNAVAILABLE",
        `attachment download from ${host} failed (${error.reason}, after ${settings.retry.retries + 1} attempts)`,
        { cause: error.cause },
      );
    }
  };
}

// --- internal ---

/**
 * The same response, its body cut off once it has taken longer than `graceMs` plus one second per
 * `minBytesPerSecond` received. Scaled by what really arrived, not by a Content-Length the server may
 * inflate; the error names the host, the bytes received and the bytes announced.
 */
function withDeadline(response: Response, host: string, s: DownloadSettings): Response {
  const source = response.body;
  if (!source) return response;
  const reader = source.getReader();
  const started = performance.now();
  const announced = Number(response.headers.get("content-length"));
  let received = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = () => started + s.graceMs + (received / s.minBytesPerSecond) * 1000;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const check = () => {
        const left = deadline() - performance.now();
        if (left > 0) {
          timer = setTimeout(check, left);
          return;
        }
        const of = Number.isFinite(announced) && announced > 0 ? ` of ${formatBytes(announced)}` : "";
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        controller.error(
          Object.assign(
            new AirbackupError(
              "AIRTABLE_UNAVAILABLE",
              `attachment download from ${host} cut off after ${seconds} s: ${formatBytes(received)}${of} had arrived (a download may take ${s.graceMs / 1000} s plus 1 s per ${formatBytes(s.minBytesPerSecond)})`,
            ),
            { received, announced: Number.isFinite(announced) ? announced : undefined },
          ),
        );
        reader.cancel().catch(() => {});
      };
      timer = setTimeout(check, s.graceMs);
    },
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          clearTimeout(timer);
          controller.close();
          return;
        }
        received += value.byteLength;
        controller.enqueue(value);
      } catch (error) {
        clearTimeout(timer);
        controller.error(error);
      }
    },
    cancel(reason) {
      clearTimeout(timer);
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** The URL to fetch, or an AirbackupError if its scheme is not allowed (never fetched, never retried). */
function checkedDownloadUrl(url: string | URL | undefined, allowed: Set<string>, host: string): URL {
  let parsed: URL | undefined;
  try {
    parsed = url instanceof URL ? url : url === undefined ? undefined : new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || !allowed.has(parsed.protocol)) {
    const scheme = parsed ? parsed.protocol.replace(/:$/, "") : "an invalid URL";
    throw new AirbackupError(
      "UNSAFE_URL",
      `attachment download from ${host} refused: ${parsed ? `a ${scheme}: URL` : scheme} (only ${[...allowed].map((s) => s.replace(/:$/, "")).join("/")} is fetched)`,
      { hint: "attachment URLs come from Airtable; check AIRTABLE_API_URL and the network path to Airtable" },
    );
  }
  return parsed;
}

function resolveUrl(location: string, base: URL): URL | undefined {
  try {
    return new URL(location, base);
  } catch {
    return undefined;
  }
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "an invalid URL";
  }
}
