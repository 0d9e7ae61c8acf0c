// A real S3-compatible server for tests and benchmarks: s3rver (storing on disk in a temp dir) behind
// a front that checks every request's SigV4 signature with AWS's own signer (@smithy/signature-v4).
//
//   const s3 = await startS3Server();          // 127.0.0.1, an OS-picked port, one bucket
//   s3.endpoint, s3.region, s3.bucket, s3.accessKeyId, s3.secretAccessKey
//   s3.env                                     // AWS_* variables pointing a child process at it
//   s3.faults.failUploadParts = 1;             // the next UploadPart answers 500 (counts down)
//   s3.faults.failPart = { number: 2, times: 1 } // part 2's first attempt answers 500 (times counts down)
//   s3.faults.partDelayMs = 200;               // each UploadPart waits first (to interrupt one)
//   s3.faults.presignedAgeMs = 7 * 3600_000;   // presigned URLs are judged 7 h later (expired)
//   s3.faults.damageCompletion = "size"        // the next completed object loses its last part ("etag": a wrong ETag)
//   await s3.openUploads()                     // multipart uploads started, neither completed nor aborted
//   await s3.objects()                         // [{key, size}] of what the bucket holds
//   s3.log                                     // every request: method, path, query, status, bytes sent back
//   s3.backendEndpoint                         // s3rver without the front (benchmarks)
//   await s3.stop()                            // also on failure: call it in afterAll
//
// The front checks: header auth (Authorization, over exactly the headers listed in SignedHeaders,
// x-amz-content-sha256 against the body when it is not UNSIGNED-PAYLOAD, clock skew of 15 minutes),
// presigned URLs (query auth, with expiry), Content-MD5 (BadDigest), unknown keys
// (InvalidAccessKeyId), wrong signatures (SignatureDoesNotMatch), all as S3's XML 403/400s.
// Virtual-hosted requests (`<bucket>.localhost:PORT`) are rewritten to path style for s3rver.
// s3rver 3.7.1 lacks AbortMultipartUpload and ListMultipartUploads, and completes uploads unlike S3 (no
// part checks, the whole object's MD5 as ETag, every byte copied again through JS streams). So the front
// stores object and part bodies itself, in s3rver's file layout (s3rver serves them back), hashing them
// on the way and answering once every byte is in the file, as S3 answers only what it stored; and it does
// Complete (parts laid out where they sit in the object, so completing is a rename, as S3's completion
// costs no second copy of the data), Abort and ListMultipartUploads. s3rver does the rest (create an
// upload, GET, HEAD, list, delete, copy).

import { createHash } from "node:crypto";
import { constants } from "node:fs";
import {
  type FileHandle,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  truncate,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import S3rver from "s3rver";

export interface S3RequestLog {
  method: string;
  /** The Host header: `127.0.0.1:PORT`, or `<bucket>.localhost:PORT` for virtual-hosted requests. */
  host: string;
  /** Path-style path: /bucket/key (decoded). */
  path: string;
  query: string;
  status: number;
  range?: string;
  /** Whether the request carried a Content-MD5 header (checked against the body when it did). */
  contentMd5: boolean;
  /** Response body bytes sent back to the client. */
  bytesOut: number;
  /** When the request arrived (performance.now()) and how long until its answer was ready. */
  at: number;
  ms: number;
}

export interface S3Server {
  endpoint: string;
  /** s3rver itself, without the front (no signature check, no faults): for benchmarks only. */
  backendEndpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL_S3 for a child process. */
  env: Record<string, string>;
  /** The directory s3rver stores in. */
  dir: string;
  /** presignedAgeMs: presigned URLs are judged as if used this much later (an expired URL, at will). */
  faults: {
    failUploadParts: number;
    failPart?: { number: number; times: number };
    partDelayMs: number;
    presignedAgeMs: number;
    damageCompletion?: "size" | "etag";
  };
  log: S3RequestLog[];
  openUploads(): Promise<{ key: string; uploadId: string }[]>;
  objects(): Promise<{ key: string; size: number }[]>;
  stop(): Promise<void>;
}

const MIN_PART = 5 * 1024 * 1024;

export async function startS3Server(
  options: { bucket?: string; region?: string; accessKeyId?: string; secretAccessKey?: string } = {},
): Promise<S3Server> {
  const bucket = options.bucket ?? "test-bucket";
  const region = options.region ?? "us-east-1";
  const accessKeyId = options.accessKeyId ?? "AKIATESTACCESSKEY01";
  const secretAccessKey = options.secretAccessKey ?? "test-secret-key/that+is+not+real0123456789";
  const dir = await mkdtemp(join(tmpdir(), "airbackup-s3rver-"));
  const backend = new S3rver({
    address: "127.0.0.1",
    port: 0,
    directory: dir,
    silent: true,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const { port: backendPort } = (await backend.run()) as unknown as { port: number };
  const uploadsDir = join(dir, bucket, "._S3rver_uploads");
  const faults: S3Server["faults"] = { failUploadParts: 0, partDelayMs: 0, presignedAgeMs: 0 };
  const log: S3RequestLog[] = [];
  /** Each open upload's part length: that of the first part it received (see uploadPart). */
  const partSizes = new Map<string, number>();
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey },
    region,
    service: "s3",
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });

  const front = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 60,
    maxRequestBodySize: 5 * 1024 ** 3, // S3's limit for one PUT
    async fetch(request) {
      const url = new URL(request.url);
      const host = request.headers.get("host") ?? url.host;
      const entry: S3RequestLog = {
        method: request.method,
        host,
        path: "",
        query: url.search,
        status: 0,
        contentMd5: request.headers.has("content-md5"),
        bytesOut: 0,
        at: performance.now(),
        ms: 0,
      };
      entry.range = request.headers.get("range") ?? undefined;
      log.push(entry);
      const answer = await handle(request, url, host, entry).catch((error) =>
        s3Error(500, "InternalError", `front: ${(error as Error).message}`),
      );
      entry.status = answer.status;
      entry.ms = performance.now() - entry.at;
      return counted(answer, entry);
    },
  });

  async function handle(request: Request, url: URL, host: string, entry: S3RequestLog): Promise<Response> {
    // Virtual-hosted: bucket.localhost:PORT/key -> /bucket/key.
    const hostname = host.replace(/:\d+$/, "");
    const vhost = hostname.endsWith(".localhost") ? hostname.slice(0, -".localhost".length) : undefined;
    const wirePath = url.pathname;
    const pathStyle = vhost ? `/${vhost}${wirePath === "/" ? "" : wirePath}` : wirePath;
    entry.path = decodeURIComponent(pathStyle);

    const refused = await checkSignature(request, url, host, wirePath);
    if (refused) return refused;

    const [, bucketName, ...keyParts] = pathStyle.split("/");
    const key = decodeURIComponent(keyParts.join("/"));
    const uploadId = url.searchParams.get("uploadId");
    const bucketRoot = keyParts.join("") === ""; // /bucket or /bucket/
    // Object and part bodies are stored by the front's own writer (see storeBody); only the small bodies
    // of other requests (CompleteMultipartUpload's XML, say) are read here, and checked.
    let body: Uint8Array | undefined;
    const hasBody = request.method === "PUT" || request.method === "POST";
    const stored =
      request.method === "PUT" && bucketName === bucket && key !== "" && !request.headers.has("x-amz-copy-source");
    if (hasBody && !stored && (request.headers.has("content-md5") || signedPayload(request) || uploadId !== null)) {
      body = new Uint8Array(await request.arrayBuffer());
      const refused = checkDigests(request, createHash("md5").update(body).digest(), () => sha256Hex(body!));
      if (refused) return refused;
    }
    if (bucketName === bucket && bucketRoot && request.method === "GET" && url.searchParams.has("uploads"))
      return listUploadsAnswer();
    if (uploadId !== null && bucketName === bucket) {
      if (!(await uploadExists(uploadId))) return s3Error(404, "NoSuchUpload", "The specified upload does not exist.");
      if (request.method === "DELETE") {
        await rm(join(uploadsDir, uploadId), { recursive: true, force: true });
        partSizes.delete(uploadId);
        return new Response(null, { status: 204 });
      }
      if (request.method === "PUT") {
        if (faults.partDelayMs) await Bun.sleep(faults.partDelayMs);
        if (faults.failUploadParts > 0) {
          faults.failUploadParts--;
          return s3Error(500, "InternalError", "We encountered an internal error. Please try again.");
        }
        // The upload may have been aborted while this part waited.
        if (!(await uploadExists(uploadId)))
          return s3Error(404, "NoSuchUpload", "The specified upload does not exist.");
        const partNumber = Number(url.searchParams.get("partNumber"));
        if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000)
          return s3Error(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive.");
        if (faults.failPart?.number === partNumber && faults.failPart.times > 0) {
          faults.failPart.times--;
          return s3Error(500, "InternalError", "We encountered an internal error. Please try again.");
        }
        return await uploadPart(request, uploadId, partNumber);
      }
      if (request.method === "POST") return complete(uploadId, new TextDecoder().decode(body));
    }

    if (stored) return await putObject(request, key);
    return await forward(request, url, pathStyle, hasBody, body);
  }

  /** PutObject: the body stored beside s3rver's files, in its layout, answered once every byte is written. */
  async function putObject(request: Request, key: string): Promise<Response> {
    const { objectDir, objectPath, last } = objectFiles(key);
    await mkdir(objectDir, { recursive: true });
    const temporary = `${objectPath}.front-${crypto.randomUUID()}`;
    try {
      const written = await storeBody(request, temporary, 0, true);
      const refused = checkDigests(request, written.md5, () => written.sha256);
      if (refused) return refused;
      await rename(temporary, objectPath);
      const md5 = written.md5.toString("hex");
      await writeFile(`${objectPath}.md5`, md5);
      await writeFile(join(objectDir, `${last}._S3rver_metadata.json`), JSON.stringify(metadataOf(request.headers)));
      return new Response(null, { status: 200, headers: { etag: `"${md5}"` } });
    } finally {
      await rm(temporary, { force: true });
    }
  }

  /**
   * UploadPart. Parts are written where they will sit in the object, as a store that completes uploads
   * without copying them again does: every part as long as the upload's first-received one goes into one
   * data file at (number - 1) x that length; a part of another length (the last one, typically) into a
   * file of its own. Each part's MD5 and place are recorded beside it.
   */
  async function uploadPart(request: Request, uploadId: string, number: number): Promise<Response> {
    const length = Number(request.headers.get("content-length") ?? Number.NaN);
    if (!Number.isSafeInteger(length))
      return s3Error(411, "MissingContentLength", "You must provide the Content-Length HTTP header.");
    const upload = join(uploadsDir, uploadId);
    const partSize = partSizes.get(uploadId) ?? length;
    partSizes.set(uploadId, partSize);
    const inData = length === partSize;
    await rm(join(upload, `${number}.json`), { force: true }); // a part sent again: the old one is gone first
    const path = inData ? join(upload, "data") : join(upload, String(number));
    const written = await storeBody(request, path, inData ? (number - 1) * partSize : 0, !inData);
    const refused = checkDigests(request, written.md5, () => written.sha256);
    if (refused) return refused;
    if (!(await uploadExists(uploadId))) return s3Error(404, "NoSuchUpload", "The specified upload does not exist.");
    const md5 = written.md5.toString("hex");
    const record: PartRecord = { md5, length: written.length, inData };
    await writeFile(join(upload, `${number}.json`), JSON.stringify(record));
    return new Response(null, { status: 200, headers: { etag: `"${md5}"` } });
  }

  /** Content-MD5 and a signed payload's SHA-256 against what arrived: S3's 400 when either differs. */
  function checkDigests(request: Request, md5: Buffer, sha256: () => string | undefined): Response | undefined {
    const contentMd5 = request.headers.get("content-md5");
    if (contentMd5 !== null && md5.toString("base64") !== contentMd5)
      return s3Error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
    if (signedPayload(request) && sha256() !== request.headers.get("x-amz-content-sha256"))
      return s3Error(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match.");
    return undefined;
  }

  /** Passes the request on to s3rver (path style, without the auth it does not check), body streamed. */
  async function forward(request: Request, url: URL, pathStyle: string, hasBody: boolean, body?: Uint8Array) {
    const forwardUrl = `http://127.0.0.1:${backendPort}${pathStyle}${stripAuth(url.searchParams)}`;
    const headers = new Headers(request.headers);
    headers.delete("authorization");
    headers.delete("host");
    const init: RequestInit = { method: request.method, headers, redirect: "manual" };
    if (hasBody) init.body = body ?? request.body;
    if (hasBody && !body) (init as { duplex?: string }).duplex = "half";
    const answer = await fetch(forwardUrl, init);
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  }

  async function checkSignature(request: Request, url: URL, host: string, wirePath: string) {
    const q = url.searchParams;
    const presigned = q.has("X-Amz-Algorithm");
    const auth = request.headers.get("authorization");
    if (!presigned && !auth) return s3Error(403, "AccessDenied", "Access Denied");
    const credential = presigned ? q.get("X-Amz-Credential") : /Credential=([^,\s]+)/.exec(auth ?? "")?.[1];
    const signedHeaders = (
      presigned ? q.get("X-Amz-SignedHeaders") : /SignedHeaders=([^,\s]+)/.exec(auth ?? "")?.[1]
    )?.split(";");
    const signature = presigned ? q.get("X-Amz-Signature") : /Signature=([0-9a-f]+)/.exec(auth ?? "")?.[1];
    const amzDate = presigned ? q.get("X-Amz-Date") : request.headers.get("x-amz-date");
    if (!credential || !signedHeaders || !signature || !amzDate)
      return s3Error(400, "AuthorizationHeaderMalformed", "The authorization header is malformed.");
    const [keyId, , credRegion, service] = credential.split("/");
    if (keyId !== accessKeyId)
      return s3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
    if (credRegion !== region || service !== "s3")
      return s3Error(400, "AuthorizationHeaderMalformed", `the region '${credRegion}' is wrong; expecting '${region}'`);
    const signingDate = parseAmzDate(amzDate);
    const now = Date.now();
    if (presigned) {
      const expires = Number(q.get("X-Amz-Expires"));
      if (now + faults.presignedAgeMs > signingDate.getTime() + expires * 1000)
        return s3Error(403, "AccessDenied", "Request has expired");
    } else if (Math.abs(now - signingDate.getTime()) > 15 * 60_000) {
      return s3Error(
        403,
        "RequestTimeTooSkewed",
        "The difference between the request time and the server's time is too large.",
      );
    }
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) headers[name] = name === "host" ? host : (request.headers.get(name) ?? "");
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of q) {
      if (presigned && /^X-Amz-(Algorithm|Credential|Date|Expires|SignedHeaders|Signature)$/.test(k)) continue;
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const [hostname, port] = host.split(":");
    // S3 signs the decoded key re-encoded (RFC 3986, "/" kept), whatever escaping the wire used.
    const canonicalPath = wirePath
      .split("/")
      .map((seg) =>
        encodeURIComponent(decodeURIComponent(seg)).replace(
          /[!'()*]/g,
          (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
        ),
      )
      .join("/");
    const base = { method: request.method, protocol: "http:", hostname: hostname ?? "", path: canonicalPath, query };
    const httpRequest = { ...base, port: port ? Number(port) : undefined, headers };
    let expected: string | undefined;
    if (presigned) {
      const unsignable = new Set(["x-amz-content-sha256"]);
      const signed = await signer.presign(
        { ...httpRequest, headers: { ...headers, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } },
        {
          signingDate,
          expiresIn: Number(q.get("X-Amz-Expires")),
          unsignableHeaders: unsignable,
          unhoistableHeaders: unsignable,
        },
      );
      expected = signed.query?.["X-Amz-Signature"] as string;
    } else {
      const signed = await signer.sign(httpRequest, { signingDate });
      expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization))?.[1];
    }
    if (expected !== signature)
      return s3Error(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
      );
    return undefined;
  }

  async function uploadExists(uploadId: string): Promise<boolean> {
    if (!/^[0-9a-f]+$/.test(uploadId)) return false;
    return stat(join(uploadsDir, uploadId, "key")).then(
      () => true,
      () => false,
    );
  }

  /**
   * CompleteMultipartUpload, done here the way S3 does it: parts checked (listed ETags, ascending numbers,
   * 5 MiB minimum but the last), the object's ETag S3's `md5(part md5s)-N`. Parts 1..N laid out in the data
   * file (see uploadPart) become the object by a rename, with at most the last part copied in; any other
   * layout is copied part by part.
   */
  async function complete(uploadId: string, xml: string): Promise<Response> {
    const listed = [...xml.matchAll(/<Part>\s*<PartNumber>(\d+)<\/PartNumber>\s*<ETag>([^<]*)<\/ETag>\s*<\/Part>/g)];
    if (listed.length === 0) return s3Error(400, "MalformedXML", "The XML you provided was not well-formed.");
    const upload = join(uploadsDir, uploadId);
    const parts: (PartRecord & { number: number })[] = [];
    for (const [i, [, n, etag]] of listed.entries()) {
      const number = Number(n);
      if (i > 0 && number <= parts[i - 1]!.number)
        return s3Error(400, "InvalidPartOrder", "The list of parts was not in ascending order.");
      const record = await readFile(join(upload, `${number}.json`), "utf8").then(
        (text) => JSON.parse(text) as PartRecord,
        () => undefined,
      );
      if (!record || record.md5 !== etag!.replace(/&quot;|&#34;|"/g, ""))
        return s3Error(400, "InvalidPart", "One or more of the specified parts could not be found.");
      if (i < listed.length - 1 && record.length < MIN_PART)
        return s3Error(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.");
      parts.push({ ...record, number });
    }
    const key = await readFile(join(upload, "key"), "utf8");
    const metadata = JSON.parse(await readFile(join(upload, "metadata"), "utf8")) as Record<string, string>;
    const { objectDir, objectPath, last } = objectFiles(key);
    await mkdir(objectDir, { recursive: true });
    const damage = faults.damageCompletion;
    faults.damageCompletion = undefined;
    const kept = parts.slice(0, damage === "size" ? -1 : undefined);
    const partSize = partSizes.get(uploadId) ?? 0;
    const data = join(upload, "data");
    const inPlace = parts.every((p, i) => p.number === i + 1 && (p.inData || i === parts.length - 1));
    if (inPlace) {
      const lastPart = parts.at(-1)!;
      if (!lastPart.inData)
        await copyRange(join(upload, String(lastPart.number)), 0, lastPart.length, data, (parts.length - 1) * partSize);
      await truncate(
        data,
        kept.reduce((sum, p) => sum + p.length, 0),
      );
      await rename(data, objectPath);
    } else {
      const temporary = `${objectPath}.front-${crypto.randomUUID()}`;
      let at = 0;
      for (const p of kept) {
        const from = p.inData ? data : join(upload, String(p.number));
        await copyRange(from, p.inData ? (p.number - 1) * partSize : 0, p.length, temporary, at);
        at += p.length;
      }
      await rename(temporary, objectPath);
    }
    const md5s = parts.map((p) => Buffer.from(p.md5, "hex"));
    if (damage === "etag") md5s.reverse();
    const etag = `${createHash("md5").update(Buffer.concat(md5s)).digest("hex")}-${parts.length}`;
    await writeFile(`${objectPath}.md5`, etag);
    await writeFile(join(objectDir, `${last}._S3rver_metadata.json`), JSON.stringify(metadataOf(metadata)));
    await rm(upload, { recursive: true, force: true });
    partSizes.delete(uploadId);
    const result = `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${xmlEscape(key)}</Key><ETag>"${etag}"</ETag></CompleteMultipartUploadResult>`;
    return new Response(result, { headers: { "content-type": "application/xml" } });
  }

  /** Where s3rver keeps an object and its metadata. */
  function objectFiles(key: string): { objectDir: string; objectPath: string; last: string } {
    const segments = key.split("/");
    const last = segments.pop()!;
    const objectDir = join(dir, bucket, ...segments);
    return { objectDir, objectPath: join(objectDir, `${last}._S3rver_object`), last };
  }

  async function openUploads(): Promise<{ key: string; uploadId: string }[]> {
    const ids = await readdir(uploadsDir).catch(() => [] as string[]);
    const out: { key: string; uploadId: string }[] = [];
    for (const uploadId of ids) {
      const key = await readFile(join(uploadsDir, uploadId, "key"), "utf8").catch(() => undefined);
      if (key !== undefined) out.push({ key, uploadId });
    }
    return out;
  }

  async function listUploadsAnswer(): Promise<Response> {
    const uploads = (await openUploads())
      .map((u) => `<Upload><Key>${xmlEscape(u.key)}</Key><UploadId>${u.uploadId}</UploadId></Upload>`)
      .join("");
    const xml = `<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult><Bucket>${bucket}</Bucket><IsTruncated>false</IsTruncated>${uploads}</ListMultipartUploadsResult>`;
    return new Response(xml, { headers: { "content-type": "application/xml" } });
  }

  async function objects(): Promise<{ key: string; size: number }[]> {
    const out: { key: string; size: number }[] = [];
    async function walk(sub: string): Promise<void> {
      for (const entry of await readdir(join(dir, bucket, sub), { withFileTypes: true })) {
        const rel = sub ? `${sub}/${entry.name}` : entry.name;
        if (entry.isDirectory() && !entry.name.startsWith("._S3rver_")) await walk(rel);
        const m = /^(.*)\._S3rver_object$/.exec(entry.name);
        if (entry.isFile() && m) {
          const key = sub ? `${sub}/${m[1]}` : m[1]!;
          out.push({ key, size: (await stat(join(dir, bucket, rel))).size });
        }
      }
    }
    await walk("");
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  const endpoint = `http://127.0.0.1:${front.port}`;
  return {
    endpoint,
    backendEndpoint: `http://127.0.0.1:${backendPort}`,
    region,
    bucket,
    accessKeyId,
    secretAccessKey,
    env: {
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      AWS_REGION: region,
      AWS_ENDPOINT_URL_S3: endpoint,
    },
    dir,
    faults,
    log,
    openUploads,
    objects,
    async stop() {
      front.stop(true);
      await new Promise<void>((resolve) => backend.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

interface PartRecord {
  md5: string;
  length: number;
  /** In the upload's data file at (number - 1) x its part length; else in a file named by its number. */
  inData: boolean;
}

/**
 * Object metadata as s3rver keeps it: the standard headers S3 stores (s3rver's S3Object.ALLOWED_METADATA,
 * which its types do not export), and x-amz-meta-*.
 */
function metadataOf(headers: Headers | Record<string, string>): Record<string, string> {
  const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  const kept: Record<string, string> = { "content-type": "binary/octet-stream" };
  for (const [name, value] of entries) {
    const lower = name.toLowerCase();
    if (STORED_HEADERS.has(lower) || lower.startsWith("x-amz-meta-")) kept[lower] = value;
  }
  return kept;
}

const STORED_HEADERS = new Set([
  "cache-control",
  "content-disposition",
  "content-encoding",
  "content-language",
  "content-type",
  "expires",
  "x-amz-storage-class",
  "x-amz-website-redirect-location",
]);

function signedPayload(request: Request): boolean {
  const hash = request.headers.get("x-amz-content-sha256");
  return hash !== null && hash !== "UNSIGNED-PAYLOAD";
}

const WRITE_CHUNK = 4 * 1024 * 1024;
const WRITES_IN_FLIGHT = 2;

/**
 * Writes a request's body into `path` from `offset` (`fresh`: the file is created anew), hashing it on the
 * way: MD5, and SHA-256 when the payload is signed. Writes go out in 4 MiB blocks, two at once on the
 * I/O threads, while the next block is hashed; it returns once every byte is in the file.
 */
async function storeBody(
  request: Request,
  path: string,
  offset: number,
  fresh: boolean,
): Promise<{ length: number; md5: Buffer; sha256?: string }> {
  const md5 = new Bun.CryptoHasher("md5");
  const sha256 = signedPayload(request) ? new Bun.CryptoHasher("sha256") : undefined;
  const flags = constants.O_WRONLY | constants.O_CREAT | (fresh ? constants.O_TRUNC : 0);
  const handle = await open(path, flags);
  const free: Uint8Array[] = [];
  const writing = new Set<Promise<void>>();
  let block: Uint8Array = new Uint8Array(WRITE_CHUNK);
  let used = 0;
  let at = offset;
  let length = 0;
  const flush = async () => {
    if (used === 0) return;
    while (writing.size >= WRITES_IN_FLIGHT) await Promise.race(writing);
    const [bytes, count, position] = [block, used, at];
    at += count;
    used = 0;
    block = free.pop() ?? new Uint8Array(WRITE_CHUNK);
    const write: Promise<void> = writeAll(handle, bytes, count, position).then(() => {
      writing.delete(write);
      free.push(bytes);
    });
    writing.add(write);
  };
  try {
    if (request.body)
      for await (const chunk of request.body) {
        md5.update(chunk);
        sha256?.update(chunk);
        length += chunk.length;
        for (let from = 0; from < chunk.length; ) {
          const take = Math.min(chunk.length - from, WRITE_CHUNK - used);
          block.set(chunk.subarray(from, from + take), used);
          used += take;
          from += take;
          if (used === WRITE_CHUNK) await flush();
        }
      }
    await flush();
    await Promise.all(writing);
  } finally {
    await Promise.allSettled(writing);
    await handle.close();
  }
  return { length, md5: Buffer.from(md5.digest()), sha256: sha256?.digest("hex") };
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, count: number, position: number): Promise<void> {
  for (let done = 0; done < count; ) {
    const { bytesWritten } = await handle.write(bytes, done, count - done, position + done);
    done += bytesWritten;
  }
}

/** Copies `length` bytes of `from` (at `fromOffset`) into `to` (at `toOffset`; created when missing). */
async function copyRange(from: string, fromOffset: number, length: number, to: string, toOffset: number) {
  const source = await open(from, "r");
  const target = await open(to, constants.O_WRONLY | constants.O_CREAT);
  const block = new Uint8Array(WRITE_CHUNK);
  try {
    for (let done = 0; done < length; ) {
      const { bytesRead } = await source.read(block, 0, Math.min(block.length, length - done), fromOffset + done);
      if (bytesRead === 0) throw new Error(`${from} is shorter than expected`);
      await writeAll(target, block, bytesRead, toOffset + done);
      done += bytesRead;
    }
  } finally {
    await source.close();
    await target.close();
  }
}

/** S3's error answer: an XML body with Code and Message. */
export function s3Error(status: number, code: string, message: string): Response {
  const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><RequestId>0</RequestId></Error>`;
  return new Response(xml, { status, headers: { "content-type": "application/xml" } });
}

// --- internal ---

function counted(answer: Response, entry: S3RequestLog): Response {
  if (!answer.body) return answer;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      entry.bytesOut += chunk.length;
      controller.enqueue(chunk);
    },
  });
  return new Response(answer.body.pipeThrough(counter), { status: answer.status, headers: answer.headers });
}

function stripAuth(params: URLSearchParams): string {
  const kept = new URLSearchParams();
  for (const [k, v] of params) if (!/^X-Amz-/i.test(k)) kept.append(k, v);
  const s = kept.toString();
  return s ? `?${s}` : "";
}

function parseAmzDate(text: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return new Date(Number.NaN);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
