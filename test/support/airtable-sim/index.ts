// The Airtable Web API simulator: two loopback servers (API host and content host) over one
// in-memory model. Each request passes: hooks -> auth -> rate limit (on arrival) -> latency -> scope/base
// checks -> fault injection -> handler. See README.md beside this file.
import { ALL_SCOPES, createCore, type SimCore } from "./core.ts";
import { droppedConnection } from "./faults.ts";
import { authRequired, forbidden, json, notFound, rateLimited, SimHttpError, serverError } from "./http.ts";
import { isId } from "./ids.ts";
import { findField, findTable } from "./model.ts";
import { type Host, hasRole, matchRoute } from "./routes.ts";
import { download } from "./routes-content.ts";
import { baseState } from "./state.ts";
import type { AirtableSim, SimOptions } from "./types.ts";

export type * from "./types.ts";

export async function startAirtableSim(options: SimOptions): Promise<AirtableSim> {
  const core = createCore(options);
  const serve = (host: Host) =>
    Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 120, fetch: (req) => handle(core, host, req) });
  const api = serve("api");
  const content = serve("content");
  const contentUrl = `http://127.0.0.1:${content.port}`;
  core.signer.setOrigin(contentUrl);

  const stop = async () => {
    await Promise.all([api.stop(true), content.stop(true)]);
  };
  return {
    url: `http://127.0.0.1:${api.port}`,
    contentUrl,
    counters: core.counters,
    base: (baseId) => baseState(core, baseId),
    expireIterators: () => core.iterators.clear(),
    expireAttachmentUrls: () => core.signer.expireAll(),
    setFaults: (f) => core.faults.set(f),
    onRequest: (hook) => void core.hooks.push(hook),
    onResponse: (hook) => void core.responseHooks.push(hook),
    renameField(baseId, tableIdOrName, fieldIdOrName, newName) {
      const base = core.state.bases.get(baseId);
      const table = base && findTable(base, tableIdOrName);
      const field = table && findField(table, fieldIdOrName);
      if (!field) throw new Error(`renameField: no field ${fieldIdOrName} in ${baseId}/${tableIdOrName}`);
      field.name = newName;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

// --- internal ---

async function handle(core: SimCore, host: Host, req: Request): Promise<Response> {
  const url = new URL(req.url);
  const isDownload = host === "content" && req.method === "GET" && url.pathname.startsWith("/v3/");
  const match = isDownload ? undefined : matchRoute(host, req.method, url.pathname);
  const route = isDownload ? "download" : (match?.route.name ?? "unknown");
  if (match || isDownload) core.counters.requests[route] = (core.counters.requests[route] ?? 0) + 1;
  if (!isDownload) core.counters.total++;

  const key = `${req.method} ${url.pathname}`;
  const n = (core.pathCounts.get(key) ?? 0) + 1;
  core.pathCounts.set(key, n);
  const info = { method: req.method, path: url.pathname, n, total: ++core.seen, route };
  for (const hook of core.hooks) {
    const answer = await hook(info);
    if (answer instanceof Response) return answer;
  }

  if (isDownload) {
    const fault = core.faults.draw("download");
    if (fault?.kind === "error") return serverError(fault.status);
    if (fault?.kind === "drop") return droppedConnection();
    return download(core, url.pathname);
  }
  // Every API response, errors included, is late by latencyMs (writes: writeLatencyMs): the time the
  // server takes to answer. The rate limit counts requests as they ARRIVE, as an API gateway does.
  const arrival = performance.now();
  const answered = delay(core, req.method);
  try {
    if (!match) throw notFound();
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
    const grant = token === undefined ? undefined : core.options.tokens[token];
    // Missing and invalid tokens get the same 401 body (no distinct type is attested).
    if (!grant) throw authRequired();
    const baseId = match.params.baseId;
    const admitted = core.limiter.admit(grant.userId, baseId, arrival);
    await answered;
    if (!admitted) {
      core.counters.rateLimited++;
      throw rateLimited();
    }
    const { route } = match;
    if (route.scope && !(grant.scopes ?? ALL_SCOPES).includes(route.scope)) throw forbidden();
    const base = baseId === undefined ? undefined : core.state.bases.get(baseId);
    if (route.role) {
      if (!isId("app", baseId)) throw notFound(); // e.g. /v0/meta/bases/junk/tables: bare 404 (captured)
      if (!base || base.permissionLevel === "none" || (grant.bases && !grant.bases.includes(base.id)))
        throw forbidden();
      if (!hasRole(base.permissionLevel, route.role)) throw forbidden();
    }
    const fault = route.fault ? core.faults.draw(route.fault) : undefined;
    if (fault?.kind === "error") return serverError(fault.status);
    const ctx = { core, req, url, params: match.params, userId: grant.userId, grant, wrote: false };
    let response = await route.handler(ctx, base!).catch(errorResponse);
    if (ctx.wrote) core.counters.writes++;
    for (const hook of core.responseHooks) response = hook(info, response) ?? response;
    return fault?.kind === "drop" ? droppedConnection() : response;
  } catch (error) {
    await answered;
    return errorResponse(error);
  }
}

function errorResponse(error: unknown): Response {
  if (error instanceof SimHttpError) return json(error.body, error.status);
  // A bug in the simulator: say so loudly rather than pretend to be Airtable.
  return json({ error: { type: "SIMULATOR_BUG", message: String((error as Error)?.stack ?? error) } }, 500);
}

async function delay(core: SimCore, method: string): Promise<void> {
  const ms = method === "GET" ? core.options.latencyMs : core.options.writeLatencyMs;
  if (ms > 0) await Bun.sleep(ms);
}
