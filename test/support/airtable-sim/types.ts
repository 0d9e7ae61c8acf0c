// Public types of the Airtable Web API simulator: seeds, options, the handle tests hold, counters.
// Seeds use the Meta API shape for schema and API cell values (fields by NAME) for records.

export type PermissionLevel = "none" | "read" | "comment" | "edit" | "create";

/** A field as the Meta API returns it. */
export interface FieldSchema {
  id: string;
  name: string;
  type: string;
  description?: string;
  options?: Record<string, unknown>;
}

export interface ViewSchema {
  id: string;
  name: string;
  type: string;
  visibleFieldIds?: string[];
}

/**
 * An attachment cell item in a seed. `data` may be a function so that big synthetic bases do not
 * hold hundreds of MB: it is called on every download (and once at load to learn `size` and image
 * dimensions unless `size` is given), and must return the same bytes every time.
 */
export interface SeedAttachment {
  filename: string;
  type: string;
  data: Uint8Array | (() => Uint8Array);
  size?: number;
  width?: number;
  height?: number;
}

export interface SimUser {
  id: string;
  email: string;
  name?: string;
}

export interface SimComment {
  id: string;
  author: SimUser;
  text: string;
  createdTime: string;
  lastUpdatedTime: string | null;
  parentCommentId?: string;
  mentioned?: Record<string, unknown>;
  reactions?: unknown[];
}

export type SeedComment = Omit<SimComment, "id" | "lastUpdatedTime"> & {
  id?: string;
  lastUpdatedTime?: string | null;
};

export interface SimRecordSeed {
  id: string;
  createdTime: string;
  /** API cell values keyed by field name; attachment cells are SeedAttachment[]. */
  fields: Record<string, unknown>;
  comments?: SeedComment[];
}

export interface SimTableSeed {
  id: string;
  name: string;
  description?: string;
  primaryFieldId?: string; // default: the first field
  fields: FieldSchema[];
  views?: ViewSchema[]; // default: one "Grid view"
  records: SimRecordSeed[];
}

export interface SimBaseSeed {
  id: string;
  name: string;
  permissionLevel?: PermissionLevel; // default "create"
  tables: SimTableSeed[];
}

export type FaultRoute = "list" | "meta" | "write" | "download" | "upload";

export interface FaultOptions {
  seed: number;
  /** Share of requests answered with a 5xx (503 RETRIABLE_ERROR, 500 or 502), not processed. */
  errorRate?: number;
  /** Share of requests whose connection is closed without a response (writes ARE applied first). */
  dropRate?: number;
  /** Which kinds of request may fault (default: all). */
  routes?: FaultRoute[];
}

export interface TokenGrant {
  userId: string;
  scopes?: string[]; // default: every scope
  bases?: string[]; // default: every base
}

export interface SimOptions {
  bases: SimBaseSeed[];
  /** token -> who it is and what it may do. Default: { "patTEST.secret": { userId: "usrTEST00000000001" } } with all scopes and all bases. */
  tokens?: Record<string, TokenGrant>;
  /** Users known to the sim (for collaborator cells, createdBy, comment authors); seeds add theirs. */
  users?: SimUser[];
  latencyMs?: number; // added to every API response (default 0)
  /** added instead of latencyMs to responses of POST, PATCH, PUT and DELETE (default: latencyMs) */
  writeLatencyMs?: number;
  penaltyMs?: number; // 429 lockout window after exceeding a limit (default 30_000)
  perBaseRps?: number; // default 5
  perUserRps?: number; // default 50 (per userId across its tokens)
  iteratorTtlMs?: number; // list-records offset lifetime, since last use (default 60_000)
  attachmentUrlTtlMs?: number; // signed attachment URL lifetime (default 2 h)
  faults?: FaultOptions;
}

export interface SimCounters {
  /** per route name: listBases, getSchema, listRecords, getRecord, createRecords, updateRecords, createTable, createField, updateField, updateTable, createBase, uploadAttachment, listComments, whoami, download */
  requests: Record<string, number>;
  total: number; // all API requests (downloads excluded), whatever their outcome
  rateLimited: number; // 429s served
  /** highest number of requests ATTEMPTED (accepted or refused) in any 1-second sliding window, per base */
  maxRatePerBase: Record<string, number>;
  maxRatePerUser: Record<string, number>;
  writes: number; // requests that changed data
  downloadedBytes: number;
}

export interface SimRecordState {
  id: string;
  createdTime: string;
  fields: Record<string, unknown>;
  commentCount: number;
  /** oldest first */
  comments: SimComment[];
}

export interface SimTableState {
  id: string;
  name: string;
  description?: string;
  primaryFieldId: string;
  fields: FieldSchema[];
  views: ViewSchema[];
  records: SimRecordState[];
}

export interface SimBaseState {
  id: string;
  name: string;
  permissionLevel: PermissionLevel;
  tables: SimTableState[];
}

export interface SimRequestInfo {
  method: string;
  path: string; // URL pathname as sent (no query string)
  /** 1-based count of requests with this method and path so far, this one included */
  n: number;
  /** 1-based count of all requests so far (API and downloads) */
  total: number;
  /** route name as in counters.requests, or "unknown" */
  route: string;
}

/** A hook may return a Response to answer the request itself (checked before auth and limits). */
// biome-ignore lint/suspicious/noConfusingVoidType: most hooks are plain side-effect callbacks that return nothing
export type SimRequestHook = (req: SimRequestInfo) => void | Response | Promise<void | Response>;

/**
 * Runs after an API route's handler did its work (the write happened) and before the answer goes out; may
 * return a Response to send instead: e.g. a proxy's 503 page over a create that went through.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: most hooks only replace some answers
export type SimResponseHook = (req: SimRequestInfo, response: Response) => void | Response;

export interface AirtableSim {
  url: string; // base URL for AIRTABLE_API_URL, e.g. http://127.0.0.1:41234
  contentUrl: string; // base URL for AIRTABLE_CONTENT_URL (a second server)
  counters: SimCounters;
  /** current data, for assertions: tables with schema + records as the API would return them (fields by name) */
  base(baseId: string): SimBaseState;
  expireIterators(): void; // every outstanding offset now gives LIST_RECORDS_ITERATOR_NOT_AVAILABLE
  expireAttachmentUrls(): void; // every URL handed out so far now fails (404)
  setFaults(f: SimOptions["faults"]): void;
  /** schedule a one-off: e.g. fail the Nth list request of a table with iterator-expired, or rename a field after N requests */
  onRequest(hook: SimRequestHook): void;
  /** Replace the answer to a request after its handler ran (the write happened); see SimResponseHook. */
  onResponse(hook: SimResponseHook): void;
  /** Rename a field behind the client's back (as a user would in the UI); no request is counted. */
  renameField(baseId: string, tableIdOrName: string, fieldIdOrName: string, newName: string): void;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
