// The one error type users see, and the one place that maps errors to exit codes.
import { printable } from "./printable.ts";

export type ErrorCode =
  | "USAGE" // bad flag or argument
  | "CONFIG_INVALID" // unreadable or invalid config file
  | "CONFIG_MISSING" // a required setting (the token) is absent
  | "AIRTABLE_AUTH" // 401: token missing, invalid or revoked
  | "AIRTABLE_FORBIDDEN" // 403: token lacks a scope or the base
  | "AIRTABLE_NOT_FOUND" // 404
  | "AIRTABLE_REFUSED" // 422: Airtable refused what the request holds (a value, a field, a name); nothing was written
  | "AIRTABLE_REQUEST_FAILED" // any other final 4xx (400, 409, 413...)
  | "AIRTABLE_ITERATOR_EXPIRED" // 422 LIST_RECORDS_ITERATOR_NOT_AVAILABLE: a listing must start again
  | "AIRTABLE_BAD_RESPONSE" // an answer (or an id in it) that is not what the API documents
  | "UNSAFE_URL" // an attachment URL we never fetch (a scheme other than https, too many redirects)
  | "AIRTABLE_UNAVAILABLE" // 5xx / network after every retry
  | "ARCHIVE_CORRUPT" // an archive fails a check
  | "ARCHIVE_UNSUPPORTED" // an archive of a newer format
  | "IO" // local file system
  | "EXPORT_EXISTS" // the export target already holds an export (or a table of the same name)
  | "DATABASE" // the export's database refused a connection or a statement
  | "S3_AUTH" // 403: keys wrong, expired, or without the permission
  | "S3_NOT_FOUND" // 404: no such bucket or object
  | "S3_FAILED" // any other refusal, or 5xx / network after every retry
  | "INTERRUPTED"; // SIGINT / SIGTERM

export class AirbackupError extends Error {
  readonly code: ErrorCode;
  /** What the user should do next. */
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "AirbackupError";
    this.code = code;
    this.hint = options.hint;
  }
}

export const EXIT = { ok: 0, failure: 1, usage: 2, warnings: 3, interrupted: 130 } as const;

export function exitCodeFor(error: unknown): number {
  if (!(error instanceof AirbackupError)) return EXIT.failure;
  switch (error.code) {
    case "USAGE":
    case "CONFIG_INVALID":
    case "CONFIG_MISSING":
      return EXIT.usage;
    case "INTERRUPTED":
      return EXIT.interrupted;
    default:
      return EXIT.failure;
  }
}

/**
 * One line for stderr (two with a hint); the stack and causes only when verbose. Messages may hold names
 * from an archive or from Airtable, so control characters are escaped (line breaks kept).
 */
export function formatError(error: unknown, options: { verbose?: boolean } = {}): string {
  return printable(formatErrorRaw(error, options), { keepNewlines: true });
}

function formatErrorRaw(error: unknown, options: { verbose?: boolean }): string {
  if (error instanceof AirbackupError) {
    let text = error.message + (error.hint ? `\n  hint: ${error.hint}` : "");
    if (options.verbose) text += causeChain(error);
    return text;
  }
  if (options.verbose && error instanceof Error) return `${error.stack ?? error.message}${causeChain(error)}`;
  const message = error instanceof Error ? error.message : String(error);
  return `unexpected error: ${message} (run with --verbose for details; please report this)`;
}

// --- internal ---

function causeChain(error: Error): string {
  let text = "";
  let cause = error.cause;
  while (cause) {
    text += `\n  caused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return text;
}
