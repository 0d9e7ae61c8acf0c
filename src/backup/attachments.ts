// Fetches attachment files as soon as the page naming them arrives: bounded concurrency, outside the API's
// rate limit, each attachment id once, hashed (sha256) on the way to a temp file. A file an earlier archive
// holds is copied from there (checked against that archive's index) instead of downloaded. The queue is
// bounded: listing waits on room() so neither records nor signed URLs pile up.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { AirtableClient } from "../airtable/client.ts";
import { getRecord } from "../airtable/read.ts";
import { AttachmentUrlExpiredError } from "../airtable/recoverable-errors.ts";
import { type AirtableAttachment, type AirtableRecord, isAttachmentList } from "../airtable/schemas.ts";
import { AirbackupError } from "../errors.ts";
import { downloadToFile, type SavedFile, saveChunks } from "./attachment-file.ts";
import type { PreviousArchive } from "./reuse.ts";

export interface AttachmentFetcherOptions {
  client: AirtableClient;
  baseId: string;
  tmpDir: string;
  concurrency: number;
  signal: AbortSignal;
  /** Moves a fetched file into the archive (the archive keeps one copy per hash); deletes `path`. */
  store: (file: { sha256: string; path: string; size: number; type?: string }) => Promise<void>;
  onWarning: (message: string) => void;
  /** Told when a file of the earlier archive could not be used (it is downloaded instead). */
  onNotice?: (message: string) => void;
  onBytes?: (bytes: number) => void;
  /** Where unchanged files are copied from instead of downloaded; none with `--full`. */
  previous?: PreviousArchive;
  /**
   * How much may wait for a fetch slot before room() holds the listing back: files (default 1,000) and
   * their declared bytes (default 1 GB, about what a slow line fetches well within a signed URL's life).
   */
  queueBound?: { files: number; bytes: number };
  /**
   * Longest single wait in room() (default 20 s): Airtable expires a listing left idle, and reading a table
   * again from the start costs more than a page of queued files.
   */
  maxPauseMs?: number;
  /** A download whose body sends nothing for this long is abandoned and started again (default 60 s). */
  idleTimeoutMs?: number;
}

export interface AttachmentStats {
  /** Files fetched (downloaded or reused) and their bytes. */
  files: number;
  bytes: number;
  failed: number;
  /** Of those, copied from the earlier archive: bytes not downloaded. */
  reused: { files: number; bytes: number };
}

export interface AttachmentFetcher {
  /** Schedules the attachments of one cell; returns the ones it saw (for the index). */
  scheduleCell(table: { id: string; name: string }, record: AirtableRecord, field: string): AirtableAttachment[];
  /** Resolves once the queue is back under its bound (at once if it is, at most after maxPauseMs); listing awaits it after each page. */
  room(): Promise<void>;
  /** sha256 of a fetched attachment id, or undefined if it failed. Valid after `drain()`. */
  hashOf(attachmentId: string): string | undefined;
  /** Resolves when every scheduled download has finished (or failed with a warning). */
  drain(): Promise<void>;
  readonly stats: AttachmentStats;
}

/** How many times an expired signed URL is refreshed by re-reading its record. */
const URL_REFRESHES = 2;
/** How many times a download whose body broke off mid-stream is started again. */
const STREAM_RETRIES = 3;

export function createAttachmentFetcher(options: AttachmentFetcherOptions): AttachmentFetcher {
  const hashes = new Map<string, string>();
  const seen = new Set<string>();
  const queue: { size: number; run: () => Promise<void> }[] = [];
  const running = new Set<Promise<void>>();
  const waiting: (() => void)[] = [];
  const bound = options.queueBound ?? { files: 1000, bytes: 1e9 };
  let queuedBytes = 0;
  const hasRoom = () => (queue.length <= bound.files && queuedBytes <= bound.bytes) || fatal !== undefined;
  const stats: AttachmentStats = { files: 0, bytes: 0, failed: 0, reused: { files: 0, bytes: 0 } };
  let fatal: unknown;
  let tmpCounter = 0;
  const tmpPath = () => join(options.tmpDir, `att-${++tmpCounter}`);
  // Copies from the earlier archive are local disk work: two at a time keep the disk busy with fewer buffers in memory.
  const copySlots = slots(2);

  function pump(): void {
    while (running.size < options.concurrency && queue.length > 0 && fatal === undefined) {
      const job = queue.shift()!;
      queuedBytes -= job.size;
      const p: Promise<void> = job
        .run()
        .catch((error) => {
          fatal ??= error;
        })
        .finally(() => {
          running.delete(p);
          pump();
        });
      running.add(p);
    }
    if (hasRoom()) for (const wake of waiting.splice(0)) wake();
  }

  async function fetchAttachment(
    table: { id: string; name: string },
    recordId: string,
    field: string,
    attachment: AirtableAttachment,
  ): Promise<void> {
    options.signal.throwIfAborted();
    const where = `${attachment.filename ?? attachment.id} (${attachment.id}) in ${table.name}/${recordId}/${field}`;
    const saved = (await copyFromPrevious(attachment, where)) ?? (await download(table, recordId, field, attachment));
    if (!saved) {
      stats.failed++;
      return;
    }
    hashes.set(attachment.id, saved.sha256);
    stats.files++;
    stats.bytes += saved.size;
    // A failure to store is the archive's, and fatal, not a download to retry.
    await options.store({ ...saved, type: attachment.type });
  }

  /** The file from the earlier archive, its bytes checked against that archive's index; undefined to download. */
  async function copyFromPrevious(
    attachment: AirtableAttachment,
    where: string,
  ): Promise<(SavedFile & { path: string }) | undefined> {
    const previous = options.previous;
    const expected = attachment.size === undefined ? undefined : previous?.lookup(attachment.id, attachment.size);
    if (!previous || !expected) return undefined;
    const path = tmpPath();
    await copySlots.take();
    try {
      const saved = await saveChunks(previous.read(expected), path);
      if (saved.sha256 !== expected) throw new Error(`its bytes hash to ${saved.sha256}, the index says ${expected}`);
      stats.reused.files++;
      stats.reused.bytes += saved.size;
      return { ...saved, path };
    } catch (error) {
      await rm(path, { force: true });
      if (isLocalIoError(error)) throw error; // our disk, not the old archive
      options.onNotice?.(
        `attachment ${where}: the copy in ${previous.label} is damaged (${(error as Error).message}); downloading it`,
      );
      return undefined;
    } finally {
      copySlots.give();
    }
  }

  /** Downloads with fresh URLs as needed; undefined (after a warning) when the file cannot be had. */
  async function download(
    table: { id: string; name: string },
    recordId: string,
    field: string,
    first: AirtableAttachment,
  ): Promise<(SavedFile & { path: string }) | undefined> {
    const where = `${first.filename ?? first.id} (${first.id}) in ${table.name}/${recordId}/${field}`;
    let attachment = first;
    for (let refresh = 0; ; refresh++) {
      try {
        return await downloadWithStreamRetries(attachment.url);
      } catch (error) {
        if (options.signal.aborted || isLocalIoError(error)) throw error;
        if (!(error instanceof AttachmentUrlExpiredError) || refresh >= URL_REFRESHES) {
          options.onWarning(`attachment ${where} could not be downloaded: ${(error as Error).message}`);
          return undefined;
        }
      }
      let fresh: AirtableAttachment | undefined;
      try {
        fresh = await freshAttachment(options.client, options.baseId, table.id, recordId, field, first.id);
      } catch (error) {
        if (options.signal.aborted) throw error;
        options.onWarning(
          `attachment ${where} could not be downloaded: its URL expired and re-reading the record failed: ${(error as Error).message}`,
        );
        return undefined;
      }
      if (!fresh) {
        options.onWarning(`attachment ${where} is gone: the record no longer holds it`);
        return undefined;
      }
      attachment = fresh;
    }
  }

  /** One URL, started again when its body breaks off (the client retries only up to the headers). */
  async function downloadWithStreamRetries(url: string): Promise<SavedFile & { path: string }> {
    for (let retry = 0; ; retry++) {
      options.signal.throwIfAborted();
      const path = tmpPath();
      try {
        const saved = await downloadToFile(
          options.client,
          url,
          path,
          options.signal,
          options.idleTimeoutMs ?? 60_000,
          options.onBytes,
        );
        return { ...saved, path };
      } catch (error) {
        await rm(path, { force: true });
        if (options.signal.aborted) throw options.signal.reason ?? error;
        // A dropped connection mid-body is a plain Error; anything that says more is not retried here.
        if (error instanceof AirbackupError || retry >= STREAM_RETRIES) throw error;
        await Bun.sleep(250 * (retry + 1));
      }
    }
  }

  return {
    scheduleCell(table, record, field) {
      const value = record.fields[field];
      if (!isAttachmentList(value)) return [];
      for (const attachment of value) {
        if (seen.has(attachment.id)) continue;
        seen.add(attachment.id);
        const size = attachment.size ?? 0;
        queuedBytes += size;
        queue.push({ size, run: () => fetchAttachment(table, record.id, field, attachment) });
      }
      pump();
      return value;
    },
    async room() {
      if (hasRoom()) return;
      let wake = () => {};
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
        waiting.push(resolve);
      });
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([woken, new Promise<void>((r) => (timer = setTimeout(r, options.maxPauseMs ?? 20_000)))]);
      clearTimeout(timer);
      const at = waiting.indexOf(wake);
      if (at >= 0) waiting.splice(at, 1);
    },
    hashOf: (id) => hashes.get(id),
    async drain() {
      while (running.size > 0 || (queue.length > 0 && fatal === undefined)) {
        pump();
        await Promise.race(running);
      }
      if (fatal !== undefined) throw fatal;
    },
    stats,
  };
}

// --- internal ---

/** A counting semaphore. */
function slots(count: number) {
  let free = count;
  const waiting: (() => void)[] = [];
  return {
    take: async () => {
      if (free > 0) free--;
      else await new Promise<void>((resolve) => waiting.push(resolve));
    },
    give: () => {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
  };
}

/** A full disk or a broken file system is not a missing attachment: the base fails. */
function isLocalIoError(error: unknown): boolean {
  return error instanceof AirbackupError && error.code === "IO";
}

async function freshAttachment(
  client: AirtableClient,
  baseId: string,
  tableId: string,
  recordId: string,
  field: string,
  attachmentId: string,
): Promise<AirtableAttachment | undefined> {
  const record = await getRecord(client, baseId, tableId, recordId);
  const value = record.fields[field];
  return isAttachmentList(value) ? value.find((a) => a.id === attachmentId) : undefined;
}
