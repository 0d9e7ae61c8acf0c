import { afterAll, describe, expect, test } from "bun:test";
import { startAirtableSim } from "../support/airtable-sim/index.ts";
import { generateBase, sampleBase } from "../support/airtable-sim/seeds.ts";
import { call, listAll } from "./helpers.ts";

const crm = sampleBase();
const big = generateBase({ id: "appBIGBASE0000001", tables: 2, recordsPerTable: 250 });
const sim = await startAirtableSim({ bases: [crm, big], perBaseRps: 1000, perUserRps: 1000 });
afterAll(() => sim.stop());
const contacts = crm.tables[1]!;
const OFFSET = /^itr[A-Za-z0-9]{14}\/rec[A-Za-z0-9]{14}$/;
const EXPIRED = { error: { type: "LIST_RECORDS_ITERATOR_NOT_AVAILABLE" } };

describe("list records", () => {
  test("a table is found by id, by encoded name, with + for spaces, with or without a trailing slash", async () => {
    const paths = [
      `/v0/${crm.id}/${contacts.id}`,
      `/v0/${crm.id}/Contacts/`,
      `/v0/${big.id}/Table%201`,
      `/v0/${big.id}/Table+1/`,
    ];
    for (const path of paths) expect((await call(sim, path)).status).toBe(200);
  });

  test("pages of at most 100 with itr…/rec… offsets; the last page has no offset", async () => {
    const first = await call(sim, `/v0/${big.id}/Table%201`);
    expect(first.body.records).toHaveLength(100);
    expect(first.body.offset).toMatch(OFFSET);
    const all = await listAll(sim, big.id, "Table 1");
    expect(all).toHaveLength(250);
    expect(new Set(all.map((r) => r.id)).size).toBe(250);
    const small = await listAll(sim, big.id, "Table 1", "pageSize=7");
    expect(small.map((r) => r.id)).toEqual(all.map((r) => r.id));
  });

  test("pageSize over 100 is refused with 422", async () => {
    const r = await call(sim, `/v0/${big.id}/Table%201?pageSize=101`);
    expect(r.status).toBe(422);
    expect(r.body.error.type).toBe("INVALID_REQUEST_UNKNOWN");
  });

  test("maxRecords caps the whole listing: pageSize 10 + maxRecords 25 gives pages of 10, 10, 5", async () => {
    const sizes: number[] = [];
    let offset = "";
    for (let i = 0; i < 5; i++) {
      const r = await call(
        sim,
        `/v0/${big.id}/Table%201?pageSize=10&maxRecords=25${offset ? `&offset=${offset}` : ""}`,
      );
      sizes.push(r.body.records.length);
      if (!r.body.offset) break;
      offset = encodeURIComponent(r.body.offset);
    }
    expect(sizes).toEqual([10, 10, 5]);
  });

  test("POST …/listRecords takes the same parameters as a JSON body", async () => {
    const first = await call(sim, `/v0/${big.id}/Table%201/listRecords`, {
      body: { pageSize: 2, fields: ["Name"], returnFieldsByFieldId: true },
    });
    const nameId = big.tables[0]!.fields[0]!.id;
    expect(first.body.records.map((r: any) => Object.keys(r.fields))).toEqual([[nameId], [nameId]]);
    const second = await call(sim, `/v0/${big.id}/Table%201/listRecords`, {
      body: { pageSize: 2, fields: ["Name"], offset: first.body.offset },
    });
    expect(second.body.records[0].fields).toEqual({ Name: "Item 1-3" });
  });

  test("fields[] limits the cells, returnFieldsByFieldId keys them by id, recordMetadata[] adds commentCount", async () => {
    const q = "fields%5B%5D=Deal&fields%5B%5D=Stage&recordMetadata%5B%5D=commentCount&maxRecords=1";
    const r = await call(sim, `/v0/${crm.id}/Deals?${q}`);
    expect(r.body.records[0]).toEqual({
      id: crm.tables[2]!.records[0]!.id,
      createdTime: expect.any(String),
      fields: { Deal: "Acme renewal 2024", Stage: "Won" },
      commentCount: 3,
    });
    const byId = await call(sim, `/v0/${crm.id}/Deals?fields%5B%5D=Deal&returnFieldsByFieldId=true&maxRecords=1`);
    expect(byId.body.records[0].fields).toEqual({ [crm.tables[2]!.fields[0]!.id]: "Acme renewal 2024" });
    const unknown = await call(sim, `/v0/${crm.id}/Deals?fields%5B%5D=Nope`);
    expect(unknown.status).toBe(422);
    expect(unknown.body).toEqual({ error: { type: "UNKNOWN_FIELD_NAME", message: 'Unknown field name: "Nope"' } });
  });

  test("empty cells are omitted, 0 is kept, keys come in the order id, createdTime, fields", async () => {
    const records = await listAll(sim, crm.id, "Contacts");
    for (const r of records) {
      expect(Object.keys(r)).toEqual(["id", "createdTime", "fields"]);
      for (const v of Object.values(r.fields)) expect([null, "", false]).not.toContain(v as any);
      for (const v of Object.values(r.fields)) if (Array.isArray(v)) expect(v.length).toBeGreaterThan(0);
    }
    expect(records.find((r) => r.id === contacts.records[7]!.id)!.fields).toEqual({});
    const umbrella = await call(sim, `/v0/${crm.id}/Companies/${crm.tables[0]!.records[3]!.id}`);
    expect(umbrella.body.fields["Annual revenue"]).toBe(0);
    const lost = await call(sim, `/v0/${crm.id}/Deals/${crm.tables[2]!.records[3]!.id}`);
    expect(lost.body.fields).toMatchObject({ Amount: 0, Probability: 0, Expected: 0 });
  });

  test("sort[0][field] orders the listing", async () => {
    const r = await call(
      sim,
      `/v0/${crm.id}/Deals?sort%5B0%5D%5Bfield%5D=Amount&sort%5B0%5D%5Bdirection%5D=desc&fields%5B%5D=Amount&maxRecords=3`,
    );
    expect(r.body.records.map((x: any) => x.fields.Amount)).toEqual([250000, 120000, 45000.5]);
  });

  test("expireIterators(): an outstanding offset then gives LIST_RECORDS_ITERATOR_NOT_AVAILABLE", async () => {
    const first = await call(sim, `/v0/${big.id}/Table%201`);
    sim.expireIterators();
    const next = await call(sim, `/v0/${big.id}/Table%201?offset=${encodeURIComponent(first.body.offset)}`);
    expect(next.status).toBe(422);
    expect(next.body).toEqual(EXPIRED);
  });

  test("an offset expires iteratorTtlMs after its last use; replaying a live offset returns the same page", async () => {
    await using s = await startAirtableSim({ bases: [big], iteratorTtlMs: 80, perBaseRps: 1000 });
    const first = await call(s, `/v0/${big.id}/Table%201?pageSize=5`);
    const offset = encodeURIComponent(first.body.offset);
    const a = await call(s, `/v0/${big.id}/Table%201?pageSize=5&offset=${offset}`);
    const b = await call(s, `/v0/${big.id}/Table%201?pageSize=5&offset=${offset}`);
    expect(b.body).toEqual(a.body);
    await Bun.sleep(150);
    expect((await call(s, `/v0/${big.id}/Table%201?pageSize=5&offset=${offset}`)).body).toEqual(EXPIRED);
    expect((await call(s, `/v0/${big.id}/Table%201?offset=itrAAAAAAAAAAAAAA/recAAAAAAAAAAAAAA`)).body).toEqual(EXPIRED);
  });

  test("an offset from another table is not accepted", async () => {
    const first = await call(sim, `/v0/${big.id}/Table%201`);
    expect((await call(sim, `/v0/${big.id}/Table%202?offset=${encodeURIComponent(first.body.offset)}`)).body).toEqual(
      EXPIRED,
    );
  });

  test("onRequest can fail the Nth list request of a table", async () => {
    await using s = await startAirtableSim({ bases: [big], perBaseRps: 1000 });
    const path = `/v0/${big.id}/Table%201`;
    s.onRequest((req) => {
      if (req.path === path && req.n === 2) s.expireIterators();
    });
    const first = await call(s, `${path}?pageSize=50`);
    const second = await call(s, `${path}?pageSize=50&offset=${encodeURIComponent(first.body.offset)}`);
    expect(second.body).toEqual(EXPIRED);
    expect(s.counters.requests.listRecords).toBe(2);
  });

  test("get one record; an unknown record is a 403", async () => {
    const r = await call(sim, `/v0/${crm.id}/Contacts/${contacts.records[0]!.id}`);
    expect(r.body.fields.Name).toBe("Ada Lovelace");
    expect(r.body.fields["Company industry"]).toEqual(["Manufacturing"]);
    expect((await call(sim, `/v0/${crm.id}/Contacts/recAAAAAAAAAAAAAA`)).status).toBe(403);
  });
});
