// The S3 test server's front refuses what S3 refuses: proof that tests passing against it prove signing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AwsClient } from "aws4fetch";
import { type S3Server, startS3Server } from "./s3-server.ts";

let s3: S3Server;
beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(() => s3?.stop());

function client(secretAccessKey = s3.secretAccessKey, accessKeyId = s3.accessKeyId): AwsClient {
  return new AwsClient({ accessKeyId, secretAccessKey, region: s3.region, service: "s3", retries: 0 });
}
const codeOf = async (r: Response) => /<Code>([^<]+)<\/Code>/.exec(await r.text())?.[1];

describe("S3 test server: SigV4 front over s3rver", () => {
  test("a correctly signed PUT and GET pass, path style and virtual-hosted", async () => {
    const c = client();
    const put = await c.fetch(`${s3.endpoint}/${s3.bucket}/dir/a%20b%2Bc%21.txt`, { method: "PUT", body: "hello" });
    expect(put.status).toBe(200);
    const vhost = s3.endpoint.replace("127.0.0.1", `${s3.bucket}.localhost`);
    const get = await c.fetch(`${vhost}/dir/a%20b%2Bc!.txt`);
    expect(get.status).toBe(200);
    expect(await get.text()).toBe("hello");
    expect(await s3.objects()).toEqual([{ key: "dir/a b+c!.txt", size: 5 }]);
  });

  test("a wrong secret is SignatureDoesNotMatch, an unknown key InvalidAccessKeyId, none AccessDenied", async () => {
    const url = `${s3.endpoint}/${s3.bucket}/x.txt`;
    const wrong = await client("not-the-secret").fetch(url, { method: "PUT", body: "x" });
    expect([wrong.status, await codeOf(wrong)]).toEqual([403, "SignatureDoesNotMatch"]);
    const unknown = await client(s3.secretAccessKey, "AKIAUNKNOWN").fetch(url);
    expect([unknown.status, await codeOf(unknown)]).toEqual([403, "InvalidAccessKeyId"]);
    const unsigned = await fetch(url);
    expect([unsigned.status, await codeOf(unsigned)]).toEqual([403, "AccessDenied"]);
    expect(await s3.objects()).not.toContainEqual(expect.objectContaining({ key: "x.txt" }));
  });

  test("a tampered signed request is refused", async () => {
    const signed = await client().sign(`${s3.endpoint}/${s3.bucket}/t.txt`, { method: "GET" });
    const tampered = await fetch(signed.url.replace("t.txt", "u.txt"), { headers: signed.headers });
    expect(await codeOf(tampered)).toBe("SignatureDoesNotMatch");
  });

  test("presigned URLs: from aws4fetch and from Bun's own S3 client; an expired one is refused", async () => {
    await client().fetch(`${s3.endpoint}/${s3.bucket}/p.txt`, { method: "PUT", body: "presigned" });
    const signed = await client().sign(`${s3.endpoint}/${s3.bucket}/p.txt?X-Amz-Expires=60`, {
      method: "GET",
      aws: { signQuery: true },
    });
    expect(await (await fetch(signed.url)).text()).toBe("presigned");
    const bun = new Bun.S3Client({ ...creds(), bucket: s3.bucket, endpoint: s3.endpoint });
    expect(await (await fetch(bun.presign("p.txt", { expiresIn: 60 }))).text()).toBe("presigned");
    const badSecret = new Bun.S3Client({
      ...creds(),
      secretAccessKey: "nope",
      bucket: s3.bucket,
      endpoint: s3.endpoint,
    });
    expect(await codeOf(await fetch(badSecret.presign("p.txt", { expiresIn: 60 })))).toBe("SignatureDoesNotMatch");
    const old = await client().sign(`${s3.endpoint}/${s3.bucket}/p.txt?X-Amz-Expires=1`, {
      method: "GET",
      aws: { signQuery: true, datetime: "20200101T000000Z" },
    });
    const expired = await fetch(old.url);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain("Request has expired");
  });

  test("Content-MD5 is checked; multipart uploads are listed and aborted; a fault fails one part once", async () => {
    const c = client();
    const bad = await c.fetch(`${s3.endpoint}/${s3.bucket}/m.txt`, {
      method: "PUT",
      body: "abc",
      headers: { "content-md5": "AAAAAAAAAAAAAAAAAAAAAA==" },
    });
    expect(await codeOf(bad)).toBe("BadDigest");
    const created = await (await c.fetch(`${s3.endpoint}/${s3.bucket}/big.bin?uploads`, { method: "POST" })).text();
    const uploadId = /<UploadId>([^<]+)</.exec(created)![1]!;
    expect(await s3.openUploads()).toEqual([{ key: "big.bin", uploadId }]);
    s3.faults.failUploadParts = 1;
    const partUrl = `${s3.endpoint}/${s3.bucket}/big.bin?partNumber=1&uploadId=${uploadId}`;
    expect((await c.fetch(partUrl, { method: "PUT", body: "part" })).status).toBe(500);
    expect((await c.fetch(partUrl, { method: "PUT", body: "part" })).status).toBe(200);
    const badPart = await c.fetch(partUrl.replace("partNumber=1", "partNumber=2"), {
      method: "PUT",
      body: "other",
      headers: { "content-md5": "AAAAAAAAAAAAAAAAAAAAAA==" },
    });
    expect(await codeOf(badPart)).toBe("BadDigest");
    const listed = await (await c.fetch(`${s3.endpoint}/${s3.bucket}?uploads`)).text();
    expect(listed).toContain(uploadId);
    const abort = await c.fetch(`${s3.endpoint}/${s3.bucket}/big.bin?uploadId=${uploadId}`, { method: "DELETE" });
    expect(abort.status).toBe(204);
    expect(await s3.openUploads()).toEqual([]);
  });

  test("a multipart upload with parts of mixed lengths, sent out of order, completes into the right bytes", async () => {
    const c = client();
    const url = `${s3.endpoint}/${s3.bucket}/mixed.bin`;
    const created = await (await c.fetch(`${url}?uploads`, { method: "POST" })).text();
    const uploadId = /<UploadId>([^<]+)</.exec(created)![1]!;
    const MiB = 1024 * 1024;
    const bodies = [6 * MiB, 5 * MiB, 1000].map((n, i) => new Uint8Array(n).fill(i + 1));
    const etags: string[] = [];
    for (const i of [1, 0, 2]) {
      const put = await c.fetch(`${url}?partNumber=${i + 1}&uploadId=${uploadId}`, { method: "PUT", body: bodies[i] });
      expect(put.status).toBe(200);
      etags[i] = put.headers.get("etag")!;
    }
    const xml = (order: number[]) =>
      `<CompleteMultipartUpload>${order.map((i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etags[i]}</ETag></Part>`).join("")}</CompleteMultipartUpload>`;
    const unordered = await c.fetch(`${url}?uploadId=${uploadId}`, { method: "POST", body: xml([1, 0, 2]) });
    expect(await codeOf(unordered)).toBe("InvalidPartOrder");
    const done = await c.fetch(`${url}?uploadId=${uploadId}`, { method: "POST", body: xml([0, 1, 2]) });
    expect(done.status).toBe(200);
    const stored = new Uint8Array(await (await c.fetch(url)).arrayBuffer());
    expect(stored.length).toBe(11 * MiB + 1000);
    expect([stored[0], stored[6 * MiB - 1], stored[6 * MiB], stored[11 * MiB], stored.at(-1)]).toEqual([1, 1, 2, 3, 3]);
    const md5s = Buffer.concat(etags.map((e) => Buffer.from(e.replaceAll('"', ""), "hex")));
    const expected = `"${new Bun.CryptoHasher("md5").update(md5s).digest("hex")}-3"`;
    expect((await c.fetch(url, { method: "HEAD" })).headers.get("etag")).toBe(expected);
    expect(await s3.openUploads()).toEqual([]);
  });
});

function creds() {
  return { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, region: s3.region };
}
