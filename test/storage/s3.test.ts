// S3Storage against a real S3 server (s3rver behind a SigV4-checking front): the conformance suite in
// both addressing styles, then what only S3 has: multipart with Content-MD5, a part failing once,
// aborted uploads, wrong keys, presigned URLs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AwsClient } from "aws4fetch";
import { AirbackupError } from "../../src/errors.ts";
import { S3Storage } from "../../src/storage/s3.ts";
import { partSizeFor } from "../../src/storage/s3-upload.ts";
import { type S3Server, startS3Server } from "../support/s3-server.ts";
import { collect, pseudoRandom, sha, storageConformance, streamOf } from "./conformance.ts";

const PART = 5 * 1024 * 1024; // S3's smallest part; the product default is 8 MiB

function storageFor(s3: S3Server, options: { pathStyle?: boolean; prefix?: string; secret?: string } = {}) {
  const pathStyle = options.pathStyle ?? true;
  return new S3Storage(
    {
      endpoint: pathStyle ? s3.endpoint : s3.endpoint.replace("127.0.0.1", "localhost"),
      region: s3.region,
      bucket: s3.bucket,
      prefix: options.prefix ?? "backups/",
      pathStyle,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: options.secret ?? s3.secretAccessKey,
    },
    { partSize: PART, partsInFlight: 3 },
  );
}

for (const pathStyle of [true, false]) {
  storageConformance(`S3 (${pathStyle ? "path-style" : "virtual-hosted"})`, async () => {
    const s3 = await startS3Server();
    const raw = new AwsClient({ ...creds(s3), service: "s3", region: s3.region, retries: 0 });
    return {
      storage: storageFor(s3, { pathStyle }),
      largeSize: 2 * PART + 123_457,
      async putNested(name, bytes) {
        for (const key of [`backups/sub/${name}`, name, `backups-other/${name}`])
          expect((await raw.fetch(`${s3.endpoint}/${s3.bucket}/${key}`, { method: "PUT", body: bytes })).ok).toBe(true);
      },
      leftovers: async () => (await s3.openUploads()).length,
      cleanup: () => s3.stop(),
    };
  });
}

describe("S3 storage: what only S3 has", () => {
  let s3: S3Server;
  beforeAll(async () => {
    s3 = await startS3Server();
  });
  afterAll(() => s3?.stop());

  test("part sizes: 8 MiB; a file's a sixteenth of it up to 64 MiB; as asked; never over 10,000 parts", () => {
    const MiB = 2 ** 20;
    expect(partSizeFor(false, 1024 * MiB) / MiB).toBe(8); // a stream's parts are buffers
    expect(partSizeFor(true, 100 * MiB) / MiB).toBe(8);
    expect(partSizeFor(true, 300 * MiB) / MiB).toBe(19);
    expect(partSizeFor(true, 1024 * MiB) / MiB).toBe(64);
    expect(partSizeFor(true, 1024 * MiB, PART)).toBe(PART);
    expect(Math.ceil((2 * 2 ** 40) / partSizeFor(true, 2 * 2 ** 40))).toBeLessThan(10_000);
  });

  test("a file above one part goes up with the defaults: 8 MiB parts, at most three in flight, intact", async () => {
    const storage = new S3Storage({ ...storageFor(s3).settings });
    const dir = await mkdtemp(join(tmpdir(), "airbackup-s3-file-"));
    try {
      const path = join(dir, "big.zip");
      const bytes = pseudoRandom(6 * 8 * 1024 * 1024 + 5, 31);
      await Bun.write(path, bytes);
      s3.log.length = 0;
      await storage.write("file.zip", Bun.file(path));
      const parts = s3.log.filter((r) => r.method === "PUT" && r.query.includes("partNumber="));
      expect(parts.map((p) => p.contentMd5 && p.status)).toEqual([200, 200, 200, 200, 200, 200, 200]);
      // At each part's arrival, how many parts were being stored (itself included).
      const overlapping = parts.map((p) => parts.filter((q) => q.at <= p.at && p.at < q.at + q.ms).length);
      expect(Math.max(...overlapping)).toBeLessThanOrEqual(3);
      expect(sha(await collect(await storage.read("file.zip")))).toBe(sha(bytes));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a stream above one part goes one 8 MiB part at a time with the defaults (each part is a buffer)", async () => {
    const storage = new S3Storage({ ...storageFor(s3).settings });
    const bytes = pseudoRandom(3 * 8 * 1024 * 1024 + 7, 41);
    s3.log.length = 0;
    await storage.write("stream.zip", new Blob([bytes]).stream(), { size: bytes.length });
    const parts = s3.log.filter((r) => r.method === "PUT" && r.query.includes("partNumber="));
    expect(parts.map((p) => p.status)).toEqual([200, 200, 200, 200]);
    for (const [i, p] of parts.entries())
      if (i) expect(p.at).toBeGreaterThanOrEqual(parts[i - 1]!.at + parts[i - 1]!.ms);
    expect(sha(await collect(await storage.read("stream.zip")))).toBe(sha(bytes));
  });

  test("virtual-hosted requests reach the bucket by host name", async () => {
    const storage = storageFor(s3, { pathStyle: false });
    expect(storage.client.url("backups/a.zip")).toBe(
      `${s3.endpoint.replace("127.0.0.1", `${s3.bucket}.localhost`)}/backups/a.zip`,
    );
    expect(storageFor(s3).client.url("backups/a b.zip")).toBe(`${s3.endpoint}/${s3.bucket}/backups/a%20b.zip`);
  });

  test("above one part: multipart, every part with Content-MD5, a part that fails once is retried", async () => {
    const storage = storageFor(s3);
    const bytes = pseudoRandom(3 * PART + 1000, 21);
    s3.log.length = 0;
    s3.faults.failUploadParts = 1;
    await storage.write("multi.zip", streamOf(bytes, 256 * 1024), { size: bytes.length });
    const parts = s3.log.filter((r) => r.method === "PUT" && r.query.includes("partNumber="));
    expect(parts.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 500]);
    expect(parts.every((r) => r.contentMd5)).toBe(true);
    expect(s3.log.some((r) => r.method === "POST" && r.query.includes("uploadId=") && r.status === 200)).toBe(true);
    expect(await s3.openUploads()).toEqual([]);
    expect(await s3.objects()).toContainEqual({ key: "backups/multi.zip", size: bytes.length });
    expect(sha(await collect(await storage.read("multi.zip")))).toBe(sha(bytes));
  });

  test("the stored object is checked: a multipart ETag is S3's md5-of-part-md5s; a wrong size or ETag fails and is removed", async () => {
    const storage = storageFor(s3);
    const bytes = pseudoRandom(2 * PART + 10, 23);
    await storage.write("checked.zip", streamOf(bytes, 1 << 20));
    const head = await storage.client.request("HEAD", "backups/checked.zip");
    expect(head.headers.get("etag")).toMatch(/^"[0-9a-f]{32}-3"$/);
    for (const damage of ["size", "etag"] as const) {
      s3.faults.damageCompletion = damage;
      const error = (await storage.write("damaged.zip", streamOf(bytes, 1 << 20)).catch((e: unknown) => e)) as Error;
      expect(error.message).toContain(damage === "size" ? `is ${2 * PART} bytes, ${bytes.length} were sent` : "ETag");
      expect(await storage.stat("damaged.zip")).toBeUndefined();
    }
  });

  test("a part that keeps failing fails the write, aborts the upload, stores nothing", async () => {
    const storage = storageFor(s3);
    s3.faults.failUploadParts = 1000;
    try {
      const error = await storage
        .write("doomed.zip", streamOf(pseudoRandom(2 * PART + 10, 22), 1 << 20))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AirbackupError);
      expect((error as AirbackupError).code).toBe("S3_FAILED");
      expect((error as Error).message).toContain("InternalError (500)");
    } finally {
      s3.faults.failUploadParts = 0;
    }
    expect(await s3.openUploads()).toEqual([]);
    expect(await storage.stat("doomed.zip")).toBeUndefined();
  });

  test("wrong keys: S3_AUTH naming the refusal, never the secret or key id", async () => {
    const secret = "WRONG-secret-value-that-must-not-leak";
    const storage = storageFor(s3, { secret });
    for (const attempt of [
      () => storage.stat("a.zip"),
      () => storage.write("a.zip", streamOf(new Uint8Array(10), 10)),
    ]) {
      const error = (await attempt().catch((e: unknown) => e)) as AirbackupError;
      expect(error.code).toBe("S3_AUTH");
      expect(error.message).not.toContain(secret);
      expect(error.message).not.toContain(s3.accessKeyId);
      expect(`${error.message} ${error.hint}`).not.toContain(secret);
    }
    const listing = (await (async () => {
      for await (const _ of storage.list());
    })().catch((e: unknown) => e)) as AirbackupError;
    expect(listing.message).toContain("SignatureDoesNotMatch (403)");
  });

  test("a presigned GET works without keys until it expires", async () => {
    const storage = storageFor(s3);
    await storage.write("shared.bin", streamOf(new TextEncoder().encode("staged file"), 100));
    const url = await storage.presign("shared.bin", 1);
    expect(url).not.toContain(s3.secretAccessKey);
    expect(await (await fetch(url)).text()).toBe("staged file");
    await Bun.sleep(2100);
    const late = await fetch(url);
    expect(late.status).toBe(403);
    expect(await late.text()).toContain("Request has expired");
  });
});

function creds(s3: S3Server) {
  return { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
}
