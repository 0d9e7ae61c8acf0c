// The simulator's shared state: resolved options, data, counters, limiter, faults, URL signer,
// list iterators. Route handlers receive it with the request in a RouteContext.

import type { RenderContext } from "./cells.ts";
import { createFaultInjector, type FaultInjector } from "./faults.ts";
import { idFactory } from "./ids.ts";
import { type Base, loadBase, registerUser, type SimState } from "./model.ts";
import { createRateLimiter, type RateLimiter } from "./rate-limiter.ts";
import type { SimCounters, SimOptions, SimRequestHook, SimResponseHook, TokenGrant } from "./types.ts";
import { createUrlSigner, type UrlSigner } from "./urls.ts";

export const ALL_SCOPES = [
  "data.records:read",
  "data.records:write",
  "data.recordComments:read",
  "data.recordComments:write",
  "schema.bases:read",
  "schema.bases:write",
];

export const DEFAULT_TOKENS: Record<string, TokenGrant> = { "patTEST.secret": { userId: "usrTEST00000000001" } };

/** A list-records cursor: the record order frozen when the listing started. */
export interface Iterator {
  id: string;
  tableId: string;
  recordIds: string[];
  lastUsed: number;
}

export interface SimCore {
  options: Required<Omit<SimOptions, "faults" | "users">>;
  state: SimState;
  counters: SimCounters;
  limiter: RateLimiter;
  faults: FaultInjector;
  signer: UrlSigner;
  iterators: Map<string, Iterator>;
  hooks: SimRequestHook[];
  responseHooks: SimResponseHook[];
  pathCounts: Map<string, number>;
  seen: number; // requests of any kind so far
}

export function createCore(options: SimOptions): SimCore {
  const state: SimState = { bases: new Map(), attachments: new Map(), users: new Map(), newId: idFactory(20240601) };
  const tokens = options.tokens ?? DEFAULT_TOKENS;
  for (const grant of Object.values(tokens)) registerUser(state, { id: grant.userId, name: "Sim User" });
  for (const user of options.users ?? []) state.users.set(user.id, user);
  for (const seed of options.bases) loadBase(state, seed);
  const resolved = {
    bases: options.bases,
    tokens,
    latencyMs: options.latencyMs ?? 0,
    writeLatencyMs: options.writeLatencyMs ?? options.latencyMs ?? 0,
    penaltyMs: options.penaltyMs ?? 30_000,
    perBaseRps: options.perBaseRps ?? 5,
    perUserRps: options.perUserRps ?? 50,
    iteratorTtlMs: options.iteratorTtlMs ?? 60_000,
    attachmentUrlTtlMs: options.attachmentUrlTtlMs ?? 2 * 60 * 60 * 1000,
  };
  const limiter = createRateLimiter(resolved);
  return {
    options: resolved,
    state,
    counters: {
      requests: {},
      total: 0,
      rateLimited: 0,
      maxRatePerBase: limiter.maxRatePerBase,
      maxRatePerUser: limiter.maxRatePerUser,
      writes: 0,
      downloadedBytes: 0,
    },
    limiter,
    faults: createFaultInjector(options.faults),
    signer: createUrlSigner(resolved.attachmentUrlTtlMs),
    iterators: new Map(),
    hooks: [],
    responseHooks: [],
    pathCounts: new Map(),
    seen: 0,
  };
}

export function renderContext(core: SimCore, base: Base): RenderContext {
  return { state: core.state, base, attachment: (att) => core.signer.attachmentObject(att) };
}

/** What a route handler gets. */
export interface RouteContext {
  core: SimCore;
  req: Request;
  url: URL;
  params: Record<string, string>;
  userId: string;
  grant: TokenGrant;
  /** set by handlers that changed data */
  wrote: boolean;
}
