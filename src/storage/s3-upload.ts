// Writing one object: a single PUT when the body fits in one part, else a multipart upload with parts of
// 8 MiB or more (a file's three in flight, a stream's one), each with Content-MD5 and retried by the client. Any failure or abort
// sends AbortMultipartUpload, so no orphaned parts are left. The stored object is checked afterwards:
// its size, and its ETag where the store gives a comparable one (an MD5, or S3's MD5-of-part-MD5s).
// A file (Blob) is sent as slices of itself: no copy in memory (Bun sends a file slice with sendfile), so
// its parts grow with its size (up to 64 MiB: fewer requests and part files for the store to join).
// A stream is cut into reused part buffers: memory is (parts in flight + 2) parts whatever the size.
// A file's parts go three at a time while the next is read and hashed: one at a time left the link idle
// while each part's answer waited for its last bytes to reach the store's disk (bench/s3.ts, 1 GiB on 2
// cores: 1 in flight 271 MB/s, 2: 287, 3: 415-417, 4: 410). A stream's go one at a time: each part in
// flight is an 8 MiB buffer, and restore stages four files at once.
import { createHash } from "node:crypto";
import { AirbackupError } from "../errors.ts";
import { type S3Client, xmlEscape, xmlValue } from "./s3-client.ts";
import { blobParts, fileParts, md5Of, type Part, type PartSource, streamParts } from "./s3-parts.ts";

export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/** A Blob's parts are slices of it (no memory): about this many of them, between 8 and 64 MiB each. */
const BLOB_PARTS = 16;
const MAX_BLOB_PART = 64 * 1024 * 1024;
/** Parts in flight at once by default for a Blob (slices of it: no memory). */
export const BLOB_PARTS_IN_FLIGHT = 3;
/** For a stream: each part in flight is a buffer. */
const STREAM_PARTS_IN_FLIGHT = 1;
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
  body: ReadableStream<Uint8Array> | Blob,
  options: UploadOptions = {},
): Promise<number> {
  const where = `s3://${client.settings.bucket}/${key}`;
  const size = body instanceof Blob ? body.size : options.size;
  const partSize = partSizeFor(body instanceof Blob, size, options.partSize);
  // A whole file (not a slice of one: a slice keeps its file's name) is hashed from the file itself.
  const name = body instanceof Blob ? (body as { name?: unknown }).name : undefined;
  const path = typeof name === "string" && name && Bun.file(name).size === (body as Blob).size ? name : undefined;
  const source = path
    ? await fileParts(path, (body as Blob).size, partSize)
    : body instanceof Blob
      ? blobParts(body, partSize)
      : streamParts(body, partSize);
  const partsInFlight = options.partsInFlight ?? (body instanceof Blob ? BLOB_PARTS_IN_FLIGHT : STREAM_PARTS_IN_FLIGHT);
  try {
    return await upload(client, key, where, source, partSize, { ...options, size, partsInFlight });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  } finally {
    await source.close();
  }
}

/** The part size: as asked, else 8 MiB (a Blob's: 1/16 of it, up to 64 MiB); always under 10,000 parts. */
export function partSizeFor(blob: boolean, size: number | undefined, asked?: number): number {
  const mib = 1024 * 1024;
  const roundUp = (bytes: number) => Math.ceil(bytes / mib) * mib;
  const bySize = size ? roundUp(size / (MAX_PARTS - 1)) : 0;
  const byShare = blob && size ? Math.min(MAX_BLOB_PART, roundUp(size / BLOB_PARTS)) : 0;
  return Math.max(asked ?? Math.max(DEFAULT_PART_SIZE, byShare), bySize);
}

// --- internal ---

async function upload(
  client: S3Client,
  key: string,
  where: string,
  source: PartSource,
  partSize: number,
  options: UploadOptions,
): Promise<number> {
  // A size known to need parts: the upload is created while the first part is hashed.
  if (options.size !== undefined && options.size > partSize)
    return await multipart(client, key, where, [], source, options);
  const first = await source.next(options.signal);
  const second = first && first.length === partSize ? await source.next(options.signal) : undefined;
  if (!second) {
    const part = first ?? { body: new Uint8Array(0), length: 0, md5: await md5Of(new Uint8Array(0)), release() {} };
    checkSize(where, part.length, options.size);
    await putSingle(client, key, part, options.signal);
    return part.length;
  }
  return await multipart(client, key, where, [first!, second], source, options);
}

async function putSingle(client: S3Client, key: string, part: Part, signal?: AbortSignal): Promise<void> {
  const response = await client.request("PUT", key, {
    body: part.body,
    headers: { "content-md5": part.md5.toString("base64") },
    signal,
  });
  await response.body?.cancel();
  const etag = response.headers.get("etag");
  if (etag && comparableEtag(response) && unquote(etag) !== part.md5.toString("hex")) {
    await client.request("DELETE", key).catch(() => {});
    throw new AirbackupError(
      "S3_FAILED",
      `s3://${client.settings.bucket}/${key}: the stored object's ETag does not match what was sent; removed`,
    );
  }
}

async function multipart(
  client: S3Client,
  key: string,
  where: string,
  firstParts: Part[],
  source: PartSource,
  options: UploadOptions,
): Promise<number> {
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  // The next part is read and hashed while the upload is created, and later while the others are in
  // flight, so the link never waits on MD5 but for the first part.
  let coming = source.next(signal);
  coming.catch(() => {});
  let uploadId: string | undefined;
  try {
    const created = await client.request("POST", key, { query: { uploads: "" }, signal: options.signal });
    uploadId = xmlValue(await created.text(), "UploadId");
    if (!uploadId) throw new AirbackupError("S3_FAILED", `${where}: the store started no multipart upload`);
  } catch (error) {
    stop.abort(error);
    await coming.catch(() => {});
    throw error;
  }
  const inFlight = new Map<number, Promise<void>>();
  const done: { number: number; etag: string; md5: Buffer }[] = [];
  const maxInFlight = Math.max(1, options.partsInFlight ?? 1);
  let total = 0;

  const send = (number: number, part: Part) => {
    total += part.length;
    const task = client
      .request("PUT", key, {
        query: { partNumber: String(number), uploadId },
        headers: { "content-md5": part.md5.toString("base64") },
        body: part.body,
        signal,
      })
      .then(async (response) => {
        await response.body?.cancel();
        const etag = response.headers.get("etag");
        if (!etag) throw new AirbackupError("S3_FAILED", `${where}: part ${number} stored without an ETag`);
        done.push({ number, etag, md5: part.md5 });
      })
      .finally(() => {
        inFlight.delete(number);
        part.release();
      });
    // A failed part stops the rest at once (the loop may be waiting on the source); handled here so it is
    // never an unhandled rejection, and still thrown to whoever awaits the task.
    task.catch((error) => stop.abort(error));
    inFlight.set(number, task);
  };

  try {
    let number = 0;
    for (const part of firstParts) send(++number, part);
    for (;;) {
      const part = await coming;
      if (!part) break;
      while (inFlight.size >= maxInFlight) await Promise.race(inFlight.values());
      send(++number, part);
      coming = source.next(signal);
      coming.catch(() => {});
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
