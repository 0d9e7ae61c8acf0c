import { afterAll, describe, expect, test } from "bun:test";
import { startAirtableSim } from "../support/airtable-sim/index.ts";
import { sampleBase } from "../support/airtable-sim/seeds.ts";
import { call } from "./helpers.ts";

const crm = sampleBase();
const sim = await startAirtableSim({ bases: [crm], perBaseRps: 1000, perUserRps: 1000 });
afterAll(() => sim.stop());
const ID = /^[A-Za-z0-9]{14}$/;

describe("Meta API", () => {
  test("list bases pages 1000 at a time with an itr…/app… offset", async () => {
    const bases = Array.from({ length: 1001 }, (_, i) => ({
      id: `app${String(i).padStart(14, "0")}`,
      name: `Base ${i}`,
      permissionLevel: i === 0 ? ("read" as const) : undefined,
      tables: [],
    }));
    await using s = await startAirtableSim({ bases });
    const first = await call(s, "/v0/meta/bases");
    expect(first.body.bases).toHaveLength(1000);
    expect(first.body.bases[0]).toEqual({ id: bases[0]!.id, name: "Base 0", permissionLevel: "read" });
    expect(first.body.offset).toMatch(/^itr[A-Za-z0-9]{14}\/app00000000001000$/);
    const second = await call(s, `/v0/meta/bases?offset=${encodeURIComponent(first.body.offset)}`);
    expect(second.body).toEqual({ bases: [{ id: bases[1000]!.id, name: "Base 1000", permissionLevel: "create" }] });
  });

  test("the base schema has tables with primaryFieldId, fields and views; include=visibleFieldIds adds them to grid views", async () => {
    const r = await call(sim, `/v0/meta/bases/${crm.id}/tables`);
    expect(r.body.tables.map((t: { name: string }) => t.name)).toEqual(["Companies", "Contacts", "Deals", "Tasks"]);
    const companies = r.body.tables[0];
    expect(Object.keys(companies)).toEqual(["id", "name", "description", "primaryFieldId", "fields", "views"]);
    expect(companies.primaryFieldId).toBe(companies.fields[0].id);
    expect(companies.views).toEqual([{ id: expect.stringMatching(/^viw/), name: "Grid view", type: "grid" }]);
    const withVisible = await call(sim, `/v0/meta/bases/${crm.id}/tables?include=visibleFieldIds`);
    expect(withVisible.body.tables[0].views[0].visibleFieldIds).toHaveLength(companies.fields.length);
  });

  test("create base in a workspace returns its tables; the new base is listed", async () => {
    const r = await call(sim, "/v0/meta/bases", {
      body: {
        name: "Restored",
        workspaceId: "wspmhESAta6clCCwF",
        tables: [
          {
            name: "Apartments",
            fields: [
              { name: "Name", type: "singleLineText" },
              { name: "Visited", type: "checkbox", options: { color: "greenBright", icon: "check" } },
            ],
          },
        ],
      },
    });
    expect(r.status).toBe(200);
    expect(r.body.id).toMatch(/^app/);
    expect(r.body.tables[0].fields.map((f: { name: string }) => f.name)).toEqual(["Name", "Visited"]);
    const listed = await call(sim, "/v0/meta/bases");
    expect(listed.body.bases).toContainEqual({ id: r.body.id, name: "Restored", permissionLevel: "create" });
    const bad = await call(sim, "/v0/meta/bases", {
      body: {
        name: "X",
        workspaceId: "wspmhESAta6clCCwF",
        tables: [{ name: "T", primaryFieldId: "fldX", fields: [{ name: "N", type: "singleLineText" }] }],
      },
    });
    expect(bad.body.error.type).toBe("INVALID_REQUEST_UNKNOWN");
  });

  test("create table: the first field is primary, a Grid view is made, names are unique", async () => {
    const r = await call(sim, `/v0/meta/bases/${crm.id}/tables`, {
      body: {
        name: "Projects",
        description: "Things",
        fields: [
          { name: "Title", type: "singleLineText", description: "What" },
          {
            name: "Stage",
            type: "singleSelect",
            options: { choices: [{ name: "Open" }, { name: "Closed", color: "redBright" }] },
          },
        ],
      },
    });
    expect(r.status).toBe(200);
    expect(r.body.id).toMatch(/^tbl/);
    expect(r.body.primaryFieldId).toBe(r.body.fields[0].id);
    expect(r.body.fields[0]).toEqual({
      id: expect.stringMatching(/^fld/),
      name: "Title",
      type: "singleLineText",
      description: "What",
    });
    expect(r.body.fields[1].options.choices).toEqual([
      { id: expect.stringMatching(/^sel/), name: "Open", color: expect.any(String) },
      { id: expect.stringMatching(/^sel/), name: "Closed", color: "redBright" },
    ]);
    expect(r.body.views).toEqual([{ id: expect.stringMatching(/^viw/), name: "Grid view", type: "grid" }]);
    const again = await call(sim, `/v0/meta/bases/${crm.id}/tables`, {
      body: { name: "projects", fields: [{ name: "A", type: "singleLineText" }] },
    });
    expect(again.status).toBe(422);
    const dupField = await call(sim, `/v0/meta/bases/${crm.id}/tables`, {
      body: {
        name: "Other",
        fields: [
          { name: "A", type: "singleLineText" },
          { name: "a", type: "number" },
        ],
      },
    });
    expect(dupField.body.error.type).toBe("DUPLICATE_OR_EMPTY_FIELD_NAME");
  });

  test("a link field creates its inverse in the linked table and returns inverseLinkFieldId", async () => {
    const [companies, contacts] = [crm.tables[0]!, crm.tables[1]!];
    const r = await call(sim, `/v0/meta/bases/${crm.id}/tables/${contacts.id}/fields`, {
      body: { name: "Former employer", type: "multipleRecordLinks", options: { linkedTableId: companies.id } },
    });
    expect(r.status).toBe(200);
    expect(r.body.options).toEqual({
      linkedTableId: companies.id,
      isReversed: false,
      prefersSingleRecordLink: false,
      inverseLinkFieldId: expect.stringMatching(/^fld/),
    });
    const schema = await call(sim, `/v0/meta/bases/${crm.id}/tables`);
    const inverse = schema.body.tables[0].fields.find(
      (f: { id: string }) => f.id === r.body.options.inverseLinkFieldId,
    );
    expect(inverse).toEqual({
      id: r.body.options.inverseLinkFieldId,
      name: "Contacts 2",
      type: "multipleRecordLinks",
      options: {
        linkedTableId: contacts.id,
        isReversed: false,
        prefersSingleRecordLink: false,
        inverseLinkFieldId: r.body.id,
      },
    });
  });

  test.each([
    "formula",
    "rollup",
    "count",
    "multipleLookupValues",
    "autoNumber",
    "createdTime",
    "lastModifiedTime",
    "createdBy",
    "lastModifiedBy",
    "button",
    "aiText",
  ])("a %s field cannot be created (422)", async (type) => {
    const r = await call(sim, `/v0/meta/bases/${crm.id}/tables/${crm.tables[3]!.id}/fields`, {
      body: { name: `New ${type}`, type, options: {} },
    });
    expect(r.status).toBe(422);
    expect(r.body.error.type).toBe("INVALID_FIELD_TYPE");
  });

  test("rename a field: records are then keyed by the new name", async () => {
    const tasks = crm.tables[3]!;
    const notes = tasks.fields.find((f) => f.name === "Notes")!;
    const r = await call(sim, `/v0/meta/bases/${crm.id}/tables/${tasks.id}/fields/${notes.id}`, {
      method: "PATCH",
      body: { name: "Details", description: "Free text" },
    });
    expect(r.body).toEqual({ id: notes.id, name: "Details", type: "multilineText", description: "Free text" });
    const record = await call(sim, `/v0/${crm.id}/${tasks.id}/${tasks.records[2]!.id}`);
    expect(record.body.fields.Details).toBe("Include volume discount.");
    expect(record.body.fields.Notes).toBeUndefined();
    const clash = await call(sim, `/v0/meta/bases/${crm.id}/tables/${tasks.id}/fields/${notes.id}`, {
      method: "PATCH",
      body: { name: "task" },
    });
    expect(clash.status).toBe(422);
  });

  test("ids have the Airtable shape", async () => {
    const r = await call(sim, `/v0/meta/bases/${crm.id}/tables`);
    for (const t of r.body.tables) {
      expect(t.id.slice(3)).toMatch(ID);
      for (const f of t.fields) expect(f.id).toMatch(/^fld[A-Za-z0-9]{14}$/);
    }
  });
});
