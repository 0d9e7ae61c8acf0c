// Reading through the client against the simulator: bases, schema, record pages, records, comments, iterators.
import { describe, expect, test } from "bun:test";
import { getBaseSchema, getRecord, listBases, listComments, listRecordPages } from "../../src/airtable/read.ts";
import { IteratorExpiredError } from "../../src/airtable/recoverable-errors.ts";
import { startAirtableSim } from "../support/airtable-sim/index.ts";
import { BASE_ID, fakeId, rejection, simClient, TABLE_ID, TABLE_NAME, tinyBase } from "./sim-client.ts";

describe("reading", () => {
  test("listBases follows the offset past the 1000-base page", async () => {
    const bases = Array.from({ length: 1003 }, (_, i) => ({
      id: fakeId("app", `B${i}`),
      name: `Base ${i}`,
      tables: [
        {
          id: fakeId("tbl", `T${i}`),
          name: "T",
          fields: [{ id: fakeId("fld", `F${i}`), name: "Name", type: "singleLineText" }],
          records: [],
        },
      ],
    }));
    await using sim = await startAirtableSim({ bases });
    const client = simClient(sim);
    const listed = await listBases(client);
    expect(listed.length).toBe(1003);
    expect(new Set(listed.map((b) => b.id)).size).toBe(1003);
    expect(listed[1002]).toEqual({ id: fakeId("app", "B1002"), name: "Base 1002", permissionLevel: "create" });
    expect(sim.counters.requests.listBases).toBe(2);
    expect(client.calls).toBe(2);
  });

  test("getBaseSchema returns the tables response as sent, unknown types and keys included", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const schema = await getBaseSchema(simClient(sim), BASE_ID);
    const table = schema.tables[0]!;
    expect(table.id).toBe(TABLE_ID);
    expect(table.name).toBe(TABLE_NAME);
    expect(table.fields.map((f) => f.name)).toEqual(["Name", "Files", "Future"]);
    expect(table.fields[2]).toEqual({
      id: fakeId("fld", "FUTURE"),
      name: "Future",
      type: "someFutureType",
      options: { brandNew: { nested: [1, 2] } },
    });
    // The same JSON the server sent, byte for byte once re-serialised (nothing dropped or reordered).
    const raw = await fetch(`${sim.url}/v0/meta/bases/${BASE_ID}/tables?include=visibleFieldIds`, {
      headers: { Authorization: "Bearer patTEST.secret" },
    }).then((r) => r.text());
    expect(JSON.stringify(schema)).toBe(JSON.stringify(JSON.parse(raw)));
  });

  test.each([
    ["id", TABLE_ID],
    ["name", TABLE_NAME],
  ])("listRecordPages walks a table by %s, page by page, in order", async (_, table) => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const client = simClient(sim);
    const sizes: number[] = [];
    const ids: string[] = [];
    for await (const page of listRecordPages(client, BASE_ID, table, { pageSize: 10 })) {
      sizes.push(page.length);
      ids.push(...page.map((r) => r.id));
    }
    expect(sizes).toEqual([10, 10, 3]);
    expect(ids).toEqual(sim.base(BASE_ID).tables[0]!.records.map((r) => r.id));
    expect(client.calls).toBe(3);
  });

  test("records come back as the API sent them: id, createdTime, fields by name, commentCount on request", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const pages = listRecordPages(simClient(sim), BASE_ID, TABLE_ID, {
      pageSize: 2,
      recordMetadata: ["commentCount"],
      fields: ["Name"],
    });
    const first = (await pages.next()).value!;
    expect(first[1]).toEqual({
      id: fakeId("rec", 2),
      createdTime: "2024-01-01T00:00:01.000Z",
      fields: { Name: "Client 2" },
      commentCount: 120,
    });
    expect(Object.keys(first[0]!.fields)).toEqual(["Name"]); // fields[] asked for Name only: no Files
    await pages.return(undefined);
  });

  test("getRecord and listComments (all 120 comments over two pages, newest first)", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const client = simClient(sim);
    const record = await getRecord(client, BASE_ID, TABLE_NAME, fakeId("rec", 2));
    expect(record.fields).toEqual({ Name: "Client 2" });
    const comments = await listComments(client, BASE_ID, TABLE_ID, fakeId("rec", 2));
    expect(comments.length).toBe(120);
    expect(comments[0]!.text).toBe("comment 120");
    expect(comments[119]!.text).toBe("comment 1");
    expect(sim.counters.requests.listComments).toBe(2);
  });

  test("an expired iterator surfaces as IteratorExpiredError; a new listing starts over", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const client = simClient(sim);
    const pages = listRecordPages(client, BASE_ID, TABLE_ID, { pageSize: 10 });
    expect((await pages.next()).value!.length).toBe(10);
    sim.expireIterators();
    const error = await rejection(pages.next());
    expect(error).toBeInstanceOf(IteratorExpiredError);
    expect((error as IteratorExpiredError).code).toBe("AIRTABLE_ITERATOR_EXPIRED");
    expect((error as Error).message).toContain("LIST_RECORDS_ITERATOR_NOT_AVAILABLE");
    let count = 0;
    for await (const page of listRecordPages(client, BASE_ID, TABLE_ID, { pageSize: 10 })) count += page.length;
    expect(count).toBe(23);
  });

  test("a very long field list goes through POST …/listRecords instead of an over-long URL", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const seen: string[] = [];
    sim.onRequest((info) => void seen.push(`${info.method} ${info.path}`));
    const pages = listRecordPages(simClient(sim), BASE_ID, TABLE_ID, { fields: Array(900).fill("Name") });
    expect((await pages.next()).value!.length).toBe(23);
    expect(seen).toEqual([`POST /v0/${BASE_ID}/${TABLE_ID}/listRecords`]);
  });
});
