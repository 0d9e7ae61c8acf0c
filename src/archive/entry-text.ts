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
 * The lines of a stream, without their "\n", each decoded as UTF-8. Linear in the input: only each new chunk is
 * scanned for newlines, a line's pieces are joined once, and a chunk's complete lines are decoded together. A line longer than `maxLine` bytes is ARCHIVE_CORRUPT.
 * A last line without its newline is yielded too, unless it is empty.
 */
export async function* readLines(
  source: AsyncIterable<Uint8Array>,
  label: string,
  maxLine: number = MAX_LINE,
): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let parts: Uint8Array[] = [];
  let pending = 0; // bytes in parts
  let lineNo = 0;
  const add = (piece: Uint8Array) => {
    pending += piece.length;
    if (pending > maxLine)
      throw new AirbackupError("ARCHIVE_CORRUPT", `${label}: line ${lineNo + 1} is longer than ${maxLine} bytes`);
    if (piece.length > 0) parts.push(piece);
  };
  const take = (): string => {
    const line = parts.length === 1 ? parts[0]! : Buffer.concat(parts, pending);
    parts = [];
    pending = 0;
    lineNo++;
    return decoder.decode(line);
  };
  for await (const chunk of source) {
    let start = 0;
    const first = chunk.indexOf(10);
    const last = chunk.lastIndexOf(10);
    if (first !== -1 && last - first > 1 && last - first <= maxLine) {
      // The complete lines between the first and last newline are decoded at once (one decode per chunk,
      // not per line): none can be over the cap, since the whole stretch is not.
      add(chunk.subarray(0, first));
      yield take();
      for (const line of decoder.decode(chunk.subarray(first + 1, last)).split("\n")) {
        lineNo++;
        yield line;
      }
      start = last + 1;
    } else
      for (let at = first; at !== -1; at = chunk.indexOf(10, start)) {
        add(chunk.subarray(start, at));
        yield take();
        start = at + 1;
      }
    if (start < chunk.length) add(chunk.slice(start)); // a copy: the source may reuse its buffer
  }
  if (pending > 0) yield take();
}

/**
 * The parsed values of a JSONL stream, one per line. Throws SyntaxError (naming the line) for a line that is
 * not JSON or is empty before the end.
 */
export async function* jsonLines(
  source: AsyncIterable<Uint8Array>,
  label: string,
  maxLine: number = MAX_LINE,
): AsyncIterable<unknown> {
  let lines = 0;
  for await (const line of readLines(source, label, maxLine)) {
    lines++;
    if (line.length === 0) throw new SyntaxError(`line ${lines} is empty`);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new SyntaxError(`line ${lines}: ${(error as Error).message}`);
    }
    yield value;
  }
}

/** Hands each value of a JSONL stream to `check`; returns the line count. Throws as `jsonLines` does. */
export async function readJsonLines(
  source: AsyncIterable<Uint8Array>,
  label: string,
  check: (value: unknown) => void,
  maxLine: number = MAX_LINE,
): Promise<number> {
  let lines = 0;
  for await (const value of jsonLines(source, label, maxLine)) {
    lines++;
    check(value);
  }
  return lines;
}
