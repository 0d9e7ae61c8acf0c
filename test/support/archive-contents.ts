// Reads a format-1 archive back with our reader, for assertions: manifest, schema, records, index, files.
import { openZip } from "../../src/archive/zip-reader.ts";

export interface ArchiveContents {
  manifest: any;
  schema: any;
  /** table id -> records in archive order */
  tables: Map<string, any[]>;
  index: any[];
  /** sha256 -> bytes */
  files: Map<string, Uint8Array>;
  names: string[];
}

export async function readArchive(path: string): Promise<ArchiveContents> {
  await using zip = await openZip(path);
  const text = async (name: string) => {
    const entry = zip.entry(name);
    if (!entry) throw new Error(`${path} has no ${name}`);
    const chunks: Uint8Array[] = [];
    for await (const chunk of zip.readEntry(entry)) chunks.push(chunk);
    return Buffer.concat(chunks);
  };
  const lines = async (name: string) =>
    (await text(name))
      .toString("utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  const manifest = JSON.parse((await text("manifest.json")).toString("utf8"));
  const schema = zip.entry("schema.json") ? JSON.parse((await text("schema.json")).toString("utf8")) : undefined;
  const tables = new Map<string, any[]>();
  for (const t of manifest.tables) tables.set(t.id, await lines(t.path));
  const index = zip.entry("attachments.jsonl") ? await lines("attachments.jsonl") : [];
  const files = new Map<string, Uint8Array>();
  for (const e of zip.entries)
    if (e.name.startsWith("attachments/")) files.set(e.name.slice("attachments/".length), await text(e.name));
  return { manifest, schema, tables, index, files, names: zip.entries.map((e) => e.name) };
}
