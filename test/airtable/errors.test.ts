// Errors a user can act on: 401, 403, 404 (both envelopes), 422, bad shapes; and the token never leaks.
import { describe, expect, test } from "bun:test";
import { createAirtableClient } from "../../src/airtable/client.ts";
import { getBaseSchema, getRecord, listBases, listRecordPages } from "../../src/airtable/read.ts";
import { AirtableRequestError, isRefusal } from "../../src/airtable/recoverable-errors.ts";
import { AirbackupError } from "../../src/errors.ts";
import { startAirtableSim } from "../support/airtable-sim/index.ts";
import { BASE_ID, deepText, fakeId, rejection, simClient, TABLE_ID, tinyBase } from "./sim-client.ts";

const SECRET_TOKEN = "patWRONGtoken0001.0123456789abcdef0123456789abcdef";

function expectCode(error: unknown, code: string): AirbackupError {
  expect(error).toBeInstanceOf(AirbackupError);
  expect((error as AirbackupError).code).toBe(code as AirbackupError["code"]);
  return error as AirbackupError;
}

describe("errors from Airtable", () => {
  test("a wrong token: AIRTABLE_AUTH with a hint, and the token appears nowhere", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const retries: string[] = [];
    const client = simClient(sim, { token: SECRET_TOKEN, onRetry: (info) => retries.push(JSON.stringify(info)) });
    const error = expectCode(await rejection(listBases(client)), "AIRTABLE_AUTH");
    expect(error.message).toBe("Airtable rejected the token (401 AUTHENTICATION_REQUIRED)");
    expect(error.hint).toContain("AIRTABLE_TOKEN");
    expect(deepText(error)).not.toContain("0123456789abcdef");
    expect(deepText(error)).not.toContain(SECRET_TOKEN);
    expect(client.calls).toBe(1); // not retried
    expect(retries).toEqual([]);
  });

  test("a base the token was not given: AIRTABLE_FORBIDDEN naming the base and the scope", async () => {
    const other = { ...tinyBase(), id: fakeId("app", "OTHER") };
    await using sim = await startAirtableSim({
      bases: [tinyBase(), other],
      tokens: { "patTEST.secret": { userId: fakeId("usr", "ME"), bases: [other.id] } },
    });
    const error = expectCode(await rejection(getBaseSchema(simClient(sim), BASE_ID)), "AIRTABLE_FORBIDDEN");
    expect(error.message).toBe(
      `Airtable refused access to the schema of base ${BASE_ID} (403 INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND)`,
    );
    expect(error.hint).toContain("schema.bases:read");
    expect(error.hint).toContain(BASE_ID);
  });

  test("a missing scope names the scope the request needs", async () => {
    await using sim = await startAirtableSim({
      bases: [tinyBase()],
      tokens: { "patTEST.secret": { userId: fakeId("usr", "ME"), scopes: ["schema.bases:read"] } },
    });
    const error = expectCode(
      await rejection(listRecordPages(simClient(sim), BASE_ID, TABLE_ID).next()),
      "AIRTABLE_FORBIDDEN",
    );
    expect(error.message).toContain(`table "${TABLE_ID}" of base ${BASE_ID}`);
    expect(error.hint).toContain("data.records:read");
  });

  test.each([
    ["bare", { error: "NOT_FOUND" }, "(404 NOT_FOUND)"],
    ["object without message", { error: { type: "NOT_FOUND" } }, "(404 NOT_FOUND)"],
    [
      "object with message",
      { error: { type: "TABLE_NOT_FOUND", message: "Could not find table X" } },
      "(404 TABLE_NOT_FOUND: Could not find table X)",
    ],
  ])("404 with the %s envelope: AIRTABLE_NOT_FOUND", async (_, body, detail) => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    sim.onRequest(() => Response.json(body, { status: 404 }));
    const error = expectCode(
      await rejection(getRecord(simClient(sim), BASE_ID, TABLE_ID, fakeId("rec", 1))),
      "AIRTABLE_NOT_FOUND",
    );
    expect(error.message).toContain(detail);
    expect(error.message).toContain(fakeId("rec", 1));
  });

  test("the simulator's bare 404 for a junk base id", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const error = expectCode(await rejection(getBaseSchema(simClient(sim), "junk")), "AIRTABLE_NOT_FOUND");
    expect(error.message).toContain("(404 NOT_FOUND)");
  });

  test("422: AIRTABLE_REFUSED with Airtable's status, type and message as fields, not retried", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const client = simClient(sim);
    const error = expectCode(
      await rejection(listRecordPages(client, BASE_ID, TABLE_ID, { fields: ["Nope"] }).next()),
      "AIRTABLE_REFUSED",
    );
    expect(error.message).toContain('422 UNKNOWN_FIELD_NAME: Unknown field name: "Nope"');
    expect(error).toBeInstanceOf(AirtableRequestError);
    const facts = error as AirtableRequestError;
    expect([facts.status, facts.type, facts.apiMessage]).toEqual([
      422,
      "UNKNOWN_FIELD_NAME",
      'Unknown field name: "Nope"',
    ]);
    expect(isRefusal(error)).toBe(true);
    expect(client.calls).toBe(1);
  });

  test("facts survive any text: a message holding ')' is carried whole, and other 4xx are not refusals", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const message = 'Field "Score (max)" cannot accept the provided value (got "x")';
    sim.onRequest(() => Response.json({ error: { type: "INVALID_VALUE_FOR_COLUMN", message } }, { status: 422 }));
    const refused = (await rejection(
      listRecordPages(simClient(sim), BASE_ID, TABLE_ID).next(),
    )) as AirtableRequestError;
    expect(refused.apiMessage).toBe(message);
    expect(refused.detail).toBe(`422 INVALID_VALUE_FOR_COLUMN: ${message}`);
    await using other = await startAirtableSim({ bases: [tinyBase()] });
    other.onRequest(() => Response.json({ error: { type: "TOO_LARGE" } }, { status: 413 }));
    const large = expectCode(
      await rejection(listRecordPages(simClient(other), BASE_ID, TABLE_ID).next()),
      "AIRTABLE_REQUEST_FAILED",
    );
    expect((large as AirtableRequestError).status).toBe(413);
    expect(isRefusal(large)).toBe(false);
  });

  test("a response of the wrong shape: AIRTABLE_BAD_RESPONSE 'unexpected response from Airtable'", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    sim.onRequest(() => Response.json({ records: "not a list" }));
    const error = expectCode(
      await rejection(listRecordPages(simClient(sim), BASE_ID, TABLE_ID).next()),
      "AIRTABLE_BAD_RESPONSE",
    );
    expect(error.message).toStartWith(`unexpected response from Airtable for table "${TABLE_ID}" of base ${BASE_ID}`);
  });

  test("a server that echoes the token back: every message, cause and retry report is redacted", async () => {
    // Echoes the Authorization header in its error bodies, the worst case for a leak.
    let n = 0;
    using server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const auth = req.headers.get("authorization") ?? "";
        n++;
        if (n === 1)
          return Response.json({ error: { type: "RETRIABLE_ERROR", message: `bad ${auth}` } }, { status: 503 });
        if (n === 2) return Response.json({ error: { type: "WEIRD", message: `you sent ${auth}` } }, { status: 403 });
        return Response.json({ error: { type: "WEIRD", message: `you sent ${auth}` } }, { status: 422 });
      },
    });
    const reports: unknown[] = [];
    const client = createAirtableClient({
      token: SECRET_TOKEN,
      apiUrl: `http://127.0.0.1:${server.port}`,
      userAgent: "airbackup/test",
      retryBaseDelayMs: 1,
      onRetry: (info) => reports.push(info),
    });
    const forbidden = expectCode(await rejection(listBases(client)), "AIRTABLE_FORBIDDEN");
    const invalid = expectCode(await rejection(listBases(client)), "AIRTABLE_REFUSED");
    expect(reports.length).toBe(1);
    // sanitize keeps the class, the facts (redacted too) and the hint.
    expect(forbidden).toBeInstanceOf(AirtableRequestError);
    expect((forbidden as AirtableRequestError).status).toBe(403);
    expect((invalid as AirtableRequestError).apiMessage).toBe("you sent Bearer [token]");
    for (const thing of [forbidden, invalid, reports]) {
      const text = deepText(thing);
      expect(text).not.toContain(SECRET_TOKEN);
      expect(text).not.toContain("0123456789abcdef0123456789abcdef");
    }
    expect(invalid.message).toContain("you sent Bearer [token]");
  });

  test("a refused connection: AIRTABLE_UNAVAILABLE after the retries, the token nowhere", async () => {
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const port = server.port;
    await server.stop(true);
    const client = createAirtableClient({
      token: SECRET_TOKEN,
      apiUrl: `http://127.0.0.1:${port}`,
      userAgent: "airbackup/test",
      retries: 2,
      retryBaseDelayMs: 1,
    });
    const error = expectCode(await rejection(listBases(client)), "AIRTABLE_UNAVAILABLE");
    expect(error.message).toContain("after 3 attempts");
    expect(client.calls).toBe(3);
    expect(deepText(error)).not.toContain("0123456789abcdef");
  });
});
