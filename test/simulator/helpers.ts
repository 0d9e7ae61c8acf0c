// Small fetch wrappers for the simulator tests.
import type { AirtableSim } from "../support/airtable-sim/index.ts";

export const TOKEN = "patTEST.secret";

export interface Reply {
  status: number;
  body: any;
  contentType: string | null;
}

/** Calls the sim's API host with the default token (or `token`, or none when null). */
export async function call(
  sim: AirtableSim,
  path: string,
  init: { method?: string; body?: unknown; token?: string | null; host?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  const token = init.token === undefined ? TOKEN : init.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`${init.host ?? sim.url}${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? JSON.parse(text) : undefined,
    contentType: res.headers.get("content-type"),
  };
}

/** Every record of a table, following offsets. */
export async function listAll(sim: AirtableSim, baseId: string, table: string, query = ""): Promise<any[]> {
  const records: any[] = [];
  let offset: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const sep = query ? "&" : "";
    const r = await call(
      sim,
      `/v0/${baseId}/${encodeURIComponent(table)}?${query}${offset ? `${sep}offset=${encodeURIComponent(offset)}` : ""}`,
    );
    if (r.status !== 200) throw new Error(`list ${table}: ${r.status} ${JSON.stringify(r.body)}`);
    records.push(...r.body.records);
    offset = r.body.offset;
    if (!offset) return records;
  }
  throw new Error("too many pages");
}
