import { afterAll, describe, expect, test } from "bun:test";
import { startAirtableSim } from "../support/airtable-sim/index.ts";
import { generateBase, sampleBase } from "../support/airtable-sim/seeds.ts";
import { call } from "./helpers.ts";

const crm = sampleBase();
const other = generateBase({ id: "appOTHERBASE00001", tables: 1, recordsPerTable: 2 });
const sim = await startAirtableSim({
  bases: [crm, other],
  perBaseRps: 1000,
  perUserRps: 1000,
  tokens: {
    "patTEST.secret": { userId: "usrTEST00000000001" },
    "patREADER.only": { userId: "usrREADER00000001", scopes: ["data.records:read"], bases: [crm.id] },
    "patSCHEMA.only": { userId: "usrREADER00000001", scopes: ["schema.bases:read"], bases: [crm.id] },
  },
});
afterAll(() => sim.stop());

const AUTH_BODY = { error: { type: "AUTHENTICATION_REQUIRED", message: "Authentication required" } };

describe("authentication", () => {
  test("a request without a token gets 401 AUTHENTICATION_REQUIRED as JSON", async () => {
    const r = await call(sim, "/v0/meta/bases", { token: null });
    expect(r.status).toBe(401);
    expect(r.body).toEqual(AUTH_BODY);
    expect(r.contentType).toBe("application/json; charset=utf-8");
  });

  test("an unknown token gets the same 401", async () => {
    const r = await call(sim, `/v0/${crm.id}/Contacts`, { token: "patNOPE.nope" });
    expect(r.status).toBe(401);
    expect(r.body).toEqual(AUTH_BODY);
  });

  test("a token without the base gets 403, and does not see the base in the list", async () => {
    const r = await call(sim, `/v0/${other.id}/Table%201`, { token: "patREADER.only" });
    expect(r.status).toBe(403);
    expect(r.body.error.type).toBe("INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND");
    const bases = await call(sim, "/v0/meta/bases", { token: "patSCHEMA.only" });
    expect(bases.body.bases.map((b: { id: string }) => b.id)).toEqual([crm.id]);
  });

  test("a token without the scope gets 403 on that route only", async () => {
    expect((await call(sim, `/v0/${crm.id}/Contacts`, { token: "patREADER.only" })).status).toBe(200);
    expect((await call(sim, `/v0/meta/bases/${crm.id}/tables`, { token: "patREADER.only" })).status).toBe(403);
    const write = await call(sim, `/v0/${crm.id}/Contacts`, {
      token: "patREADER.only",
      body: { records: [{ fields: { Name: "x" } }] },
    });
    expect(write.status).toBe(403);
    expect(write.body.error.type).toBe("INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND");
    const comments = await call(sim, `/v0/${crm.id}/Deals/${crm.tables[2]!.records[0]!.id}/comments`, {
      token: "patREADER.only",
    });
    expect(comments.status).toBe(403);
    expect((await call(sim, `/v0/meta/bases/${crm.id}/tables`, { token: "patSCHEMA.only" })).status).toBe(200);
  });

  test("unknown routes get the bare 404 NOT_FOUND body", async () => {
    for (const path of ["/v1/whatever", "/v0/meta/bases/junk/tables", "/"]) {
      const r = await call(sim, path);
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ error: "NOT_FOUND" });
      expect(r.contentType).toBe("application/json; charset=utf-8");
    }
  });

  test("an unknown but well-formed base or table id is a 403", async () => {
    expect((await call(sim, "/v0/appZZZZZZZZZZZZZZ/Contacts")).status).toBe(403);
    expect((await call(sim, `/v0/${crm.id}/No%20such%20table`)).status).toBe(403);
  });

  test("whoami names the token's user", async () => {
    const r = await call(sim, "/v0/meta/whoami", { token: "patREADER.only" });
    expect(r.body).toEqual({ id: "usrREADER00000001", scopes: ["data.records:read"] });
  });

  test("read-only bases refuse writes", async () => {
    const ro = generateBase({ id: "appREADONLY000001", tables: 1, recordsPerTable: 1 });
    await using s = await startAirtableSim({ bases: [{ ...ro, permissionLevel: "read" }] });
    expect((await call(s, `/v0/${ro.id}/Table%201`)).status).toBe(200);
    expect((await call(s, `/v0/${ro.id}/Table%201`, { body: { records: [{ fields: { Name: "x" } }] } })).status).toBe(
      403,
    );
  });
});
