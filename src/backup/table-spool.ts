// Reads one table page by page into a spool file (JSONL, records exactly as returned, deflated page by
// page), restarting the listing from the first page when Airtable expires its iterator; the zip gets the
// file once complete.
import type { AirtableClient } from "../airtable/client.ts";
import { listRecordPages } from "../airtable/read.ts";
import { IteratorExpiredError } from "../airtable/recoverable-errors.ts";
import type { AirtableRecord } from "../airtable/schemas.ts";
import { createDeflatedFile, type DeflatedContent } from "../archive/deflated-file.ts";
import { AirbackupError } from "../errors.ts";

export interface SpoolTableOptions {
  baseId: string;
  table: { id: string; name: string };
  path: string;
  commentCount: boolean;
  signal: AbortSignal;
  /**
   * Called with each page as it arrives (attachment downloads start here, while their URLs are fresh);
   * the next page is requested once it resolves, so a full download queue holds the listing back.
   */
  onPage: (records: AirtableRecord[], attempt: number) => void | Promise<void>;
  /** Called when the listing restarts: whatever the earlier attempt produced is void. */
  onRestart: (attempt: number) => void | Promise<void>;
}

/** How many times a table's listing may restart after an expired iterator before the backup gives up. */
export const MAX_LISTING_ATTEMPTS = 4;

/** The records written and the spool file's deflated content. */
export async function spoolTable(
  client: AirtableClient,
  options: SpoolTableOptions,
): Promise<{ records: number; content: DeflatedContent }> {
  const encoder = new TextEncoder();
  for (let attempt = 1; ; attempt++) {
    const file = await createDeflatedFile(options.path);
    let count = 0;
    try {
      const pages = listRecordPages(client, options.baseId, options.table.id, {
        pageSize: 100,
        recordMetadata: options.commentCount ? ["commentCount"] : undefined,
        signal: options.signal,
      });
      for await (const page of pages) {
        if (page.length === 0) continue;
        await file.append(encoder.encode(page.map((record) => `${JSON.stringify(record)}\n`).join("")));
        count += page.length;
        await options.onPage(page, attempt);
      }
      return { records: count, content: await file.finish() };
    } catch (error) {
      if (!(error instanceof IteratorExpiredError)) throw error;
      if (attempt >= MAX_LISTING_ATTEMPTS) {
        throw new AirbackupError(
          "AIRTABLE_UNAVAILABLE",
          `the listing of table "${options.table.name}" expired ${attempt} times in a row`,
          {
            cause: error,
            hint: "try again later; a very slow connection or a huge table can outlive Airtable's iterator",
          },
        );
      }
      await options.onRestart(attempt + 1);
    } finally {
      await file.close();
    }
  }
}
