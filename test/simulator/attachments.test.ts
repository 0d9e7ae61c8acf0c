import { afterAll, describe, expect, test } from "bun:test";
import { startAirtableSim } from "../support/airtable-sim/index.ts";
import { sampleBase } from "../support/airtable-sim/seeds.ts";
import { call } from "./helpers.ts";

const crm = sampleBase();
const sim = await startAirtableSim({ bases: [crm], perBaseRps: 1000, perUserRps: 1000 });
afterAll(() => sim.stop());
const acme = crm.tables[0]!.records[0]!.id;
const logoField = crm.tables[0]!.fields.find((f) => f.name === "Logo")!;
const readLogo = async () => (await call(sim, `/v0/${crm.id}/Companies/${acme}`)).body.fields.Logo[0];

describe("attachment URLs", () => {
  test("a read returns {id,url,filename,size,type,width,height,thumbnails}; the URL serves the bytes from the content host", async () => {
    const logo = await readLogo();
    expect(Object.keys(logo)).toEqual(["id", "url", "filename", "size", "type", "width", "height", "thumbnails"]);
    expect(logo).toMatchObject({ filename: "acme-logo.png", type: "image/png", width: 48, height: 32 });
    expect(Object.keys(logo.thumbnails)).toEqual(["small", "large", "full"]);
    expect(logo.url.startsWith(sim.contentUrl)).toBe(true);
    const res = await fetch(logo.url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes.byteLength).toBe(logo.size);
    expect([...bytes.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  });

  test("every read hands out a fresh URL; downloads are counted apart from API requests", async () => {
    const [a, b] = [await readLogo(), await readLogo()];
    expect(a.url).not.toBe(b.url);
    const before = { total: sim.counters.total, downloads: sim.counters.requests.download ?? 0 };
    await (await fetch(a.url)).arrayBuffer();
    expect(sim.counters.total).toBe(before.total);
    expect(sim.counters.requests.download).toBe(before.downloads + 1);
  });

  test("expireAttachmentUrls(): every URL handed out so far gets a 404; a new read works", async () => {
    const old = await readLogo();
    sim.expireAttachmentUrls();
    expect((await fetch(old.url)).status).toBe(404);
    expect((await fetch(old.thumbnails.small.url)).status).toBe(404);
    expect((await fetch((await readLogo()).url)).status).toBe(200);
  });

  test("a URL dies attachmentUrlTtlMs after it was handed out", async () => {
    await using s = await startAirtableSim({ bases: [crm], attachmentUrlTtlMs: 100 });
    const logo = (await call(s, `/v0/${crm.id}/Companies/${acme}`)).body.fields.Logo[0];
    expect((await fetch(logo.url)).status).toBe(200);
    await Bun.sleep(150);
    expect((await fetch(logo.url)).status).toBe(404);
  });

  test("a tampered URL is refused", async () => {
    const logo = await readLogo();
    const parts = logo.url.split("/");
    parts[7] = "x".repeat(32);
    expect((await fetch(parts.join("/"))).status).toBe(404);
  });

  test("attachments shared between records have their own ids but the same bytes", async () => {
    const initech = crm.tables[0]!.records[2]!.id;
    const other = (await call(sim, `/v0/${crm.id}/Companies/${initech}`)).body.fields.Logo[0];
    const mine = await readLogo();
    expect(other.id).not.toBe(mine.id);
    const [x, y] = await Promise.all(
      [fetch(other.url), fetch(mine.url)].map(async (p) => new Uint8Array(await (await p).arrayBuffer())),
    );
    expect(x).toEqual(y);
  });
});

describe("uploadAttachment", () => {
  const upload = (body: unknown, field = logoField.id, host = sim.contentUrl) =>
    call(sim, `/v0/${crm.id}/${acme}/${field}/uploadAttachment`, { body, host });

  test("appends to the cell and answers {id, createdTime, fields: {<fieldId>: [...]}}", async () => {
    const r = await upload({
      contentType: "text/plain",
      file: Buffer.from("Hello world").toString("base64"),
      filename: "sample.txt",
    });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(["id", "createdTime", "fields"]);
    expect(Object.keys(r.body.fields)).toEqual([logoField.id]);
    const cell = r.body.fields[logoField.id];
    expect(cell.at(-1)).toMatchObject({
      id: expect.stringMatching(/^att/),
      filename: "sample.txt",
      size: 11,
      type: "text/plain",
    });
    expect(await (await fetch(cell.at(-1).url)).text()).toBe("Hello world");
    expect(cell[0].filename).toBe("acme-logo.png");
  });

  test("the field may be given by name", async () => {
    expect((await upload({ contentType: "text/plain", file: "QQ==", filename: "a.txt" }, "Logo")).status).toBe(200);
  });

  test("over 5 MB decoded is a 422; exactly 5 MB is fine", async () => {
    const limit = 5 * 1024 * 1024;
    const over = await upload({
      contentType: "application/octet-stream",
      file: Buffer.alloc(limit + 1).toString("base64"),
      filename: "big.bin",
    });
    expect(over.status).toBe(422);
    const at = await upload({
      contentType: "application/octet-stream",
      file: Buffer.alloc(limit).toString("base64"),
      filename: "max.bin",
    });
    expect(at.status).toBe(200);
  });

  test("only on the content host, and only into attachment fields", async () => {
    expect(
      (await upload({ contentType: "text/plain", file: "QQ==", filename: "a.txt" }, logoField.id, sim.url)).status,
    ).toBe(404);
    expect((await upload({ contentType: "text/plain", file: "QQ==", filename: "a.txt" }, "Name")).body.error.type).toBe(
      "INVALID_VALUE_FOR_COLUMN",
    );
  });
});

describe("comments", () => {
  const deal = crm.tables[2]!.records[0]!.id;

  test("newest first, paginated with offset", async () => {
    const all = await call(sim, `/v0/${crm.id}/Deals/${deal}/comments`);
    expect(all.body.comments.map((c: any) => c.text)).toEqual([
      "Thanks!",
      expect.stringContaining("Great work"),
      "Signed! 🎉",
    ]);
    expect(all.body.offset).toBeUndefined();
    expect(all.body.comments[0]).toMatchObject({
      id: expect.stringMatching(/^com/),
      author: { id: expect.stringMatching(/^usr/), email: "ada@example.com" },
      createdTime: expect.any(String),
      lastUpdatedTime: null,
      parentCommentId: all.body.comments[2].id,
    });
    const texts: string[] = [];
    let offset = "";
    for (let i = 0; i < 5; i++) {
      const page = await call(
        sim,
        `/v0/${crm.id}/Deals/${deal}/comments?pageSize=2${offset ? `&offset=${offset}` : ""}`,
      );
      texts.push(...page.body.comments.map((c: any) => c.text));
      if (!page.body.offset) break;
      offset = encodeURIComponent(page.body.offset);
    }
    expect(texts).toEqual(all.body.comments.map((c: any) => c.text));
  });

  test("a record without comments has an empty list", async () => {
    const r = await call(sim, `/v0/${crm.id}/Deals/${crm.tables[2]!.records[1]!.id}/comments`);
    expect(r.body).toEqual({ comments: [] });
  });
});
