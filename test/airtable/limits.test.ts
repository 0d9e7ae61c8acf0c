// Size and time caps against a hostile simulator: an API answer larger than the cap is refused with one
// clear error (and not retried), and a download that drips forever is cut off, saying how much had arrived.
import { describe, expect, test } from "bun:test";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAirtableClient } from "../../src/airtable/client.ts";
import { getBaseSchema, getRecord, listBases } from "../../src/airtable/read.ts";
import { isAttachmentList } from "../../src/airtable/schemas.ts";
import { createAttachmentFetcher } from "../../src/backup/attachments.ts";
import { AirbackupError } from "../../src/errors.ts";
import { dripServer, endlessJson, oversizedJson, slowDrip } from "../support/airtable-sim/hostile.ts";
import { startAirtableSim } from "../support/airtable-sim/index.ts";
import { BASE_ID, fakeId, rejection, simClient, TABLE_ID, tinyBase } from "./sim-client.ts";

const MB = 1_000_000;

describe("API answers are read with a size cap", () => {
  test("an answer that never ends is refused at the cap, naming it and the request; not retried", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const endless = endlessJson();
    sim.onRequest((req) => (req.route === "getSchema" ? endless.response : undefined));
    const client = simClient(sim, { maxResponseBytes: MB });
    const error = await rejection(getBaseSchema(client, BASE_ID));
    expect(error).toBeInstanceOf(AirbackupError);
    expect((error as AirbackupError).code).toBe("AIRTABLE_BAD_RESPONSE");
    expect((error as Error).message).toContain("larger than the 1.0 MB cap");
    expect((error as Error).message).toContain(BASE_ID);
    expect(sim.counters.requests.getSchema).toBe(1);
    expect(endless.sent()).toBeLessThan(32 * MB); // reading stopped near the cap (socket buffers hold a few MB)
  });

  test("an answer whose Content-Length is over the cap is refused before its body is read", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    sim.onRequest((req) => (req.route === "listBases" ? oversizedJson(2 * MB) : undefined));
    const error = await rejection(listBases(simClient(sim, { maxResponseBytes: MB })));
    expect((error as Error).message).toContain("larger than the 1.0 MB cap (Content-Length 2000000)");
    expect(sim.counters.requests.listBases).toBe(1);
  });

  test("an answer under the cap is read as before", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    sim.onRequest((req) => (req.route === "listBases" ? oversizedJson(MB - 100) : undefined));
    expect(await listBases(simClient(sim, { maxResponseBytes: MB }))).toEqual([]);
  });
});

describe("downloads have a total deadline that grows with what arrives", () => {
  async function fileUrl(sim: Awaited<ReturnType<typeof startAirtableSim>>): Promise<string> {
    const record = await getRecord(simClient(sim), BASE_ID, TABLE_ID, fakeId("rec", 1));
    const files = record.fields.Files;
    if (!isAttachmentList(files)) throw new Error("expected an attachment list");
    return files[0]!.url;
  }

  test("a body that drips (never idle) is cut off, naming the host and how much had arrived", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const url = await fileUrl(sim);
    const drip = slowDrip({ chunk: 16, everyMs: 50 }); // 320 bytes/s
    sim.onRequest((req) => (req.route === "download" ? drip.response : undefined));
    const client = simClient(sim, { downloadGraceMs: 300, downloadMinBytesPerSecond: 1000 });
    const response = await client.download(url);
    const error = await rejection(response.arrayBuffer());
    expect(error).toBeInstanceOf(AirbackupError);
    const message = (error as Error).message;
    expect(message).toContain(`attachment download from ${new URL(url).host} cut off after`);
    expect(message).toMatch(/: \d+ B had arrived \(a download may take 0\.3 s plus 1 s per 1\.0 KB\)$/);
    const { received } = error as unknown as { received: number };
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThanOrEqual(drip.sent());
  });

  test("a server that announces a size and drips is cut off; the error says how much of it had arrived", async () => {
    const server = dripServer(100_000, { chunk: 16, everyMs: 50 });
    try {
      const client = createAirtableClient({
        token: "patT.x",
        apiUrl: "http://127.0.0.1:9",
        userAgent: "test",
        downloadGraceMs: 300,
        downloadMinBytesPerSecond: 1000,
      });
      const error = await rejection((await client.download(server.url)).arrayBuffer());
      expect((error as Error).message).toMatch(/cut off after [\d.]+ s: \d+ B of 100\.0 KB had arrived/);
      expect((error as unknown as { announced: number }).announced).toBe(100_000);
    } finally {
      server.stop();
    }
  });

  test("a slow body that keeps above the floor rate arrives whole", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const url = await fileUrl(sim);
    const bytes = new Uint8Array(40 * 1024).fill(7);
    sim.onRequest((req) => {
      if (req.route !== "download") return;
      let at = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (at >= bytes.length) return controller.close();
          await Bun.sleep(20);
          controller.enqueue(bytes.slice(at, at + 4096)); // ~200 KiB/s, over a floor of 1 KiB/s
          at += 4096;
        },
      });
      return new Response(body);
    });
    const client = simClient(sim, { downloadGraceMs: 100, downloadMinBytesPerSecond: 1000 });
    expect(new Uint8Array(await (await client.download(url)).arrayBuffer())).toEqual(bytes);
  });

  test("in a backup, a dripping attachment becomes a warning naming the file and what was cut off", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const url = await fileUrl(sim);
    let drip: ReturnType<typeof slowDrip> | undefined;
    sim.onRequest((req) => {
      if (req.route !== "download") return;
      drip = slowDrip({ chunk: 16, everyMs: 50 });
      return drip.response;
    });
    const warnings: string[] = [];
    const stored: string[] = [];
    const fetcher = createAttachmentFetcher({
      client: simClient(sim, { downloadGraceMs: 300, downloadMinBytesPerSecond: 1000 }),
      baseId: BASE_ID,
      tmpDir: await mkdtemp(join(tmpdir(), "airbackup-drip-")),
      concurrency: 1,
      signal: new AbortController().signal,
      idleTimeoutMs: 5_000, // the drip never lets it fire: only the deadline can end this
      store: async (file) => void stored.push(await readFile(file.path, "utf8")),
      onWarning: (m) => warnings.push(m),
    });
    const record = {
      id: fakeId("rec", 1),
      createdTime: "2024-01-01T00:00:00.000Z",
      fields: { Files: [] as unknown[] },
    };
    record.fields.Files = [{ id: "attAAAAAAAAAAAAAA", url, filename: "slow.bin" }];
    fetcher.scheduleCell({ id: TABLE_ID, name: "Things" }, record, "Files");
    await fetcher.drain();
    expect(stored).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("slow.bin");
    expect(warnings[0]).toMatch(/cut off after [\d.]+ s: \d+ B had arrived/);
    expect(fetcher.stats.failed).toBe(1);
  });
});

describe("API requests never follow redirects", () => {
  test("a 302 from the API is a clear error; the place it points to is never asked", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    let asked = 0;
    using elsewhere = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => {
        asked++;
        return Response.json({ bases: [] });
      },
    });
    sim.onRequest((req) =>
      req.route === "listBases" ? Response.redirect(`http://127.0.0.1:${elsewhere.port}/internal`, 302) : undefined,
    );
    const error = await rejection(listBases(simClient(sim)));
    expect(error).toBeInstanceOf(AirbackupError);
    expect((error as Error).message).toContain("302");
    expect(asked).toBe(0);
  });
});
