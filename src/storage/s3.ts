// An S3-compatible bucket as a Storage: names live at `<prefix><name>`. Listing is ListObjectsV2 with a
// delimiter (direct objects only); open() reads with bounded Range GETs pinned to the object's ETag;
// write() is s3-upload.ts (one PUT, or multipart above one part).
import type { RandomAccessFile } from "../archive/random-access-file.ts";
import { AirbackupError } from "../errors.ts";
import { S3Client, type S3Settings, xmlValue } from "./s3-client.ts";
import { uploadObject } from "./s3-upload.ts";
import { checkStorageName, type Storage, type StoredObject } from "./storage.ts";

export type { S3Settings } from "./s3-client.ts";

export class S3Storage implements Storage {
  readonly kind = "s3" as const;
  readonly client: S3Client;

  constructor(
    readonly settings: S3Settings,
    private readonly tuning: { partSize?: number; partsInFlight?: number } = {},
  ) {
    this.client = new S3Client(settings);
  }

  get label(): string {
    return this.client.label;
  }

  /** `s3://bucket/<prefix><name>`, for messages and `list`. */
  where(name: string): string {
    return `s3://${this.settings.bucket}/${this.key(name)}`;
  }

  async *list(): AsyncIterable<StoredObject> {
    const prefix = this.settings.prefix;
    let token: string | undefined;
    do {
      const query: Record<string, string> = { "list-type": "2", delimiter: "/", prefix };
      if (token) query["continuation-token"] = token;
      const xml = await (await this.client.request("GET", "", { query })).text();
      for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const key = xmlValue(m[1]!, "Key") ?? "";
        const name = key.slice(prefix.length);
        if (!key.startsWith(prefix) || !isPlainName(name)) continue;
        yield {
          name,
          size: Number(xmlValue(m[1]!, "Size") ?? 0),
          modified: new Date(xmlValue(m[1]!, "LastModified") ?? 0),
        };
      }
      token = xmlValue(xml, "IsTruncated") === "true" ? xmlValue(xml, "NextContinuationToken") : undefined;
    } while (token);
  }

  async stat(name: string): Promise<StoredObject | undefined> {
    const head = await this.head(name);
    return head && { name, size: head.size, modified: head.modified };
  }

  async open(name: string): Promise<RandomAccessFile> {
    const head = await this.head(name);
    if (!head) throw new AirbackupError("S3_NOT_FOUND", `${this.where(name)}: no such object`);
    return new S3RandomAccessFile(this.client, this.key(name), this.where(name), head.size, head.etag);
  }

  async read(name: string, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    checkStorageName(name);
    const response = await this.client.request("GET", this.key(name), { signal, accept: [404] });
    if (response.status === 404) {
      await response.body?.cancel();
      throw new AirbackupError("S3_NOT_FOUND", `${this.where(name)}: no such object`);
    }
    return response.body ?? new ReadableStream({ start: (c) => c.close() });
  }

  write(
    name: string,
    body: ReadableStream<Uint8Array> | Blob,
    options: { size?: number; signal?: AbortSignal } = {},
  ): Promise<StoredObject> {
    checkStorageName(name);
    return uploadObject(this.client, this.key(name), body, { ...this.tuning, ...options }).then((size) => ({
      name,
      size,
      modified: new Date(),
    }));
  }

  async delete(name: string): Promise<void> {
    checkStorageName(name);
    const response = await this.client.request("DELETE", this.key(name), { accept: [404] });
    await response.body?.cancel();
  }

  /** A GET URL for the object that works without keys until it expires (Airtable fetches staged files so). */
  presign(name: string, expiresSeconds: number): Promise<string> {
    checkStorageName(name);
    return this.client.presign(this.key(name), expiresSeconds);
  }

  // --- internal ---

  private key(name: string): string {
    return `${this.settings.prefix}${name}`;
  }

  private async head(name: string): Promise<{ size: number; modified: Date; etag: string } | undefined> {
    checkStorageName(name);
    const response = await this.client.request("HEAD", this.key(name), { accept: [404] });
    if (response.status === 404) return undefined;
    return {
      size: Number(response.headers.get("content-length") ?? 0),
      modified: new Date(response.headers.get("last-modified") ?? 0),
      etag: response.headers.get("etag") ?? "",
    };
  }
}

/** Bytes asked for at once when reads run on sequentially; grows up to READ_AHEAD_MAX. */
const READ_AHEAD_MIN = 64 * 1024;
const READ_AHEAD_MAX = 8 * 1024 * 1024;

/**
 * Range reads: a read that carries on where the last ended fetches ahead (64 KiB, doubling to 8 MiB),
 * so a sequential scan (verify) transfers each byte once in few requests, while scattered small reads
 * (inspect: tail, directory, manifest) cost little more than they ask for.
 */
class S3RandomAccessFile implements RandomAccessFile {
  private buffer: Uint8Array = new Uint8Array(0);
  private bufferStart = 0;
  private lastEnd = -1;
  private ahead = READ_AHEAD_MIN;

  constructor(
    private readonly client: S3Client,
    private readonly key: string,
    private readonly label: string,
    readonly size: number,
    private readonly etag: string,
  ) {}

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size)
      throw new AirbackupError(
        "ARCHIVE_CORRUPT",
        `${this.label}: truncated (needs bytes ${offset}..${offset + length} of a ${this.size}-byte object)`,
      );
    if (length === 0) return new Uint8Array(0);
    const bufferEnd = this.bufferStart + this.buffer.length;
    if (offset >= this.bufferStart && offset + length <= bufferEnd) {
      this.lastEnd = offset + length;
      return this.buffer.slice(offset - this.bufferStart, offset - this.bufferStart + length);
    }
    // A read that starts inside the buffer takes what it holds and fetches only the rest.
    const head =
      offset >= this.bufferStart && offset < bufferEnd ? this.buffer.subarray(offset - this.bufferStart) : undefined;
    const from = offset + (head?.length ?? 0);
    const rest = length - (head?.length ?? 0);
    const sequential = this.lastEnd >= 0 && from >= this.lastEnd && from - this.lastEnd <= READ_AHEAD_MIN;
    this.ahead = sequential || head ? Math.min(READ_AHEAD_MAX, this.ahead * 2) : READ_AHEAD_MIN;
    const want = sequential || head ? Math.min(this.size - from, Math.max(rest, this.ahead)) : rest;
    const fetched = await this.fetchRange(from, want);
    const out = new Uint8Array(length);
    if (head) out.set(head, 0);
    out.set(fetched.subarray(0, rest), head?.length ?? 0);
    this.buffer = fetched;
    this.bufferStart = from;
    this.lastEnd = offset + length;
    return out;
  }

  async close(): Promise<void> {
    this.buffer = new Uint8Array(0);
  }

  private async fetchRange(offset: number, length: number): Promise<Uint8Array> {
    const headers: Record<string, string> = { range: `bytes=${offset}-${offset + length - 1}` };
    if (this.etag) headers["if-match"] = this.etag;
    const response = await this.client.request("GET", this.key, { headers, accept: [412] });
    if (response.status === 412) {
      await response.body?.cancel();
      throw new AirbackupError("ARCHIVE_CORRUPT", `${this.label}: the object changed while it was being read`);
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    // 200 instead of 206: a store that ignores Range sent the whole object; take the part asked for.
    const part = response.status === 200 ? bytes.subarray(offset, offset + length) : bytes;
    if (part.length !== length)
      throw new AirbackupError(
        "ARCHIVE_CORRUPT",
        `${this.label}: truncated while reading (${part.length} of ${length} bytes)`,
      );
    return part;
  }
}

// --- internal ---

function isPlainName(name: string): boolean {
  try {
    checkStorageName(name);
    return true;
  } catch {
    return false;
  }
}
