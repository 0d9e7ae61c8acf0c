// Archive throughput: our streaming writer and reader vs Info-ZIP `zip -6`/`unzip` and libarchive's bsdtar,
// on the same compressible JSON and incompressible bytes, each run in its own process for a fair peak RSS.
// Usage: bun bench/archive.ts [--mb 200] [--huge]   (--huge: one stored entry over 4 GiB, checked by unzip -t)
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFileSink } from "../src/archive/file-sink.ts";
import { openZip } from "../src/archive/zip-reader.ts";
import { createZipWriter } from "../src/archive/zip-writer.ts";

const args = process.argv.slice(2);
if (args[0] === "--child") await child(args.slice(1));
else await main();

async function main(): Promise<void> {
  const mb = Number(args[args.indexOf("--mb") + 1]) || 200;
  const dir = mkdtempSync(join(tmpdir(), "airbackup-bench-"));
  try {
    const inputs = { json: join(dir, "records.jsonl"), bytes: join(dir, "random.bin") };
    await makeJson(inputs.json, mb * 1e6);
    await makeRandom(inputs.bytes, mb * 1e6);
    const rows: string[][] = [];
    for (const [kind, input] of Object.entries(inputs)) {
      const size = statSync(input).size;
      const ours = join(dir, `ours-${kind}.zip`);
      const info = join(dir, `zip-${kind}.zip`);
      const tar = join(dir, `bsdtar-${kind}.zip`);
      const runs: [string, string[], string][] = [
        ["airbackup write", [process.execPath, import.meta.path, "--child", "write", input, ours], ours],
        ["zip -6", ["zip", "-q", "-6", "-j", info, input], info],
        ["bsdtar -a -cf", ["bsdtar", "-a", "-cf", tar, "-C", dir, input.slice(dir.length + 1)], tar],
        ["airbackup read", [process.execPath, import.meta.path, "--child", "read", ours], ours],
        ["unzip -p", ["sh", "-c", `unzip -p '${info}' > /dev/null`], info],
        ["bsdtar -xOf", ["sh", "-c", `bsdtar -xOf '${tar}' > /dev/null`], tar],
      ];
      for (const [label, command, output] of runs) {
        const { seconds, maxRss } = await timed(command);
        rows.push([
          kind,
          label,
          fmt(size / 1e6 / seconds, 1),
          fmt(seconds, 2),
          fmt(statSync(output).size / 1e6, 1),
          fmt(maxRss / 1e6, 0),
        ]);
      }
    }
    printTable(
      ["input", "tool", "MB/s", "seconds", "zip MB", "peak RSS MB"],
      rows,
      `${mb} MB inputs (MB = 10^6 bytes of uncompressed data)`,
    );
    if (args.includes("--huge")) await huge(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function huge(dir: string): Promise<void> {
  const path = join(dir, "huge.zip");
  const size = 4.5 * 2 ** 30;
  const write = await timed([process.execPath, import.meta.path, "--child", "huge", path, String(size)]);
  const test = await timed(["unzip", "-tq", path]);
  const read = await timed([process.execPath, import.meta.path, "--child", "read", path]);
  const rows = [
    [
      "airbackup write (stored)",
      fmt(size / 1e6 / write.seconds, 1),
      fmt(write.seconds, 1),
      fmt(write.maxRss / 1e6, 0),
      "ok",
    ],
    [
      "unzip -t",
      fmt(size / 1e6 / test.seconds, 1),
      fmt(test.seconds, 1),
      fmt(test.maxRss / 1e6, 0),
      test.code === 0 ? "ok" : `FAILED (${test.code})`,
    ],
    [
      "airbackup read",
      fmt(size / 1e6 / read.seconds, 1),
      fmt(read.seconds, 1),
      fmt(read.maxRss / 1e6, 0),
      read.code === 0 ? "ok" : "FAILED",
    ],
  ];
  printTable(
    ["one 4.5 GiB entry", "MB/s", "seconds", "peak RSS MB", "result"],
    rows,
    `zip file ${fmt(statSync(path).size / 2 ** 30, 2)} GiB`,
  );
  if (test.code !== 0 || read.code !== 0) process.exitCode = 1;
}

// --- internal ---

async function child([op, a, b]: string[]): Promise<void> {
  if (op === "write" || op === "huge") {
    // write: a = input file, b = zip; huge: a = zip, b = entry size
    const sink = await createFileSink(op === "write" ? b! : a!);
    const zip = createZipWriter(sink);
    if (op === "write") await zip.addEntry("data", Bun.file(a!));
    else await zip.addEntry("huge.bin", repeatBlock(Number(b)), { compress: false });
    await zip.finish();
    await sink.close();
    return;
  }
  const zip = await openZip(a!);
  for (const entry of zip.entries) for await (const _ of zip.readEntry(entry));
  await zip.close();
}

async function* repeatBlock(total: number): AsyncIterable<Uint8Array> {
  const block = crypto.getRandomValues(new Uint8Array(65536));
  const big = new Uint8Array(1 << 20);
  for (let at = 0; at < big.length; at += block.length) big.set(block, at);
  for (let sent = 0; sent < total; sent += big.length) yield big.subarray(0, Math.min(big.length, total - sent));
}

/** Wall time and peak RSS. GNU time measures the RSS: a child's rusage counted from our fork would include our own pages. */
async function timed(command: string[]): Promise<{ seconds: number; maxRss: number; code: number }> {
  const gnuTime = Bun.which("time", { PATH: "/usr/bin:/bin" });
  const start = performance.now();
  const proc = Bun.spawn(gnuTime ? [gnuTime, "-f", "maxrss-kb=%M", ...command] : command, {
    stdout: "ignore",
    stderr: "pipe",
  });
  const stderr = await new Response(proc.stderr).text();
  const code = await proc.exited;
  const seconds = (performance.now() - start) / 1000;
  if (code !== 0) console.error(`${command.join(" ")} exited ${code}: ${stderr}`);
  const kb = /maxrss-kb=(\d+)/.exec(stderr)?.[1];
  return { seconds, maxRss: kb ? Number(kb) * 1024 : (proc.resourceUsage()?.maxRSS ?? 0), code };
}

/** Airtable-like JSONL: varied but compressible (~5-8x with deflate). */
async function makeJson(path: string, bytes: number): Promise<void> {
  const writer = Bun.file(path).writer();
  const words = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
  ];
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (let written = 0, i = 0; written < bytes; i++) {
    const note = Array.from(
      { length: 8 + Math.floor(rand() * 30) },
      () => words[Math.floor(rand() * words.length)],
    ).join(" ");
    const line = `${JSON.stringify({ id: `rec${(i * 7919).toString(36).padStart(14, "0")}`, createdTime: new Date(1.7e12 + i * 1000).toISOString(), fields: { Name: `Contact ${i}`, Amount: Math.round(rand() * 1e6) / 100, Notes: note, Done: rand() > 0.5 } })}\n`;
    writer.write(line);
    written += line.length;
  }
  await writer.end();
}

async function makeRandom(path: string, bytes: number): Promise<void> {
  const writer = Bun.file(path).writer();
  for (let written = 0; written < bytes; written += 1 << 20)
    writer.write(crypto.getRandomValues(new Uint8Array(Math.min(1 << 20, bytes - written))).slice());
  await writer.end();
}

function fmt(n: number, digits: number): string {
  return n.toFixed(digits);
}

function printTable(head: string[], rows: string[][], note: string): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i < 2 && head[0] === "input" ? c.padEnd(widths[i]!) : i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  console.log(`\n${note}`);
  console.log(line(head));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(r));
}
