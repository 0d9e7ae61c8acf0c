// JSON responses and the error bodies the simulator sends, in Airtable's two envelopes:
// `{"error":{"type","message"}}` and the bare `{"error":"NOT_FOUND"}`.

const JSON_TYPE = "application/json; charset=utf-8";

/** Thrown by handlers; the server turns it into the response it carries. */
export class SimHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`${status} ${JSON.stringify(body)}`);
  }
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": JSON_TYPE } });
}

/** `{"error":{"type","message"}}`; the message is left out when undefined (as for iterator errors). */
export function apiError(status: number, type: string, message?: string): SimHttpError {
  return new SimHttpError(status, { error: message === undefined ? { type } : { type, message } });
}

export const notFound = () => new SimHttpError(404, { error: "NOT_FOUND" });

export const authRequired = () => apiError(401, "AUTHENTICATION_REQUIRED", "Authentication required");

export const forbidden = () =>
  apiError(
    403,
    "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
    "Invalid permissions, or the requested model was not found. Check that both your user and your token have the required permissions, and that the model names and/or ids are correct.",
  );

export const rateLimited = () => apiError(429, "RATE_LIMIT_REACHED", "Rate limit exceeded. Please try again later");

export const invalidRequest = (message = "Invalid request: parameter validation failed. Check your request data.") =>
  apiError(422, "INVALID_REQUEST_UNKNOWN", message);

export const iteratorExpired = () => apiError(422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE");

export const unknownField = (name: string) => apiError(422, "UNKNOWN_FIELD_NAME", `Unknown field name: "${name}"`);

export const invalidValue = (message: string) => apiError(422, "INVALID_VALUE_FOR_COLUMN", message);

const SERVER_ERRORS: Record<number, unknown> = {
  503: {
    error: {
      type: "RETRIABLE_ERROR",
      message: "Server encountered an error while processing your request, and it is safe to retry the request",
    },
  },
  // 500 and 502 bodies are not documented; these are our choice.
  500: { error: { type: "SERVER_ERROR", message: "Server error" } },
  502: { error: { type: "BAD_GATEWAY", message: "Bad gateway" } },
};

export function serverError(status: 500 | 502 | 503): Response {
  return json(SERVER_ERRORS[status], status);
}

/** Reads a JSON body; unparseable JSON is a 400 (the body is UNCERTAIN in the docs: this one is ours). */
export async function readJson(req: Request): Promise<Record<string, unknown>> {
  const text = await req.text();
  let body: unknown;
  try {
    body = text === "" ? {} : JSON.parse(text);
  } catch {
    throw apiError(400, "INVALID_REQUEST_BODY", "Could not parse request body as JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw invalidRequest();
  return body as Record<string, unknown>;
}
