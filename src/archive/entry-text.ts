// Reading entries as text: whole (for small JSON such as the manifest) or line by line (JSONL), with caps
// so a hostile archive cannot make us hold more than a bounded amount in memory.
import { AirbackupError } from "../errors.ts";
import type { ZipArchive, ZipEntry } from "./zip-reader.ts";

/** manifest.json and schema.json are read whole; refuse anything bigger than this. */
export const MAX_SMALL_ENTRY = 256 * 1024 * 1024;
/** One JSONL line (one record) may not exceed this. */
export const MAX_LINE = 64 * 1024 * 1024;

export async function readSmallEntry(zip: ZipArchive, entry: ZipEntry): Promise<string> {
  if (entry.size > MAX_SMALL_ENTRY)
    throw new AirbackupError(
      "ARCHIVE_CORRUPT",
      `${zip.path}: ${entry.name} is implausibly large (${entry.size} bytes)`,
    );
  return readText(zip.readEntry(entry));
}

/** All of a (size-checked) stream as text. */
export async function readText(source: AsyncIterable<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of source) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/**
 * Parses each line of a JSONL stream and hands it to `check`; returns the line count.
 * Throws SyntaxError for a line that is not JSON (or an empty line before the end).
 */
export async function readJsonLines(
  source: AsyncIterable<Uint8Array>,
  label: string,
  check: (value: unknown) => void,
): Promise<number> {
  const decoder = new TextDecoder();
  let rest = "";
  let lines = 0;
  const take = (line: string) => {
    lines++;
    if (line.length === 0) throw new SyntaxError(`line ${lines} is empty`);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new SyntaxError(`line ${lines}: ${(error as Error).message}`);
    }
    check(value);
  };
  for await (const chunk of source) {
    rest += decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let at = rest.indexOf("\n"); at !== -1; at = rest.indexOf("\n", start)) {
      take(rest.slice(start, at));
      start = at + 1;
    }
    rest = rest.slice(start);
    if (rest.length > MAX_LINE)
      throw new AirbackupError("ARCHIVE_CORRUPT", `${label}: line ${lines + 1} is longer than ${MAX_LINE} bytes`);
  }
  rest += decoder.decode();
  if (rest.length > 0) take(rest); // a last line without its newline still counts
  return lines;
}
