// Turns Airtable's error answers (both envelopes) into errors a user can act on, without the token.
import type { AirbackupError, ErrorCode } from "../errors.ts";
import { AirtableRequestError, IteratorExpiredError } from "./recoverable-errors.ts";

/** Which request failed, in words, and what it needs: used in messages and hints. */
export interface RequestContext {
  /** e.g. `table "Contacts" of base appXXXXXXXXXXXXXX`, `the list of bases`. */
  what: string;
  /** The scope the request needs, e.g. `data.records:read`. */
  scope: string;
  baseId: string | null;
}

export interface ErrorBody {
  type: string;
  message?: string;
}

/** Reads `{"error":{"type","message"}}`, `{"error":"NOT_FOUND"}`, or anything else (type "UNKNOWN"). */
export function parseErrorBody(text: string): ErrorBody {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { type: "UNKNOWN" };
  }
  const error = (json as { error?: unknown } | null)?.error;
  if (typeof error === "string") return { type: error };
  if (error && typeof error === "object") {
    const { type, message } = error as { type?: unknown; message?: unknown };
    return { type: typeof type === "string" ? type : "UNKNOWN", ...(typeof message === "string" ? { message } : {}) };
  }
  return { type: "UNKNOWN" };
}

/** The error for a final (non-retried) 4xx answer. */
export function errorForStatus(status: number, body: ErrorBody, ctx: RequestContext): AirbackupError {
  const detail = `${status} ${body.type}${body.message ? `: ${body.message}` : ""}`;
  const facts = { status, type: body.type, ...(body.message === undefined ? {} : { apiMessage: body.message }) };
  const error = (code: ErrorCode, message: string, hint?: string) =>
    new AirtableRequestError(code, message, facts, hint === undefined ? {} : { hint });
  switch (status) {
    case 401:
      return error(
        "AIRTABLE_AUTH",
        `Airtable rejected the token (401 ${body.type === "UNKNOWN" ? "AUTHENTICATION_REQUIRED" : body.type})`,

        "check AIRTABLE_TOKEN (or `token:` in the config): the personal access token may be mistyped, expired or revoked; tokens are made at https://airtable.com/create/tokens",
      );
    case 403: {
      // The generic PAT answer carries a long boilerplate message; the specific ones name the table or field.
      const shown = body.type === "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND" ? `403 ${body.type}` : detail;
      const base = ctx.baseId ? ` and access to base ${ctx.baseId}` : "";
      return error(
        "AIRTABLE_FORBIDDEN",
        `Airtable refused access to ${ctx.what} (${shown})`,
        `the token needs the ${ctx.scope} scope${base} (edit it at https://airtable.com/create/tokens); Airtable answers the same for a base or table that does not exist, so check the id or name too`,
      );
    }
    case 404:
      return error(
        "AIRTABLE_NOT_FOUND",
        `Airtable found no ${ctx.what} (${detail})`,
        "check the base, table or record id (or name)",
      );
    case 422:
      if (body.type === "LIST_RECORDS_ITERATOR_NOT_AVAILABLE") return new IteratorExpiredError(ctx.what);
      return error("AIRTABLE_REFUSED", `Airtable refused the request for ${ctx.what} (${detail})`);
    case 429:
      return error(
        "AIRTABLE_UNAVAILABLE",
        `Airtable keeps rate-limiting ${ctx.what} (${detail})`,
        body.type === "PUBLIC_API_BILLING_LIMIT_EXCEEDED"
          ? "the workspace has used its plan's monthly API calls; wait for the next month or upgrade the plan"
          : "another program may be using the same Airtable account at the same time",
      );
    default:
      return error("AIRTABLE_REQUEST_FAILED", `Airtable refused the request for ${ctx.what} (${detail})`);
  }
}

/** Replaces the token (and its secret half) wherever it might have been echoed. */
export function redact(text: string, token: string): string {
  if (!token) return text;
  let out = text.split(token).join("[token]");
  const secret = token.slice(token.indexOf(".") + 1);
  if (secret.length >= 8 && secret !== token) out = out.split(secret).join("[token]");
  return out;
}
