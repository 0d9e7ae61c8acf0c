// S3 upload throughput and memory: airbackup's uploader (S3Storage.write of the archive file, with the
// defaults `backup` uses: multipart, parts sent as slices of the file, 1/16 of it each (8 to 64 MiB), three
// in flight while the next is hashed, Content-MD5 on each) vs `curl -T` (one signed PUT) of the same
// generated file to the same local server. Each client runs in its own process, so its peak RSS is its
// own. airbackup goes through the test server's SigV4-checking front (every signature and part MD5
// checked); curl is timed both through the front (which stores a PUT's body and a part's with the same
// writer) and straight to s3rver (its own writer). Before each client the page
// cache's dirty pages are written out (`sync`, not timed), so no client pays for the one before it.
// Content-MD5 costs whoever sends it an MD5 pass over the file (1.4 CPU-s per GiB here), on the cores the
// store uses too; so curl is also timed with that pass counted: `md5sum` first and then the PUT with
// Content-MD5 (what a script does), and `md5sum` run alongside a plain PUT (the least any client pays).
// Usage: bun bench/s3.ts [--mb 1024]
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Storage } from "../src/storage/s3.ts";
import { BLOB_PARTS_IN_FLIGHT, partSizeFor } from "../src/storage/s3-upload.ts";

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
    const curlArgs = (endpoint: string, keys: string, key: string, headers: string[] = []) => [
      ...["curl", "-sS", "--fail", "-o", "/dev/null", "--aws-sigv4", `aws:amz:${s3.region}:s3`, "--user", keys],
      ...["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", ...headers.flatMap((h) => ["-H", h])],
      ...["-T", file, `${endpoint}/${s3.bucket}/${key}`],
    ];
    const frontKeys = `${s3.accessKeyId}:${s3.secretAccessKey}`;
    const md5sum = ["md5sum", file];
    type Client = "airbackup" | "curl-front" | "curl-direct" | "curl-md5-first" | "curl-md5-alongside";
    const run: Record<Client, () => Promise<Timing>> = {
      airbackup: () => timed([[process.execPath, import.meta.path, "--child", file, "airbackup/"]], env),
      "curl-front": () => timed([curlArgs(s3.endpoint, frontKeys, "curl-front/x.zip")], env),
      // s3rver knows only its own key pair; the front knows the test's.
      "curl-direct": () => timed([curlArgs(s3.backendEndpoint, "S3RVER:S3RVER", "curl-direct/x.zip")], env),
      // What a script that wants the same check does: hash the file (coreutils), then PUT with Content-MD5.
      "curl-md5-first": async () => {
        const hashed = await timed([md5sum], env);
        const md5 = Buffer.from(hashed.stdout.slice(0, 32), "hex").toString("base64");
        const sent = await timed([curlArgs(s3.endpoint, frontKeys, "curl-md5/x.zip", [`content-md5: ${md5}`])], env);
        return sumOf(hashed, sent);
      },
      // The same MD5 pass run beside the PUT: the least any client that sends Content-MD5 pays here.
      "curl-md5-alongside": () => timed([md5sum, curlArgs(s3.endpoint, frontKeys, "curl-alongside/x.zip")], env),
    };
    // Two rounds in mirrored order, so neither order nor the disk's state favours a client; each object
    // is checked and deleted right after its upload, so every client writes to an equally empty store.
    const order: Client[] = ["curl-direct", "airbackup", "curl-front", "curl-md5-first", "curl-md5-alongside"];
    const runs = Object.fromEntries(order.map((client) => [client, [] as Timing[]])) as Record<Client, Timing[]>;
    for (const client of [...order, ...order.toReversed()]) {
      runs[client].push(await run[client]());
      const stored = await s3.objects();
      if (stored.length !== 1 || stored[0]!.size !== size)
        throw new Error(`${client}: expected one object of ${size} bytes, got ${JSON.stringify(stored)}`);
      const removed = await fetch(`${s3.backendEndpoint}/${s3.bucket}/${stored[0]!.key}`, { method: "DELETE" });
      if (!removed.ok) throw new Error(`could not delete ${stored[0]!.key}: ${removed.status}`);
    }
    const best = (client: Client) => runs[client].reduce((a, b) => (a.seconds <= b.seconds ? a : b));
    const mbps = (r: { seconds: number }) => size / 1e6 / r.seconds;
    console.log(`S3 upload of a ${(size / 2 ** 20).toFixed(0)} MiB file to the local s3rver, best of two runs each`);
    console.log("| client | path | wall (best; other) | MB/s | peak RSS | CPU-s client + store |");
    console.log("| --- | --- | --- | --- | --- | --- |");
    for (const [label, path, client] of [
      [
        `airbackup (multipart, ${partMiB(size)} MiB parts, ${BLOB_PARTS_IN_FLIGHT} in flight, Content-MD5)`,
        "SigV4 front",
        "airbackup",
      ],
      ["curl -T (one PUT)", "SigV4 front", "curl-front"],
      ["curl -T (one PUT)", "s3rver direct", "curl-direct"],
      ["md5sum, then curl -T with Content-MD5", "SigV4 front", "curl-md5-first"],
      ["curl -T with md5sum of the file alongside", "SigV4 front", "curl-md5-alongside"],
    ] as const) {
      const r = best(client);
      const other = runs[client].find((x) => x !== r)!;
      const rss = Math.max(...runs[client].map((x) => x.maxRss));
      console.log(
        `| ${label} | ${path} | ${r.seconds.toFixed(1)} s; ${other.seconds.toFixed(1)} s | ${mbps(r).toFixed(0)} | ${(rss / 1e6).toFixed(0)} MB | ${r.clientCpu.toFixed(1)} + ${r.storeCpu.toFixed(1)} |`,
      );
    }
    const ours = mbps(best("airbackup"));
    const front = mbps(best("curl-front"));
    const direct = mbps(best("curl-direct"));
    console.log(`throughput ratio airbackup / curl through the same front: ${(ours / front).toFixed(2)}`);
    console.log(`throughput ratio airbackup / the faster curl: ${(ours / Math.max(front, direct)).toFixed(2)}`);
    console.log(
      `with Content-MD5's hashing counted for curl too: airbackup / (md5sum, then curl) ${(ours / mbps(best("curl-md5-first"))).toFixed(2)}, airbackup / (curl with md5sum alongside) ${(ours / mbps(best("curl-md5-alongside"))).toFixed(2)}; curl with md5sum alongside / curl alone ${(mbps(best("curl-md5-alongside")) / front).toFixed(2)}`,
    );
    // Client and store share this machine's cores: the wall time can be no less than all the CPU-seconds
    // spent, client's and store's, spread over every core.
    const cores = navigator.hardwareConcurrency;
    const floor = (client: Client) => (best(client).clientCpu + best(client).storeCpu) / cores;
    console.log(
      `CPU-bound floor on ${cores} cores, (client + store CPU-s) / ${cores}: airbackup ${floor("airbackup").toFixed(1)} s, curl through the front ${floor("curl-front").toFixed(1)} s; ratio of floors ${(floor("curl-front") / floor("airbackup")).toFixed(2)}`,
    );
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

interface Timing {
  seconds: number;
  maxRss: number;
  clientCpu: number;
  storeCpu: number;
  stdout: string;
}

/**
 * Runs the commands at once, after a `sync`: wall time until the last exits, the highest peak RSS, the
 * clients' CPU-seconds summed (GNU time when installed, else the OS's rusage), the first one's output;
 * and the CPU-seconds the store (the front and s3rver, in this process) spent meanwhile.
 */
async function timed(commands: string[][], env: Record<string, string | undefined>): Promise<Timing> {
  Bun.spawnSync(["sync"]);
  const gnuTime = Bun.which("time", { PATH: "/usr/bin:/bin" });
  const start = performance.now();
  const storeBefore = process.cpuUsage();
  const each = await Promise.all(
    commands.map(async (command) => {
      const proc = Bun.spawn(gnuTime ? [gnuTime, "-f", "maxrss-kb=%M cpu=%U+%S", ...command] : command, {
        env,
        stdout: "pipe",
        stderr: "pipe",
      });
      const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
      const code = await proc.exited;
      if (code !== 0) throw new Error(`${command[0]} exited ${code}: ${stderr}`);
      const kb = /maxrss-kb=(\d+)/.exec(stderr)?.[1];
      const cpu = /cpu=([\d.]+)\+([\d.]+)/.exec(stderr);
      const usage = proc.resourceUsage();
      return {
        stdout,
        maxRss: kb ? Number(kb) * 1024 : (usage?.maxRSS ?? 0),
        cpu: cpu ? Number(cpu[1]) + Number(cpu[2]) : Number(usage?.cpuTime.total ?? 0) / 1e6,
      };
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const store = process.cpuUsage(storeBefore);
  return {
    seconds,
    maxRss: Math.max(...each.map((e) => e.maxRss)),
    clientCpu: each.reduce((sum, e) => sum + e.cpu, 0),
    storeCpu: (store.user + store.system) / 1e6,
    stdout: each[0]!.stdout,
  };
}

/** Two steps run one after the other, as one client's run. */
function sumOf(a: Timing, b: Timing): Timing {
  return {
    seconds: a.seconds + b.seconds,
    maxRss: Math.max(a.maxRss, b.maxRss),
    clientCpu: a.clientCpu + b.clientCpu,
    storeCpu: a.storeCpu + b.storeCpu,
    stdout: b.stdout,
  };
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
