// A summary of one archive from its manifest (quick: reads manifest.json only, not the data).
import { AirbackupError } from "../errors.ts";
import { readManifestOf } from "./verify.ts";
import { type OpenedSource, openZip } from "./zip-reader.ts";

export interface ArchiveSummary {
  path: string;
  /** Archive file size in bytes. */
  bytes: number;
  format: number;
  tool: { name: string; version: string };
  base: { id: string; name: string };
  startedAt: string;
  finishedAt: string;
  tables: { id: string; name: string; records: number }[];
  records: number;
  attachments: { count: number; files: number; bytes: number };
  comments: { table: string; records: number }[];
  warnings: string[];
  apiCalls?: number;
  entries: number;
}

export async function inspectArchive(source: string | OpenedSource): Promise<ArchiveSummary> {
  const path = typeof source === "string" ? source : source.label;
  const zip = await openZip(source);
  try {
    const m = await readManifestOf(zip);
    const tables = m.tables.map(({ id, name, records }) => ({ id, name, records }));
    return {
      path,
      bytes: zip.size,
      format: m.format,
      tool: m.tool,
      base: m.base,
      startedAt: m.startedAt,
      finishedAt: m.finishedAt,
      tables,
      records: tables.reduce((n, t) => n + t.records, 0),
      attachments: { count: m.attachments.count, files: m.attachments.files, bytes: m.attachments.bytes },
      comments: (m.comments ?? []).map(({ table, records }) => ({ table, records })),
      warnings: m.warnings,
      ...(m.apiCalls !== undefined ? { apiCalls: m.apiCalls } : {}),
      entries: zip.entries.length,
    };
  } catch (error) {
    if (error instanceof AirbackupError) throw error;
    throw new AirbackupError("ARCHIVE_CORRUPT", `${path}: cannot read: ${(error as Error).message}`, { cause: error });
  } finally {
    await zip.close();
  }
}
