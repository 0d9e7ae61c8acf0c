// `bun run build`: dist/airbackup for this machine; `bun run build --all`: every release target + SHA256SUMS.
import { mkdir } from "node:fs/promises";
import { basename } from "node:path";
import pkg from "./package.json" with { type: "json" };

const TARGETS = [
  ["bun-linux-x64", "airbackup-linux-x64"],
  ["bun-linux-arm64", "airbackup-linux-arm64"],
  ["bun-darwin-x64", "airbackup-darwin-x64"],
  ["bun-darwin-arm64", "airbackup-darwin-arm64"],
  ["bun-windows-x64", "airbackup-windows-x64.exe"],
] as const;

const all = process.argv.includes("--all");
await mkdir("dist", { recursive: true });

const jobs: { target?: string; outfile: string }[] = all
  ? TARGETS.map(([target, name]) => ({ target, outfile: `dist/${name}` }))
  : [{ outfile: "dist/airbackup" }];

for (const job of jobs) {
  const args = [
    process.execPath,
    "build",
    "--compile",
    "--minify",
    "--sourcemap=none",
    "src/cli.ts",
    "--outfile",
    job.outfile,
  ];
  if (job.target) args.push(`--target=${job.target}`);
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "inherit" });
  if ((await proc.exited) !== 0) {
    console.error(`build failed for ${job.target ?? "this machine"}`);
    process.exit(1);
  }
  console.log(`built ${job.outfile} (airbackup ${pkg.version}${job.target ? `, ${job.target}` : ""})`);
}

if (all) {
  const lines: string[] = [];
  for (const { outfile } of jobs) {
    const hasher = new Bun.CryptoHasher("sha256");
    for await (const chunk of Bun.file(outfile).stream()) hasher.update(chunk);
    lines.push(`${hasher.digest("hex")}  ${basename(outfile)}`);
  }
  await Bun.write("dist/SHA256SUMS", `${lines.join("\n")}\n`);
  console.log("wrote dist/SHA256SUMS");
}
