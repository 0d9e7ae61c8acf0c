// Writes through the client against the simulator: schema, records, uploads.
import { describe, expect, test } from "bun:test";
import {
  createBase,
  createField,
  createRecords,
  createTable,
  updateField,
  updateRecords,
  uploadAttachment,
} from "../../src/airtable/write.ts";
import type { AirbackupError } from "../../src/errors.ts";
import { startAirtableSim } from "../support/airtable-sim/index.ts";
import { BASE_ID, fakeId, rejection, simClient, TABLE_ID, tinyBase } from "./sim-client.ts";

describe("writing", () => {
  test("create a table, add a field, rename it", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const client = simClient(sim);
    const table = await createTable(client, BASE_ID, {
      name: "Projects",
      fields: [{ name: "Title", type: "singleLineText" }],
    });
    expect(table.name).toBe("Projects");
    expect(table.primaryFieldId).toBe(table.fields[0]!.id);
    const field = await createField(client, BASE_ID, table.id, {
      name: "Budget",
      type: "number",
      options: { precision: 2 },
    });
    expect(field).toMatchObject({ name: "Budget", type: "number" });
    const renamed = await updateField(client, BASE_ID, table.id, field.id, { name: "Budget (EUR)" });
    expect(renamed.name).toBe("Budget (EUR)");
    const stored = sim.base(BASE_ID).tables.find((t) => t.id === table.id)!;
    expect(stored.fields.map((f) => f.name)).toEqual(["Title", "Budget (EUR)"]);
  });

  test("create records (in order) and update them; more than 10 is refused before sending", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const client = simClient(sim);
    const created = await createRecords(client, BASE_ID, TABLE_ID, [
      { fields: { Name: "One" } },
      { fields: { Name: "Two" } },
    ]);
    expect(created.map((r) => r.fields.Name)).toEqual(["One", "Two"]);
    const updated = await updateRecords(client, BASE_ID, TABLE_ID, [{ id: created[1]!.id, fields: { Name: "Deux" } }]);
    expect(updated[0]!.fields.Name).toBe("Deux");
    expect(sim.base(BASE_ID).tables[0]!.records.at(-1)!.fields.Name).toBe("Deux");
    const tooMany = Array.from({ length: 11 }, () => ({ fields: { Name: "x" } }));
    expect(await rejection(createRecords(client, BASE_ID, TABLE_ID, tooMany))).toBeInstanceOf(RangeError);
    expect(client.calls).toBe(2);
  });

  test("upload an attachment through the content host", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const client = simClient(sim);
    const bytes = new TextEncoder().encode("uploaded bytes");
    const res = await uploadAttachment(client, BASE_ID, fakeId("rec", 1), "Files", {
      contentType: "text/plain",
      filename: "up.txt",
      bytes,
    });
    const cell = res.fields[fakeId("fld", "FILES")]!;
    expect(cell.length).toBe(2); // the seeded file, then the new one
    const url = cell[1]!.url;
    expect(await (await client.download(url)).text()).toBe("uploaded bytes");
    expect(sim.counters.requests.uploadAttachment).toBe(1);
  });

  test("create a base in a workspace", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const base = await createBase(simClient(sim), {
      name: "Restored",
      workspaceId: fakeId("wsp", "WORK"),
      tables: [{ name: "Things", fields: [{ name: "Name", type: "singleLineText" }] }],
    });
    expect(base.tables.map((t) => t.name)).toEqual(["Things"]);
    expect(sim.base(base.id).name).toBe("Restored");
  });

  test("a created base's id that is not shaped like one is refused (it would name a file)", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    sim.onResponse((info, response) =>
      info.route === "createBase" ? Response.json({ id: "app/../../x0000000001", tables: [] }) : response,
    );
    const error = await rejection(
      createBase(simClient(sim), {
        name: "Restored",
        workspaceId: fakeId("wsp", "WORK"),
        tables: [{ name: "Things", fields: [{ name: "Name", type: "singleLineText" }] }],
      }),
    );
    expect((error as AirbackupError).code).toBe("AIRTABLE_BAD_RESPONSE");
    expect((error as Error).message).toContain('refusing base id "app/../../x0000000001"');
  });
});
