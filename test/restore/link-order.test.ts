// Links in the first pass: each pair is written once, from the table filled later; only a self-link and
// the second of two one-way links that need opposite orders fall to the second pass.
import { expect, test } from "bun:test";
import type { ArchivedTable } from "../../src/archive/contents.ts";
import { planLinks } from "../../src/restore/link-order.ts";
import { planRestore } from "../../src/restore/plan.ts";

const link = (id: string, name: string, to: string, inverse?: string) => ({
  id,
  name,
  type: "multipleRecordLinks",
  options: { linkedTableId: to, ...(inverse ? { inverseLinkFieldId: inverse } : {}) },
});
const table = (id: string, name: string, ...links: ReturnType<typeof link>[]): ArchivedTable => ({
  id,
  name,
  primaryFieldId: `fld${name}Name`,
  fields: [{ id: `fld${name}Name`, name: "Name", type: "singleLineText" }, ...links],
});

function plan(tables: ArchivedTable[]) {
  const p = planRestore(tables, []);
  const ids = { tables: new Map<string, string>(), fields: new Map<string, string>() };
  for (const t of tables) {
    ids.tables.set(t.id, `new-${t.id}`);
    for (const f of t.fields) ids.fields.set(f.id, `new-${f.id}`);
  }
  const links = planLinks(p, ids);
  const names = (m: Map<string, { name: string }[]>) =>
    Object.fromEntries([...m].map(([t, fields]) => [t, fields.map((f) => f.name)]));
  return { order: links.order.map((t) => t.source.id), first: names(links.first), second: names(links.second) };
}

test("a cycle A -> B -> C -> A of link pairs and a self-link: every pair inside the creates, the self-link later", () => {
  const result = plan([
    table(
      "tblA",
      "A",
      link("fldAB", "ToB", "tblB", "fldBA"),
      link("fldAC", "FromC", "tblC", "fldCA"),
      link("fldAP", "Parent", "tblA", "fldAK"),
      link("fldAK", "Kids", "tblA", "fldAP"),
    ),
    table("tblB", "B", link("fldBA", "FromA", "tblA", "fldAB"), link("fldBC", "ToC", "tblC", "fldCB")),
    table("tblC", "C", link("fldCB", "FromB", "tblB", "fldBC"), link("fldCA", "ToA", "tblA", "fldAC")),
  ]);
  expect(result.order).toEqual(["tblA", "tblB", "tblC"]);
  // A is filled first: it writes none of its pairs; B writes A<->B; C writes B<->C and C<->A.
  expect(result.first).toEqual({ tblA: [], tblB: ["FromA"], tblC: ["FromB", "ToA"] });
  expect(result.second).toEqual({ tblA: ["Parent", "Kids"], tblB: [], tblC: [] });
});

test("one-way links order the tables; of two that need opposite orders, the second waits", () => {
  const result = plan([
    table("tblX", "X", link("fldXY", "NeedsY", "tblY")),
    table("tblY", "Y", link("fldYZ", "NeedsZ", "tblZ")),
    table("tblZ", "Z", link("fldZY", "NeedsYToo", "tblY")),
  ]);
  // X needs Y, Y needs Z, Z needs Y: Y and Z need opposite orders. Y goes first (X and Z need it).
  expect(result.order).toEqual(["tblY", "tblX", "tblZ"]);
  expect(result.first).toEqual({ tblY: [], tblX: ["NeedsY"], tblZ: ["NeedsYToo"] });
  expect(result.second).toEqual({ tblY: ["NeedsZ"], tblX: [], tblZ: [] });
});
