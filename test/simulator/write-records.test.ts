import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { type AirtableSim, startAirtableSim } from "../support/airtable-sim/index.ts";
import { SAMPLE_USERS, sampleBase } from "../support/airtable-sim/seeds.ts";
import { call } from "./helpers.ts";

const crm = sampleBase();
const [companies, contacts, deals] = [crm.tables[0]!, crm.tables[1]!, crm.tables[2]!];
let sim: AirtableSim;
beforeEach(async () => {
  await sim?.stop();
  sim = await startAirtableSim({ bases: [crm], perBaseRps: 1000, perUserRps: 1000 });
});
afterAll(() => sim.stop());

const records = (table: string) => sim.base(crm.id).tables.find((t) => t.name === table)!.records;
const create = (table: string, body: unknown) => call(sim, `/v0/${crm.id}/${table}/`, { body });
const patch = (table: string, body: unknown, method = "PATCH") =>
  call(sim, `/v0/${crm.id}/${table}/`, { method, body });

describe("create records", () => {
  test("a batch is created in request order with new ids, computed cells filled in", async () => {
    const r = await create("Companies", {
      records: [
        { fields: { Name: "Wayne Enterprises", Employees: 0 } },
        { fields: { Name: "Cyberdyne", Industry: "Software" } },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.records.map((x: any) => x.fields.Name)).toEqual(["Wayne Enterprises", "Cyberdyne"]);
    const [wayne] = r.body.records;
    expect(Object.keys(wayne)).toEqual(["id", "createdTime", "fields"]);
    expect(wayne.id).toMatch(/^rec[A-Za-z0-9]{14}$/);
    expect(wayne.fields).toEqual({
      Name: "Wayne Enterprises",
      Employees: 0,
      "Contact count": 0,
      "Account ID": 6,
      Created: wayne.createdTime,
    });
    expect(records("Companies")).toHaveLength(7);
    expect(sim.counters.writes).toBe(1);
  });

  test("a single {fields} body returns a bare record; createdBy is the token's user", async () => {
    const r = await create("Contacts", { fields: { Name: "Solo" } });
    expect(r.body.fields["Created by"]).toEqual({
      id: "usrTEST00000000001",
      email: expect.any(String),
      name: "Sim User",
    });
  });

  test("more than 10 records is a 422 and nothing is written", async () => {
    const r = await create("Companies", {
      records: Array.from({ length: 11 }, (_, i) => ({ fields: { Name: `C${i}` } })),
    });
    expect(r.status).toBe(422);
    expect(r.body.error.message).toContain("11");
    expect(records("Companies")).toHaveLength(5);
  });

  test("one bad record refuses the whole batch: a computed field gets INVALID_VALUE_FOR_COLUMN", async () => {
    const r = await create("Companies", {
      records: [{ fields: { Name: "Fine" } }, { fields: { Name: "Bad", "Account ID": 40 } }],
    });
    expect(r.status).toBe(422);
    expect(r.body).toEqual({
      error: {
        type: "INVALID_VALUE_FOR_COLUMN",
        message: 'Field "Account ID" cannot accept a value because the field is computed',
      },
    });
    expect(records("Companies")).toHaveLength(5);
  });

  test("an unknown field is UNKNOWN_FIELD_NAME", async () => {
    const r = await create("Companies", { records: [{ fields: { Nmae: "typo" } }] });
    expect(r.body).toEqual({ error: { type: "UNKNOWN_FIELD_NAME", message: 'Unknown field name: "Nmae"' } });
  });

  test.each([
    ["Employees", "many"],
    ["Founded", "tomorrow"],
    ["Website", 42],
    ["Contacts", ["recAAAAAAAAAAAAAA"]],
    ["Contacts", [crm.tables[2]!.records[0]!.id]], // a record of another table
    ["Contacts", "not-an-array"],
    ["Logo", [{ nothing: true }]],
  ])("a wrong value for %s is INVALID_VALUE_FOR_COLUMN", async (field, value) => {
    const r = await create("Companies", { records: [{ fields: { Name: "X", [field]: value } }] });
    expect(r.status).toBe(422);
    expect(r.body.error.type).toBe("INVALID_VALUE_FOR_COLUMN");
  });

  test("checkbox, rating and collaborators are checked too", async () => {
    expect((await create("Contacts", { fields: { Active: "yes" } })).body.error.type).toBe("INVALID_VALUE_FOR_COLUMN");
    expect((await create("Contacts", { fields: { Rating: 6 } })).body.error.type).toBe("INVALID_VALUE_FOR_COLUMN");
    expect((await create("Contacts", { fields: { Owner: { id: "usrNOBODY00000000" } } })).body.error.type).toBe(
      "INVALID_VALUE_FOR_COLUMN",
    );
    const ok = await create("Contacts", {
      fields: { Owner: { email: "grace@example.com" }, "Last contacted": 1640520000000 },
    });
    expect(ok.body.fields.Owner).toEqual(SAMPLE_USERS[1]);
    expect(ok.body.fields["Last contacted"]).toBe("2021-12-26T12:00:00.000Z");
  });

  test("an unknown select option is refused unless typecast, which adds the choice", async () => {
    const r = await create("Companies", { records: [{ fields: { Name: "X", Industry: "Aerospace" } }] });
    expect(r.body).toEqual({
      error: {
        type: "INVALID_MULTIPLE_CHOICE_OPTIONS",
        message: 'Insufficient permissions to create new select option ""Aerospace""',
      },
    });
    const t = await create("Companies", {
      records: [{ fields: { Name: "X", Industry: "Aerospace", Employees: "12" } }],
      typecast: true,
    });
    expect(t.body.records[0].fields).toMatchObject({ Industry: "Aerospace", Employees: 12 });
    const industry = sim.base(crm.id).tables[0]!.fields.find((f) => f.name === "Industry")!;
    expect((industry.options as any).choices.map((c: any) => c.name)).toContain("Aerospace");
  });

  test("typecast links by primary value, creating the linked record when none matches", async () => {
    const r = await create("Contacts", {
      fields: { Name: "Pat", Company: ["Globex", "Brand New Co"] },
      typecast: true,
    });
    const [globex, created] = r.body.fields.Company;
    expect(globex).toBe(companies.records[1]!.id);
    expect(records("Companies").find((c) => c.id === created)!.fields.Name).toBe("Brand New Co");
  });
});

describe("update records", () => {
  test("PATCH changes only the given cells, null clears, response in request order", async () => {
    const [a, b] = [contacts.records[0]!.id, contacts.records[1]!.id];
    const r = await patch("Contacts", {
      records: [
        { id: b, fields: { Title: "Chief" } },
        { id: a, fields: { Phone: null, Tags: [] } },
      ],
    });
    expect(r.body.records.map((x: any) => x.id)).toEqual([b, a]);
    expect(r.body.records[0].fields).toMatchObject({ Name: "Alan Turing", Title: "Chief" });
    expect(r.body.records[1].fields.Phone).toBeUndefined();
    expect(r.body.records[1].fields.Tags).toBeUndefined();
    expect(r.body.records[1].fields.Email).toBe("ada.l@acme.example.com");
  });

  test("PUT clears every writable cell left out (computed cells stay)", async () => {
    const id = contacts.records[0]!.id;
    const r = await patch("Contacts", { records: [{ id, fields: { Name: "Ada" } }] }, "PUT");
    expect(Object.keys(r.body.records[0].fields).sort()).toEqual(["Created by", "Label", "Name"]);
  });

  test("single-record PATCH on …/{recordId}", async () => {
    const r = await call(sim, `/v0/${crm.id}/Deals/${deals.records[1]!.id}`, {
      method: "PATCH",
      body: { fields: { Stage: "Won" } },
    });
    expect(r.body.fields.Stage).toBe("Won");
    expect(r.body.fields["Last modified"]).not.toBe(deals.records[1]!.fields["Last modified"]);
  });

  test("a missing record id refuses the batch with ROW_DOES_NOT_EXIST", async () => {
    const r = await patch("Contacts", {
      records: [
        { id: contacts.records[0]!.id, fields: { Title: "x" } },
        { id: "recAAAAAAAAAAAAAA", fields: {} },
      ],
    });
    expect(r.body.error.type).toBe("ROW_DOES_NOT_EXIST");
    expect(records("Contacts")[0]!.fields.Title).toBe("CTO");
  });

  test("writing a link updates the inverse field of the linked records", async () => {
    const contact = contacts.records[6]!.id; // Barbara, no company
    const [acme, globex] = [companies.records[0]!.id, companies.records[1]!.id];
    await patch("Contacts", { records: [{ id: contact, fields: { Company: [globex] } }] });
    const company = (id: string) => records("Companies").find((c) => c.id === id)!.fields;
    expect(company(globex).Contacts).toContain(contact);
    expect(company(globex)["Contact count"]).toBe(3);
    await patch("Contacts", { records: [{ id: contact, fields: { Company: [acme] } }] });
    expect(company(globex).Contacts).not.toContain(contact);
    expect(company(acme).Contacts).toContain(contact);
    // and from the other side
    await patch("Companies", { records: [{ id: acme, fields: { Contacts: [] } }] });
    expect(records("Contacts").find((c) => c.id === contact)!.fields.Company).toBeUndefined();
  });

  test("a self-link has no inverse", async () => {
    const [acme, initech] = [companies.records[0]!.id, companies.records[2]!.id];
    const r = await patch("Companies", { records: [{ id: acme, fields: { "Parent company": [initech] } }] });
    expect(r.body.records[0].fields["Parent company"]).toEqual([initech]);
    expect(records("Companies").find((c) => c.id === initech)!.fields["Parent company"]).toEqual([
      companies.records[1]!.id,
    ]);
  });
});

describe("attachments on write", () => {
  test("[{url, filename}] is fetched at once and stored; [{id}] keeps an attachment; omitted ones go", async () => {
    const bytes = new TextEncoder().encode("id,name\n1,Ada\n");
    using files = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => new Response(bytes, { headers: { "Content-Type": "text/csv" } }),
    });
    const task = crm.tables[3]!.records[2]!.id; // has two files
    const before = await call(sim, `/v0/${crm.id}/Tasks/${task}`);
    const keep = before.body.fields.Files[0];
    const r = await patch("Tasks", {
      records: [
        { id: task, fields: { Files: [{ id: keep.id }, { url: `${files.url}export.csv`, filename: "people.csv" }] } },
      ],
    });
    const cell = r.body.records[0].fields.Files;
    expect(cell.map((a: any) => a.filename)).toEqual([keep.filename, "people.csv"]);
    expect(cell[1]).toMatchObject({ id: expect.stringMatching(/^att/), size: bytes.byteLength, type: "text/csv" });
    const downloaded = new Uint8Array(await (await fetch(cell[1].url)).arrayBuffer());
    expect(downloaded).toEqual(bytes);
  });
});
