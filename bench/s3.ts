// S3 upload throughput and memory: airbackup's uploader (S3Storage.write: multipart, 8 MiB parts, 4 in
// flight, Content-MD5 on each) vs `curl -T` (one signed PUT) of the same generated file to the same local
// s3rver. Each client runs in its own process, so its peak RSS is its own.
// Usage: bun bench/s3.ts [--mb 1024] [--front]
//   default: both clients talk to s3rver directly (both still sign; s3rver does not check signatures).
//   --front: both go through the test front that checks every SigV4 signature (and Content-MD5).
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Storage } from "../src/storage/s3.ts";

const args = process.argv.slice(2);
if (args[0] === "--child") await child(args[1]!, args[2]!);
else await main();

async function main(): Promise<void> {
  const mb = Number(args[args.indexOf("--mb") + 1]) || 1024;
  const viaFront = args.includes("--front");
  const dir = mkdtempSync(join(tmpdir(), "airbackup-bench-s3-"));
  // Loaded here only: the child (the measured uploader) loads nothing but airbackup's own code.
  const { startS3Server } = await import("../test/support/s3-server.ts");
  const s3 = await startS3Server();
  try {
    const file = join(dir, "bench-appBENCHBENCHBEN1-20260101T000000Z.zip");
    await makeRandom(file, mb * 1024 * 1024);
    const size = statSync(file).size;
    const endpoint = viaFront ? s3.endpoint : s3.backendEndpoint;
    // s3rver knows only its own key pair; the front knows the test's.
    const keys = viaFront ? [s3.accessKeyId, s3.secretAccessKey] : ["S3RVER", "S3RVER"];
    const env = {
      ...process.env,
      ...s3.env,
      AWS_ACCESS_KEY_ID: keys[0],
      AWS_SECRET_ACCESS_KEY: keys[1],
      AWS_ENDPOINT_URL_S3: endpoint,
      BENCH_BUCKET: s3.bucket,
    };
    const ours = await timed([process.execPath, import.meta.path, "--child", file, "airbackup/"], env);
    const curl = await timed(
      [
        "curl",
        "-sS",
        "--fail",
        "-o",
        "/dev/null",
        "--aws-sigv4",
        `aws:amz:${s3.region}:s3`,
        "--user",
        `${keys[0]}:${keys[1]}`,
        "-H",
        "x-amz-content-sha256: UNSIGNED-PAYLOAD",
        "-T",
        file,
        `${endpoint}/${s3.bucket}/curl/${file.split("/").at(-1)}`,
      ],
      env,
    );
    const stored = await s3.objects();
    for (const o of stored) if (o.size !== size) throw new Error(`${o.key} is ${o.size} bytes, expected ${size}`);
    if (stored.length !== 2) throw new Error(`expected 2 objects, got ${JSON.stringify(stored)}`);
    const mbps = (r: { seconds: number }) => size / 1e6 / r.seconds;
    const complete = (JSON.parse(ours.stdout.trim().split("\n").at(-1)!) as { completeSeconds: number })
      .completeSeconds;
    console.log(
      `S3 upload of a ${(size / 2 ** 20).toFixed(0)} MiB file to local s3rver (${viaFront ? "through the SigV4-checking front" : "direct"}), one run each`,
    );
    console.log("| client | wall | MB/s | peak RSS |");
    console.log("| --- | --- | --- | --- |");
    for (const [label, r] of [
      ["airbackup (multipart, 8 MiB parts, 4 in flight, Content-MD5)", ours],
      ["curl -T (one PUT)", curl],
    ] as const)
      console.log(
        `| ${label} | ${r.seconds.toFixed(1)} s | ${mbps(r).toFixed(0)} | ${(r.maxRss / 1e6).toFixed(0)} MB |`,
      );
    console.log(`throughput ratio airbackup/curl: ${(mbps(ours) / mbps(curl)).toFixed(2)}`);
    const partsOnly = { seconds: ours.seconds - complete };
    console.log(
      `of airbackup's ${ours.seconds.toFixed(1)} s, s3rver's CompleteMultipartUpload (it copies the parts into one file) took ${complete.toFixed(1)} s; without it: ${mbps(partsOnly).toFixed(0)} MB/s, ratio ${(mbps(partsOnly) / mbps(curl)).toFixed(2)}`,
    );
  } finally {
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function child(file: string, prefix: string): Promise<void> {
  const env = process.env;
  const storage = new S3Storage({
    endpoint: env.AWS_ENDPOINT_URL_S3!,
    region: env.AWS_REGION!,
    bucket: env.BENCH_BUCKET!,
    prefix,
    pathStyle: true,
    accessKeyId: env.AWS_ACCESS_KEY_ID!,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY!,
  });
  // Time the server's CompleteMultipartUpload apart: s3rver copies every part into one file there (and
  // hashes it again), which S3 itself does not; curl's single PUT has no such step.
  const realFetch = globalThis.fetch;
  let completeMs = 0;
  globalThis.fetch = (async (input: Request, init?: RequestInit) => {
    const t = performance.now();
    const response = await realFetch(input, init);
    if (input.method === "POST" && input.url.includes("uploadId=")) completeMs += performance.now() - t;
    return response;
  }) as typeof fetch;
  const source = Bun.file(file);
  const started = performance.now();
  await storage.write(file.split("/").at(-1)!, source, { size: source.size });
  console.log(
    JSON.stringify({ completeSeconds: completeMs / 1000, writeSeconds: (performance.now() - started) / 1000 }),
  );
}

/** Wall time and peak RSS (GNU time when installed, else the OS's rusage), and what the child printed. */
async function timed(command: string[], env: Record<string, string | undefined>) {
  const gnuTime = Bun.which("time", { PATH: "/usr/bin:/bin" });
  const start = performance.now();
  const proc = Bun.spawn(gnuTime ? [gnuTime, "-f", "maxrss-kb=%M", ...command] : command, {
    env,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const code = await proc.exited;
  const seconds = (performance.now() - start) / 1000;
  if (code !== 0) throw new Error(`${command[0]} exited ${code}: ${stderr}`);
  const kb = /maxrss-kb=(\d+)/.exec(stderr)?.[1];
  return { seconds, maxRss: kb ? Number(kb) * 1024 : (proc.resourceUsage()?.maxRSS ?? 0), stdout };
}

async function makeRandom(path: string, bytes: number): Promise<void> {
  const handle = await open(path, "w");
  const chunk = new Uint8Array(8 * 1024 * 1024);
  try {
    for (let at = 0; at < bytes; at += chunk.length) {
      crypto.getRandomValues(chunk.subarray(0, 65536));
      for (let i = 65536; i < chunk.length; i += 65536) chunk.copyWithin(i, 0, 65536);
      chunk[0] = at & 0xff;
      await handle.write(chunk.subarray(0, Math.min(chunk.length, bytes - at)));
    }
  } finally {
    await handle.close();
  }
}
