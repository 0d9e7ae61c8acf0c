// S3 upload throughput and memory: airbackup's uploader (S3Storage.write of the archive file, with the
// defaults `backup` uses: multipart, parts sent as slices of the file, 1/16 of it each (8 to 64 MiB), one
// in flight while the next is hashed, Content-MD5 on each) vs `curl -T` (one signed PUT) of the same
// generated file to the same local server. Each client runs in its own process, so its peak RSS is its
// own. airbackup goes through the test server's SigV4-checking front (every signature and part MD5
// checked); curl is timed both through the front and straight to s3rver. Before each client the page
// cache's dirty pages are written out (`sync`, not timed), so no client pays for the one before it.
// Usage: bun bench/s3.ts [--mb 1024]
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Storage } from "../src/storage/s3.ts";
import { partSizeFor } from "../src/storage/s3-upload.ts";

const args = process.argv.slice(2);
if (args[0] === "--child") await child(args[1]!, args[2]!);
else await main();

async function main(): Promise<void> {
  const mb = Number(args[args.indexOf("--mb") + 1]) || 1024;
  const dir = mkdtempSync(join(tmpdir(), "airbackup-bench-s3-"));
  // Loaded here only: the child (the measured uploader) loads nothing but airbackup's own code.
  const { startS3Server } = await import("../test/support/s3-server.ts");
  const s3 = await startS3Server();
  try {
    const file = join(dir, "bench-appBENCHBENCHBEN1-20260101T000000Z.zip");
    await makeRandom(file, mb * 1024 * 1024);
    const size = statSync(file).size;
    const env = { ...process.env, ...s3.env, BENCH_BUCKET: s3.bucket };
    // s3rver knows only its own key pair; the front knows the test's.
    const curlTo = (endpoint: string, keys: string, key: string) =>
      timed(
        [
          ...["curl", "-sS", "--fail", "-o", "/dev/null", "--aws-sigv4", `aws:amz:${s3.region}:s3`, "--user", keys],
          ...["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-T", file, `${endpoint}/${s3.bucket}/${key}`],
        ],
        env,
      );
    // airbackup runs between the two curls, so neither order nor the page cache favours it.
    const curlDirect = await curlTo(s3.backendEndpoint, "S3RVER:S3RVER", "curl-direct/x.zip");
    const ours = await timed([process.execPath, import.meta.path, "--child", file, "airbackup/"], env);
    const curlFront = await curlTo(s3.endpoint, `${s3.accessKeyId}:${s3.secretAccessKey}`, "curl-front/x.zip");
    const stored = await s3.objects();
    for (const o of stored) if (o.size !== size) throw new Error(`${o.key} is ${o.size} bytes, expected ${size}`);
    if (stored.length !== 3) throw new Error(`expected 3 objects, got ${JSON.stringify(stored)}`);

    const mbps = (r: { seconds: number }) => size / 1e6 / r.seconds;
    console.log(`S3 upload of a ${(size / 2 ** 20).toFixed(0)} MiB file to the local s3rver, one run each`);
    console.log("| client | path | wall | MB/s | peak RSS |");
    console.log("| --- | --- | --- | --- | --- |");
    for (const [label, path, r] of [
      [`airbackup (multipart, ${partMiB(size)} MiB parts, 1 in flight, Content-MD5)`, "SigV4 front", ours],
      ["curl -T (one PUT)", "SigV4 front", curlFront],
      ["curl -T (one PUT)", "s3rver direct", curlDirect],
    ] as const)
      console.log(
        `| ${label} | ${path} | ${r.seconds.toFixed(1)} s | ${mbps(r).toFixed(0)} | ${(r.maxRss / 1e6).toFixed(0)} MB |`,
      );
    const best = Math.max(mbps(curlFront), mbps(curlDirect));
    console.log(
      `throughput ratio airbackup / curl through the same front: ${(mbps(ours) / mbps(curlFront)).toFixed(2)}`,
    );
    console.log(`throughput ratio airbackup / the faster curl: ${(mbps(ours) / best).toFixed(2)}`);
  } finally {
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The measured uploader: what `backup` does after verifying an archive (src/storage/upload.ts). */
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
  const source = Bun.file(file);
  await storage.write(file.split("/").at(-1)!, source, { size: source.size });
}

/** Wall time and peak RSS (GNU time when installed, else the OS's rusage), after a `sync`. */
async function timed(command: string[], env: Record<string, string | undefined>) {
  Bun.spawnSync(["sync"]);
  const gnuTime = Bun.which("time", { PATH: "/usr/bin:/bin" });
  const start = performance.now();
  const proc = Bun.spawn(gnuTime ? [gnuTime, "-f", "maxrss-kb=%M", ...command] : command, {
    env,
    stdout: "inherit",
    stderr: "pipe",
  });
  const stderr = await new Response(proc.stderr).text();
  const code = await proc.exited;
  const seconds = (performance.now() - start) / 1000;
  if (code !== 0) throw new Error(`${command[0]} exited ${code}: ${stderr}`);
  const kb = /maxrss-kb=(\d+)/.exec(stderr)?.[1];
  return { seconds, maxRss: kb ? Number(kb) * 1024 : (proc.resourceUsage()?.maxRSS ?? 0) };
}

function partMiB(size: number): number {
  return partSizeFor(true, size) / 2 ** 20;
}

/** Incompressible bytes (a random 64 KiB block repeated, varied per 8 MiB), written in 8 MiB chunks. */
async function makeRandom(path: string, bytes: number): Promise<void> {
  const handle = await open(path, "w");
  const chunk = new Uint8Array(8 * 1024 * 1024);
  try {
    for (let at = 0; at < bytes; at += chunk.length) {
      crypto.getRandomValues(chunk.subarray(0, 65536));
      for (let i = 65536; i < chunk.length; i += 65536) chunk.copyWithin(i, 0, 65536);
      await handle.write(chunk.subarray(0, Math.min(chunk.length, bytes - at)));
    }
    await handle.sync(); // its write-back must not slow whichever client runs first
  } finally {
    await handle.close();
  }
}
