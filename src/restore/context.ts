// What every restore pass shares: the client, the target, the journal, the archive, and the events out.
import type { AirtableClient } from "../airtable/client.ts";
import type { ArchiveSource } from "./archive-source.ts";
import type { WritableField } from "./cells.ts";
import type { Journal } from "./journal.ts";
import type { Staging } from "./staging.ts";

export type RestoreEvent =
  | { type: "step"; message: string }
  | { type: "records"; table: string; done: number; total: number }
  | { type: "skip"; message: string }
  | { type: "retry"; message: string };

export interface RestoreContext {
  client: AirtableClient;
  baseId: string;
  journal: Journal;
  source: ArchiveSource;
  typecast: boolean;
  /** Files staged in S3: their cells go inside the creates as presigned URLs (staging.ts). */
  staging?: Staging;
  signal?: AbortSignal;
  onEvent: (event: RestoreEvent) => void;
}

/** A table being restored: its archived and new ids, and the fields its first pass writes (links included). */
export interface TableRun {
  oldId: string;
  name: string;
  newId: string;
  fields: WritableField[];
}
