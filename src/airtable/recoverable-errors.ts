// Airtable failures a caller handles rather than reports: each one asks for a specific recovery.
// They are AirbackupErrors too, so one that escapes still reaches the user as a clear line.
import { AirbackupError, type ErrorCode } from "../errors.ts";

/**
 * 422 LIST_RECORDS_ITERATOR_NOT_AVAILABLE: the `offset` of a listing expired. The caller has already
 * consumed earlier pages, so only it can restart the table's listing from the beginning (and discard
 * what it wrote for that table); the client never restarts silently.
 */
export class IteratorExpiredError extends AirbackupError {
  constructor(what: string) {
    super(
      "AIRTABLE_ITERATOR_EXPIRED",
      `Airtable's record iterator expired while listing ${what} (422 LIST_RECORDS_ITERATOR_NOT_AVAILABLE)`,
      {
        hint: "the table's listing has to start again from the first page",
      },
    );
    this.name = "IteratorExpiredError";
  }
}

/**
 * A final (not retried) 4xx answer from the API. The facts are fields: the HTTP status, Airtable's error
 * type (`UNKNOWN` when the body had none) and Airtable's own message, so callers never read them back
 * out of the text.
 */
export class AirtableRequestError extends AirbackupError {
  readonly status: number;
  readonly type: string;
  readonly apiMessage: string | undefined;
  constructor(
    code: ErrorCode,
    message: string,
    facts: { status: number; type: string; apiMessage?: string },
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(code, message, options);
    this.name = "AirtableRequestError";
    this.status = facts.status;
    this.type = facts.type;
    this.apiMessage = facts.apiMessage;
  }

  /** `422 TYPE: Airtable's message`, for reports. */
  get detail(): string {
    return `${this.status} ${this.type}${this.apiMessage ? `: ${this.apiMessage}` : ""}`;
  }
}

/** A 422: Airtable refused the request's content (a value, a field), and wrote nothing. */
export function isRefusal(error: unknown): error is AirtableRequestError {
  return error instanceof AirtableRequestError && error.status === 422;
}

/** A signed attachment URL answered 401/403/404/410: re-read the record to get a fresh URL. */
export class AttachmentUrlExpiredError extends AirbackupError {
  readonly status: number;
  constructor(status: number) {
    super("AIRTABLE_NOT_FOUND", `attachment URL no longer valid (HTTP ${status}); re-read the record for a fresh URL`);
    this.name = "AttachmentUrlExpiredError";
    this.status = status;
  }
}

/**
 * A non-idempotent write (a create, an upload) was sent but no answer says whether it happened: the
 * connection dropped, the request timed out, or the server answered a 5xx other than Airtable's own
 * 503 RETRIABLE_ERROR (500, 502, 504, a proxy's HTML 503 page). Retrying blindly
 * could duplicate records, so the caller reads back the target and reconciles before trying again.
 */
export class AmbiguousWriteError extends AirbackupError {
  constructor(what: string, reason: string, cause?: unknown) {
    super("AIRTABLE_UNAVAILABLE", `Airtable did not confirm ${what}: it may or may not have happened (${reason})`, {
      hint: "read back what the target holds before trying again",
      cause,
    });
    this.name = "AmbiguousWriteError";
  }
}
