// Attachment downloads: outside the rate limit and the call count, no token sent, expired URLs reported.
import { describe, expect, test } from "bun:test";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAirtableClient } from "../../src/airtable/client.ts";
import { getRecord } from "../../src/airtable/read.ts";
import { AttachmentUrlExpiredError } from "../../src/airtable/recoverable-errors.ts";
import { isAttachmentList } from "../../src/airtable/schemas.ts";
import { AirbackupError } from "../../src/errors.ts";
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
    const client = createAirtableClient({
      token: "patTEST.secret",
      apiUrl: "http://127.0.0.1:9", // http downloads are allowed only where the API itself is http
      userAgent: "airbackup/9.9.9",
    });
    expect(await (await client.download(`http://127.0.0.1:${server.port}/v3/u/file`)).text()).toBe("file");
    expect(headers).toEqual([{ authorization: null, userAgent: "airbackup/9.9.9" }]);
  });

  test("a file:// attachment URL is refused, never read from the local disk", async () => {
    const dir = await mkdtemp(join(tmpdir(), "airbackup-file-url-"));
    await writeFile(join(dir, "secret"), "local secret");
    const client = createAirtableClient({ token: "patT.x", apiUrl: "http://127.0.0.1:9", userAgent: "test" });
    for (const url of [`file://${join(dir, "secret")}`, "file:///etc/hostname", "s3://bucket/key"]) {
      const error = await rejection(client.download(url));
      expect(error).toBeInstanceOf(AirbackupError);
      expect((error as Error).message).toContain("refused");
    }
  });

  test("an http:// attachment URL is refused when the configured Airtable URLs are https", async () => {
    let requests = 0;
    using server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => {
        requests++;
        return new Response("file");
      },
    });
    const client = createAirtableClient({ token: "patT.x", userAgent: "test" });
    const error = await rejection(client.download(`http://127.0.0.1:${server.port}/file`));
    expect((error as Error).message).toContain("refused");
    expect(requests).toBe(0);
  });

  test("a redirect to a file:// URL is refused; redirects between allowed URLs are followed, bounded", async () => {
    const dir = await mkdtemp(join(tmpdir(), "airbackup-file-url-"));
    await writeFile(join(dir, "secret"), "local secret");
    let loops = 0;
    using server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const path = new URL(req.url).pathname;
        if (path === "/to-file") return Response.redirect(`file://${join(dir, "secret")}`, 302);
        if (path === "/hop") return Response.redirect("/file", 301);
        if (path === "/loop") {
          loops++;
          return Response.redirect("/loop", 302);
        }
        return new Response("file");
      },
    });
    const client = createAirtableClient({ token: "patT.x", apiUrl: "http://127.0.0.1:9", userAgent: "test" });
    const base = `http://127.0.0.1:${server.port}`;
    const error = await rejection(client.download(`${base}/to-file`));
    expect(error).toBeInstanceOf(AirbackupError);
    expect((error as Error).message).toContain("refused");
    expect((error as Error).message).not.toContain("local secret");
    expect(await (await client.download(`${base}/hop`)).text()).toBe("file");
    expect(((await rejection(client.download(`${base}/loop`))) as Error).message).toContain("redirects");
    expect(loops).toBe(6);
  });
});
