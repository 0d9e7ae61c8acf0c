// sim.base(id): a snapshot of a base as the API would show it, for test assertions.
import { renderRecord } from "./cells.ts";
import { renderContext, type SimCore } from "./core.ts";
import type { SimBaseState, SimRecordState } from "./types.ts";

export function baseState(core: SimCore, baseId: string): SimBaseState {
  const base = core.state.bases.get(baseId);
  if (!base) throw new Error(`airtable-sim: no base ${baseId}`);
  const render = renderContext(core, base);
  return {
    id: base.id,
    name: base.name,
    permissionLevel: base.permissionLevel,
    tables: base.tables.map((table) => ({
      id: table.id,
      name: table.name,
      ...(table.description ? { description: table.description } : {}),
      primaryFieldId: table.primaryFieldId,
      fields: structuredClone(table.fields),
      views: structuredClone(table.views),
      records: [...table.rows.values()].map(
        (row) =>
          ({
            ...renderRecord(render, table, row, { commentCount: true }),
            comments: structuredClone(row.comments),
          }) as unknown as SimRecordState,
      ),
    })),
  };
}
