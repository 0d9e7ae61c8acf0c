// Attachment downloads: outside the rate limit and the call count, no token sent, expired URLs reported.
import { describe, expect, test } from "bun:test";
import { createAirtableClient } from "../../src/airtable/client.ts";
import { AttachmentUrlExpiredError } from "../../src/airtable/errors.ts";
import { getRecord } from "../../src/airtable/read.ts";
import { isAttachmentList } from "../../src/airtable/schemas.ts";
import { startAirtableSim } from "../support/airtable-sim/index.ts";
import { BASE_ID, FILE_BYTES, fakeId, rejection, simClient, TABLE_ID, tinyBase } from "./sim-client.ts";

async function firstFileUrl(client: ReturnType<typeof simClient>): Promise<string> {
  const record = await getRecord(client, BASE_ID, TABLE_ID, fakeId("rec", 1));
  const files = record.fields.Files;
  if (!isAttachmentList(files)) throw new Error("expected an attachment list");
  return files[0]!.url;
}

describe("download", () => {
  test("fetches the file's bytes, without counting an API call", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const client = simClient(sim);
    const url = await firstFileUrl(client);
    const response = await client.download(url);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(FILE_BYTES);
    expect(client.calls).toBe(1); // the getRecord only
    expect(sim.counters.requests.download).toBe(1);
  });

  test("an expired URL throws AttachmentUrlExpiredError; re-reading the record gives a working one", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const client = simClient(sim);
    const stale = await firstFileUrl(client);
    sim.expireAttachmentUrls();
    const error = await rejection(client.download(stale));
    expect(error).toBeInstanceOf(AttachmentUrlExpiredError);
    expect((error as AttachmentUrlExpiredError).status).toBe(404);
    expect((error as Error).message).not.toContain(stale); // signed URLs are credentials for two hours
    const fresh = await firstFileUrl(client);
    expect(new Uint8Array(await (await client.download(fresh)).arrayBuffer())).toEqual(FILE_BYTES);
  });

  test("5xx and dropped connections on downloads are retried", async () => {
    await using sim = await startAirtableSim({
      bases: [tinyBase()],
      faults: { seed: 5, errorRate: 0.4, dropRate: 0.2, routes: ["download"] },
    });
    let retries = 0;
    const client = simClient(sim, { retries: 10, onRetry: () => retries++ });
    const url = await firstFileUrl(client);
    for (let i = 0; i < 6; i++) {
      expect(new Uint8Array(await (await client.download(url)).arrayBuffer())).toEqual(FILE_BYTES);
    }
    expect(retries).toBeGreaterThan(0);
    expect(sim.counters.requests.download).toBeGreaterThanOrEqual(6 + retries);
  });

  test("the token is never sent to the file host", async () => {
    const headers: Record<string, string | null>[] = [];
    using server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        headers.push({ authorization: req.headers.get("authorization"), userAgent: req.headers.get("user-agent") });
        return new Response("file");
      },
    });
    const client = createAirtableClient({ token: "patTEST.secret", userAgent: "airbackup/9.9.9" });
    expect(await (await client.download(`http://127.0.0.1:${server.port}/v3/u/file`)).text()).toBe("file");
    expect(headers).toEqual([{ authorization: null, userAgent: "airbackup/9.9.9" }]);
  });
});
