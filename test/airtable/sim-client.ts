// Test helpers: a client pointed at a running simulator, and a deep dump of an error for secret checks.
import { type AirtableClient, type AirtableClientOptions, createAirtableClient } from "../../src/airtable/client.ts";

export const TOKEN = "patTEST.secret";

export function simClient(
  sim: { url: string; contentUrl: string },
  overrides: Partial<AirtableClientOptions> = {},
): AirtableClient {
  return createAirtableClient({
    token: TOKEN,
    apiUrl: sim.url,
    contentUrl: sim.contentUrl,
    userAgent: "airbackup/test",
    retryBaseDelayMs: 5,
    ...overrides,
  });
}

/** Everything an error could show: message, stack, hint, own properties, inspect output, the cause chain. */
export function deepText(value: unknown, depth = 0): string {
  if (depth > 8 || value === null || value === undefined) return String(value);
  if (typeof value !== "object") return String(value);
  const parts = [Bun.inspect(value, { depth: 10 })];
  for (const key of Object.getOwnPropertyNames(value)) {
    parts.push(`${key}=${deepText((value as Record<string, unknown>)[key], depth + 1)}`);
  }
  if (value instanceof Error) parts.push(String(value.stack), deepText(value.cause, depth + 1));
  return parts.join("\n");
}

/** Awaits a promise expected to reject and returns the error. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}

/** An Airtable-shaped id: prefix + tag padded to 14 characters. */
export const fakeId = (prefix: string, tag: string | number) => prefix + String(tag).padStart(14, "0").slice(-14);

export const BASE_ID = fakeId("app", "TINY");
export const TABLE_ID = fakeId("tbl", "CLIENTS");
export const TABLE_NAME = "Clients / 2024 + more"; // a name that needs percent-encoding
export const FILE_BYTES = new TextEncoder().encode("the bytes of a small attachment\n");

/** One table of 23 records: record 0 holds an attachment, record 1 has 120 comments (two pages). */
export function tinyBase() {
  return {
    id: BASE_ID,
    name: "Tiny base",
    tables: [
      {
        id: TABLE_ID,
        name: TABLE_NAME,
        fields: [
          { id: fakeId("fld", "NAME"), name: "Name", type: "singleLineText" },
          { id: fakeId("fld", "FILES"), name: "Files", type: "multipleAttachments", options: { isReversed: false } },
          // A type Airtable may add one day, with options nobody knows yet: must survive untouched.
          {
            id: fakeId("fld", "FUTURE"),
            name: "Future",
            type: "someFutureType",
            options: { brandNew: { nested: [1, 2] } },
          },
        ],
        records: Array.from({ length: 23 }, (_, i) => ({
          id: fakeId("rec", i + 1),
          createdTime: `2024-01-01T00:00:${String(i).padStart(2, "0")}.000Z`,
          fields: {
            Name: `Client ${i + 1}`,
            ...(i === 0 ? { Files: [{ filename: "note.txt", type: "text/plain", data: FILE_BYTES }] } : {}),
          },
          ...(i === 1
            ? {
                comments: Array.from({ length: 120 }, (_, c) => ({
                  author: { id: fakeId("usr", "AUTHOR"), email: "author@example.com" },
                  text: `comment ${c + 1}`,
                  createdTime: new Date(Date.UTC(2024, 0, 2, 0, 0, c)).toISOString(),
                })),
              }
            : {}),
        })),
      },
    ],
  };
}
