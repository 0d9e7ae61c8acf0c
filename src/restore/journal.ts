// The restore journal: `<archive>.restore-<targetBaseId>.journal.jsonl` next to the archive, append-only
// JSON lines, fsynced after every append. It holds the old->new ids of tables, fields and records and the
// progress of links and attachments, so that running the same restore again resumes without duplicating.
// An entry is appended only once Airtable answered, except `pending`, written BEFORE a create is sent:
// it names the batch's records and the hash of what is sent, so a lost answer can be reconciled later.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from "node:fs";
import { AirbackupError } from "../errors.ts";
import type { ManualStep } from "./plan.ts";

export type JournalEntry =
  | { t: "start"; at: string; archiveBase: string; archiveStartedAt: string; base: string }
  | { t: "table"; old: string; new: string; name: string }
  | { t: "field"; table: string; old: string; new: string; inverse?: { table: string; id: string } }
  /**
   * `at` is the local clock, for people only (never compared with Airtable's). `after` is Airtable's
   * createdTime of the newest record this restore had created in the table when the batch was sent.
   */
  | ({ t: "pending"; table: string; batch?: number } & Omit<PendingCreate, "batch">)
  /**
   * `last`: Airtable's createdTime of the newest record in the answer (absent after a reconcile).
   * `batches`: the pending batches this settles (absent in journals of older versions: all of the table's).
   */
  | { t: "created"; table: string; pairs: [string, string][]; last?: string; batches?: number[] }
  /** A pending batch Airtable refused (422): nothing was written. */
  | { t: "refused"; table: string; batch: number }
  /** A record created without some of its fields, which are added by updates: the target keys still to add. */
  | { t: "partial"; table: string; record: string; id: string; rest: string[] }
  | { t: "manual"; step: ManualStep }
  | { t: "note"; text: string }
  | { t: "comment-pending"; key: string }
  | { t: "comment"; key: string; id: string }
  | { t: "skipped"; table: string; record: string; field: string; reason: string }
  | { t: "failed"; table: string; record: string; reason: string }
  | { t: "links"; table: string; records: string[]; dropped?: { record: string; field: string; missing: string[] }[] }
  | { t: "att-pending"; key: string; before: number }
  | { t: "att"; key: string; id?: string; skipped?: string }
  | { t: "done"; at: string };

export interface PendingCreate {
  /** Numbers the batches of a journal, so several can be in flight at once (0 in older journals). */
  batch: number;
  at: string;
  after?: string;
  /** `rest`: target field keys left out of this create, to be added by updates once it exists. */
  items: { old: string; hash: string; rest?: string[] }[];
}

/** What a journal says, replayed. Keys of the maps are ARCHIVED ids. */
export interface JournalState {
  tables: Map<string, string>;
  fields: Map<string, { id: string; inverse?: { table: string; id: string } }>;
  /** archived table id -> archived record id -> new record id */
  records: Map<string, Map<string, string>>;
  /** archived table id -> batch number -> a create sent and not settled */
  pending: Map<string, Map<number, PendingCreate>>;
  nextBatch: number;
  /** archived table id -> archived record id -> new id and the target field keys still to add */
  partial: Map<string, Map<string, { id: string; rest: string[] }>>;
  /** archived table id -> Airtable's createdTime of the newest record this restore created there */
  lastCreated: Map<string, string>;
  skipped: { table: string; record: string; field: string; reason: string }[];
  failed: { table: string; record: string; reason: string }[];
  linksDone: Map<string, Set<string>>;
  dropped: { table: string; record: string; field: string; missing: string[] }[];
  /** attachment key (`table/record/field/index`) -> done (new attachment id, or why it was skipped) */
  attachments: Map<string, { id?: string; skipped?: string }>;
  /** attachment key -> cell length before an upload whose answer never came */
  attachmentPending: Map<string, number>;
  /** Manual steps and notes of every run of this restore (a resumed plan no longer sees what an earlier run did). */
  manual: ManualStep[];
  notes: string[];
  /** comment key (`table/record/commentId`) -> the new comment's id; and keys sent without a confirmed answer */
  comments: Map<string, string>;
  commentPending: Set<string>;
  started: boolean;
}

export interface Journal {
  readonly path: string;
  readonly state: JournalState;
  /** Appends entries and fsyncs; the state follows. */
  append(...entries: JournalEntry[]): void;
  close(): void;
}

export function journalPath(archivePath: string, baseId: string): string {
  return `${archivePath}.restore-${baseId}.journal.jsonl`;
}

/** The one system call the journal's appends go through; a seam so tests can force short writes. */
export type WriteFn = (fd: number, buffer: Uint8Array, offset: number, length: number) => number;

/** Opens (or creates) the journal and replays it. A torn last line (crash mid-write) is ignored. */
export function openJournal(path: string, write: WriteFn = (fd, b, o, l) => writeSync(fd, b, o, l)): Journal {
  const state = emptyState();
  if (existsSync(path)) {
    const bytes = readFileSync(path);
    // A last line without its newline was cut short by a crash (never confirmed): cut it off.
    const end = bytes.lastIndexOf(0x0a) + 1;
    if (end < bytes.length) truncateSync(path, end);
    const lines = bytes.subarray(0, end).toString("utf8").split("\n");
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      let entry: JournalEntry;
      try {
        entry = JSON.parse(line) as JournalEntry;
      } catch (error) {
        throw new AirbackupError("IO", `${path}: line ${i + 1} is damaged`, {
          cause: error,
          hint: "move the journal away to start the restore afresh (records already created would be created again)",
        });
      }
      apply(state, entry);
    });
  }
  let fd: number;
  try {
    fd = openSync(path, "a", 0o600);
  } catch (error) {
    throw new AirbackupError("IO", `cannot write the restore journal ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return {
    path,
    state,
    append(...entries) {
      if (entries.length === 0) return;
      writeAll(fd, Buffer.from(entries.map((e) => `${JSON.stringify(e)}\n`).join(""), "utf8"), write, path);
      fsyncSync(fd);
      for (const e of entries) apply(state, e);
    },
    close: () => closeSync(fd),
  };
}

// --- internal ---

/** write(2) may write fewer bytes than asked (a full disk, a signal, a network filesystem): loop. */
function writeAll(fd: number, bytes: Uint8Array, write: WriteFn, path: string): void {
  let off = 0;
  while (off < bytes.length) {
    const n = write(fd, bytes, off, bytes.length - off);
    if (!(n > 0)) {
      throw new AirbackupError("IO", `cannot write the restore journal ${path}: no progress (wrote ${n} bytes)`);
    }
    off += n;
  }
}

function emptyState(): JournalState {
  return {
    tables: new Map(),
    fields: new Map(),
    records: new Map(),
    pending: new Map(),
    nextBatch: 1,
    partial: new Map(),
    lastCreated: new Map(),
    skipped: [],
    failed: [],
    linksDone: new Map(),
    dropped: [],
    attachments: new Map(),
    attachmentPending: new Map(),
    manual: [],
    notes: [],
    comments: new Map(),
    commentPending: new Set(),
    started: false,
  };
}

function apply(s: JournalState, e: JournalEntry): void {
  switch (e.t) {
    case "start":
      s.started = true;
      return;
    case "table":
      s.tables.set(e.old, e.new);
      return;
    case "field":
      s.fields.set(e.old, { id: e.new, ...(e.inverse ? { inverse: e.inverse } : {}) });
      return;
    case "pending": {
      const batch = e.batch ?? 0;
      const { t: _, table: __, ...pending } = e;
      inner(s.pending, e.table).set(batch, { ...pending, batch });
      s.nextBatch = Math.max(s.nextBatch, batch + 1);
      return;
    }
    case "created": {
      const map = s.records.get(e.table) ?? new Map<string, string>();
      for (const [old, id] of e.pairs) map.set(old, id);
      s.records.set(e.table, map);
      const pending = s.pending.get(e.table);
      for (const batch of e.batches ?? [...(pending?.keys() ?? [])]) {
        for (const item of pending?.get(batch)?.items ?? []) {
          const id = map.get(item.old);
          if (item.rest && id && e.pairs.some(([old]) => old === item.old))
            inner(s.partial, e.table).set(item.old, { id, rest: item.rest });
        }
        pending?.delete(batch);
      }
      if (pending?.size === 0) s.pending.delete(e.table);
      const last = s.lastCreated.get(e.table);
      if (e.last && (!last || Date.parse(e.last) > Date.parse(last))) s.lastCreated.set(e.table, e.last);
      return;
    }
    case "refused":
      s.pending.get(e.table)?.delete(e.batch);
      if (s.pending.get(e.table)?.size === 0) s.pending.delete(e.table);
      return;
    case "partial":
      inner(s.partial, e.table).set(e.record, { id: e.id, rest: e.rest });
      return;
    case "manual":
      if (!s.manual.some((m) => m.table === e.step.table && m.field === e.step.field)) s.manual.push(e.step);
      return;
    case "note":
      if (!s.notes.includes(e.text)) s.notes.push(e.text);
      return;
    case "comment-pending":
      s.commentPending.add(e.key);
      return;
    case "comment":
      s.comments.set(e.key, e.id);
      s.commentPending.delete(e.key);
      return;
    case "skipped":
      if (s.skipped.some((k) => k.table === e.table && k.record === e.record && k.field === e.field)) return;
      s.skipped.push({ table: e.table, record: e.record, field: e.field, reason: e.reason });
      return;
    case "failed":
      s.failed.push({ table: e.table, record: e.record, reason: e.reason });
      return;
    case "links": {
      const done = s.linksDone.get(e.table) ?? new Set<string>();
      for (const r of e.records) done.add(r);
      s.linksDone.set(e.table, done);
      for (const d of e.dropped ?? []) {
        if (s.dropped.some((x) => x.table === e.table && x.record === d.record && x.field === d.field)) continue;
        s.dropped.push({ table: e.table, ...d });
      }
      return;
    }
    case "att-pending":
      s.attachmentPending.set(e.key, e.before);
      return;
    case "att":
      s.attachments.set(e.key, { ...(e.id ? { id: e.id } : {}), ...(e.skipped ? { skipped: e.skipped } : {}) });
      s.attachmentPending.delete(e.key);
      return;
    case "done":
      return;
  }
}

function inner<K, V>(map: Map<string, Map<K, V>>, key: string): Map<K, V> {
  const m = map.get(key) ?? new Map<K, V>();
  map.set(key, m);
  return m;
}
