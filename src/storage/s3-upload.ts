// Writing one object: a single PUT when the body fits in one part, else a multipart upload with parts of
// 8 MiB or more, a few in flight, each with Content-MD5 and retried by the client. Any failure or abort
// sends AbortMultipartUpload, so no orphaned parts are left. The stored object is checked afterwards:
// its size, and its ETag where the store gives a comparable one (an MD5, or S3's MD5-of-part-MD5s).
// Memory is bounded by (parts in flight + 1) part buffers, reused, whatever the object's size.
import { createHash } from "node:crypto";
import { AirbackupError } from "../errors.ts";
import { type S3Client, xmlEscape, xmlValue } from "./s3-client.ts";

export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const MAX_PARTS = 10_000;

export interface UploadOptions {
  size?: number;
  signal?: AbortSignal;
  partSize?: number;
  partsInFlight?: number;
}

/** Uploads `body` to `key`; returns the stored size. Nothing is left behind when it throws. */
export async function uploadObject(
  client: S3Client,
  key: string,
  body: ReadableStream<Uint8Array>,
  options: UploadOptions = {},
): Promise<number> {
  const where = `s3://${client.settings.bucket}/${key}`;
  const mib = 1024 * 1024;
  const bySize = options.size ? Math.ceil(options.size / (MAX_PARTS - 1) / mib) * mib : 0;
  const partSize = Math.max(options.partSize ?? DEFAULT_PART_SIZE, bySize);
  const source = new PartReader(body.getReader());
  try {
    const first = new Uint8Array(partSize);
    const firstLength = await source.fill(first, options.signal);
    if (firstLength < partSize) {
      checkSize(where, firstLength, options.size);
      await putSingle(client, key, first.subarray(0, firstLength), options.signal);
      return firstLength;
    }
    return await multipart(client, key, where, first, source, partSize, options);
  } catch (error) {
    await source.cancel();
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  }
}

// --- internal ---

async function putSingle(client: S3Client, key: string, bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
  const md5 = createHash("md5").update(bytes).digest();
  const response = await client.request("PUT", key, {
    body: bytes,
    headers: { "content-md5": md5.toString("base64") },
    signal,
  });
  await response.body?.cancel();
  const etag = response.headers.get("etag");
  if (etag && comparableEtag(response) && unquote(etag) !== md5.toString("hex")) {
    await client.request("DELETE", key).catch(() => {});
    throw new AirbackupError(
      "S3_FAILED",
      `s3://${client.settings.bucket}/${key}: the stored object's ETag does not match what was sent`,
    );
  }
}

async function multipart(
  client: S3Client,
  key: string,
  where: string,
  first: Uint8Array,
  source: PartReader,
  partSize: number,
  options: UploadOptions,
): Promise<number> {
  const created = await (await client.request("POST", key, { query: { uploads: "" }, signal: options.signal })).text();
  const uploadId = xmlValue(created, "UploadId");
  if (!uploadId) throw new AirbackupError("S3_FAILED", `${where}: the store started no multipart upload`);
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const inFlight = new Map<number, Promise<void>>();
  const done: { number: number; etag: string; md5: Buffer }[] = [];
  const free: Uint8Array[] = [];
  const maxInFlight = Math.max(1, options.partsInFlight ?? 4);
  let total = 0;

  const send = (number: number, buffer: Uint8Array, length: number) => {
    const bytes = buffer.subarray(0, length);
    const md5 = createHash("md5").update(bytes).digest();
    const task = client
      .request("PUT", key, {
        query: { partNumber: String(number), uploadId },
        headers: { "content-md5": md5.toString("base64") },
        body: bytes,
        signal,
      })
      .then(async (response) => {
        await response.body?.cancel();
        const etag = response.headers.get("etag");
        if (!etag) throw new AirbackupError("S3_FAILED", `${where}: part ${number} stored without an ETag`);
        done.push({ number, etag, md5 });
      })
      .finally(() => {
        inFlight.delete(number);
        free.push(buffer);
      });
    // A failed part stops the rest at once (the loop may be waiting on the source); handled here so it is
    // never an unhandled rejection, and still thrown to whoever awaits the task.
    task.catch((error) => stop.abort(error));
    inFlight.set(number, task);
  };

  try {
    let number = 1;
    let buffer = first;
    let length = partSize;
    for (;;) {
      total += length;
      send(number, buffer, length);
      if (length < partSize) break;
      while (inFlight.size >= maxInFlight) await Promise.race(inFlight.values());
      buffer = free.pop() ?? new Uint8Array(partSize);
      length = await source.fill(buffer, signal);
      if (length === 0) {
        free.push(buffer);
        break;
      }
      number++;
    }
    await Promise.all(inFlight.values());
    checkSize(where, total, options.size);
    done.sort((a, b) => a.number - b.number);
    const xml = `<CompleteMultipartUpload>${done
      .map((p) => `<Part><PartNumber>${p.number}</PartNumber><ETag>${xmlEscape(p.etag)}</ETag></Part>`)
      .join("")}</CompleteMultipartUpload>`;
    const completed = await (
      await client.request("POST", key, { query: { uploadId }, body: xml, signal: options.signal })
    ).text();
    // S3 may answer 200 and still fail the completion, with an <Error> body.
    if (/<Error>/.test(completed))
      throw new AirbackupError("S3_FAILED", `${where}: completing the upload failed: ${xmlValue(completed, "Code")}`);
  } catch (error) {
    stop.abort(error);
    await Promise.allSettled(inFlight.values());
    await abortUpload(client, key, uploadId);
    throw error;
  }
  await checkStored(client, key, where, total, done);
  return total;
}

/** HEAD after completion: the size must match; an S3-style multipart ETag must be MD5-of-MD5s-N. */
async function checkStored(
  client: S3Client,
  key: string,
  where: string,
  total: number,
  parts: { md5: Buffer }[],
): Promise<void> {
  const head = await client.request("HEAD", key);
  const size = Number(head.headers.get("content-length"));
  const etag = unquote(head.headers.get("etag") ?? "");
  const multi = /^([0-9a-f]{32})-(\d+)$/.exec(etag);
  const expected = `${createHash("md5")
    .update(Buffer.concat(parts.map((p) => p.md5)))
    .digest("hex")}-${parts.length}`;
  let problem: string | undefined;
  if (size !== total) problem = `is ${size} bytes, ${total} were sent`;
  else if (multi && comparableEtag(head) && etag !== expected)
    problem = "has an ETag that does not match the parts sent";
  if (!problem) return;
  await client.request("DELETE", key).catch(() => {});
  throw new AirbackupError("S3_FAILED", `${where}: the stored object ${problem}; removed`);
}

async function abortUpload(client: S3Client, key: string, uploadId: string): Promise<void> {
  // No signal: an interrupted run must still clean up. The client retries; 404 means already gone.
  const response = await client.request("DELETE", key, { query: { uploadId }, accept: [404] }).catch(() => undefined);
  await response?.body?.cancel();
}

function checkSize(where: string, got: number, expected: number | undefined): void {
  if (expected !== undefined && got !== expected)
    throw new AirbackupError(
      "S3_FAILED",
      `${where}: the source gave ${got} bytes, ${expected} were expected; not stored`,
    );
}

/** ETags of SSE-KMS / SSE-C objects are not MD5s of the data. */
function comparableEtag(response: Response): boolean {
  return (
    response.headers.get("x-amz-server-side-encryption") !== "aws:kms" &&
    !response.headers.has("x-amz-server-side-encryption-customer-algorithm")
  );
}

function unquote(etag: string): string {
  return etag.replace(/^W\//, "").replaceAll('"', "");
}

/** Cuts a stream of chunks of any size into parts, copying into the caller's buffer. */
class PartReader {
  private pending: Uint8Array | undefined;
  private ended = false;

  constructor(
    private readonly reader: { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> },
  ) {}

  /** Fills `buffer` as far as the stream goes; returns how many bytes (less than its length only at the end). */
  async fill(buffer: Uint8Array, signal?: AbortSignal): Promise<number> {
    let used = 0;
    while (used < buffer.length) {
      signal?.throwIfAborted();
      if (!this.pending || this.pending.length === 0) {
        if (this.ended) break;
        const { done, value } = await this.reader.read();
        if (done || !value) {
          this.ended = done;
          if (done) break;
          continue;
        }
        this.pending = value;
      }
      const pending = this.pending;
      const take = Math.min(pending.length, buffer.length - used);
      buffer.set(pending.subarray(0, take), used);
      this.pending = pending.subarray(take);
      used += take;
    }
    signal?.throwIfAborted();
    return used;
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }
}
