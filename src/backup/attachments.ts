// Downloads attachment files as soon as the page naming them arrives: bounded concurrency, outside the
// API's rate limit, hashed (sha256) while streamed to a temp file, each attachment id fetched once.
import { type FileHandle, open, rm } from "node:fs/promises";
import { join } from "node:path";
import type { AirtableClient } from "../airtable/client.ts";
import { getRecord } from "../airtable/read.ts";
import { AttachmentUrlExpiredError } from "../airtable/recoverable-errors.ts";
import { type AirtableAttachment, type AirtableRecord, isAttachmentList } from "../airtable/schemas.ts";
import { AirbackupError } from "../errors.ts";

export interface AttachmentFetcherOptions {
  client: AirtableClient;
  baseId: string;
  tmpDir: string;
  concurrency: number;
  signal: AbortSignal;
  /** Moves a downloaded file into the archive (the archive keeps one copy per hash); deletes `path`. */
  store: (file: { sha256: string; path: string; size: number; type?: string }) => Promise<void>;
  onWarning: (message: string) => void;
  onBytes?: (bytes: number) => void;
  /** A download whose body sends nothing for this long is abandoned and started again (default 60 s). */
  idleTimeoutMs?: number;
}

export interface AttachmentFetcher {
  /** Schedules the attachments of one cell; returns the ones it saw (for the index). */
  scheduleCell(table: { id: string; name: string }, record: AirtableRecord, field: string): AirtableAttachment[];
  /** sha256 of a downloaded attachment id, or undefined if it failed. Valid after `drain()`. */
  hashOf(attachmentId: string): string | undefined;
  /** Resolves when every scheduled download has finished (or failed with a warning). */
  drain(): Promise<void>;
  readonly stats: { files: number; bytes: number; failed: number };
}

/** How many times an expired signed URL is refreshed by re-reading its record. */
const URL_REFRESHES = 2;
/** How many times a download whose body broke off mid-stream is started again. */
const STREAM_RETRIES = 3;

export function createAttachmentFetcher(options: AttachmentFetcherOptions): AttachmentFetcher {
  const hashes = new Map<string, string>();
  const seen = new Set<string>();
  const queue: (() => Promise<void>)[] = [];
  const running = new Set<Promise<void>>();
  const stats = { files: 0, bytes: 0, failed: 0 };
  let fatal: unknown;
  let tmpCounter = 0;

  function pump(): void {
    while (running.size < options.concurrency && queue.length > 0 && fatal === undefined) {
      const job = queue.shift()!;
      const p: Promise<void> = job()
        .catch((error) => {
          fatal ??= error;
        })
        .finally(() => {
          running.delete(p);
          pump();
        });
      running.add(p);
    }
  }

  async function download(
    table: { id: string; name: string },
    recordId: string,
    field: string,
    first: AirtableAttachment,
  ): Promise<void> {
    let attachment = first;
    const where = `${attachment.filename ?? attachment.id} (${attachment.id}) in ${table.name}/${recordId}/${field}`;
    let streamRetries = 0;
    for (let refresh = 0; ; refresh++) {
      options.signal.throwIfAborted();
      const path = join(options.tmpDir, `att-${++tmpCounter}`);
      let downloaded: { sha256: string; size: number };
      try {
        downloaded = await fetchToFile(
          options.client,
          attachment.url,
          path,
          options.signal,
          options.idleTimeoutMs ?? 60_000,
          options.onBytes,
        );
      } catch (error) {
        await rm(path, { force: true });
        if (options.signal.aborted) throw options.signal.reason ?? error;
        // A full disk or a broken file system is not a missing attachment: the base fails.
        if (error instanceof AirbackupError && error.code === "IO") throw error;
        if (!(error instanceof AirbackupError) && streamRetries < STREAM_RETRIES) {
          // The connection dropped while the body was streaming: the client only retries up to the headers.
          streamRetries++;
          refresh--;
          await Bun.sleep(250 * streamRetries);
          continue;
        }
        if (error instanceof AttachmentUrlExpiredError && refresh < URL_REFRESHES) {
          const fresh = await freshAttachment(
            options.client,
            options.baseId,
            table.id,
            recordId,
            field,
            attachment.id,
          ).catch((e: unknown) => {
            if (options.signal.aborted) throw e;
            return e as Error;
          });
          if (fresh instanceof Error) {
            options.onWarning(
              `attachment ${where} could not be downloaded: its URL expired and re-reading the record failed: ${fresh.message}`,
            );
            stats.failed++;
            return;
          }
          if (fresh) {
            attachment = fresh;
            continue;
          }
          options.onWarning(`attachment ${where} is gone: the record no longer holds it`);
        } else {
          options.onWarning(`attachment ${where} could not be downloaded: ${(error as Error).message}`);
        }
        stats.failed++;
        return;
      }
      hashes.set(attachment.id, downloaded.sha256);
      stats.files++;
      stats.bytes += downloaded.size;
      // Outside the try: a failure to store is the archive's, and fatal, not a download to retry.
      await options.store({ ...downloaded, path, type: attachment.type });
      return;
    }
  }

  return {
    scheduleCell(table, record, field) {
      const value = record.fields[field];
      if (!isAttachmentList(value)) return [];
      for (const attachment of value) {
        if (seen.has(attachment.id)) continue;
        seen.add(attachment.id);
        queue.push(() => download(table, record.id, field, attachment));
      }
      pump();
      return value;
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

async function fetchToFile(
  client: AirtableClient,
  url: string,
  path: string,
  signal: AbortSignal,
  idleTimeoutMs: number,
  onBytes?: (bytes: number) => void,
): Promise<{ sha256: string; size: number }> {
  // The client times out the wait for headers; a body that stops arriving is caught here, so a stalled
  // connection cannot hang a cron job. The stall surfaces as a plain Error: the caller starts again.
  const idle = new AbortController();
  const response = await client.download(url, { signal: AbortSignal.any([signal, idle.signal]) });
  const hasher = new Bun.CryptoHasher("sha256");
  let file: FileHandle;
  try {
    file = await open(path, "w", 0o600);
  } catch (error) {
    await response.body?.cancel();
    throw localIoError(error, path);
  }
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () => idle.abort(new Error(`download stalled: no data for ${idleTimeoutMs / 1000} s`)),
      idleTimeoutMs,
    );
  };
  try {
    arm();
    if (response.body) {
      for await (const chunk of response.body) {
        arm();
        hasher.update(chunk);
        await file.write(chunk).catch((error: unknown) => {
          throw localIoError(error, path);
        });
        size += chunk.byteLength;
        onBytes?.(chunk.byteLength);
      }
    }
  } catch (error) {
    throw idle.signal.aborted && !signal.aborted ? idle.signal.reason : error;
  } finally {
    clearTimeout(timer);
    await file.close().catch((error: unknown) => {
      throw localIoError(error, path);
    });
  }
  return { sha256: hasher.digest("hex"), size };
}

/** A failure of the local file system while saving a download (ENOSPC, EIO, EMFILE...): fatal, never retried. */
function localIoError(error: unknown, path: string): AirbackupError {
  if (error instanceof AirbackupError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return new AirbackupError(
    "IO",
    `could not save a downloaded attachment to ${path}: ${typeof code === "string" && !message.includes(code) ? `${code} ` : ""}${message}`,
    {
      hint:
        code === "ENOSPC" || code === "EDQUOT"
          ? "the disk holding the output directory is full; free space and run the backup again"
          : code === "EMFILE" || code === "ENFILE"
            ? "too many open files; raise the limit (ulimit -n) or lower the download concurrency"
            : "check the output directory's file system and run the backup again",
      cause: error,
    },
  );
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
