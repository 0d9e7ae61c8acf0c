// Zip readers we did not write: yauzl, Info-ZIP `unzip`, Python's zipfile, libarchive's bsdtar and 7-Zip.
// A missing tool throws (see tools.ts: tests that need one are skipped locally, fail under CI=true).
import { createHash } from "node:crypto";
import yauzl from "yauzl";
import { requireTool, type Tool } from "./tools.ts";

/** name -> sha256 (hex) of the entry's bytes. */
export type Listing = Map<string, string>;

/** Reads every entry with yauzl (sizes validated) and returns name -> sha256. */
export function readWithYauzl(path: string): Promise<Listing> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, validateEntrySizes: true, strictFileNames: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const listing: Listing = new Map();
      zip.on("error", reject);
      zip.on("end", () => resolve(listing));
      zip.on("entry", (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (err, stream) => {
          if (err || !stream) return reject(err);
          const hash = createHash("sha256");
          stream.on("data", (chunk: Buffer) => hash.update(chunk));
          stream.on("error", reject);
          stream.on("end", () => {
            listing.set(entry.fileName, hash.digest("hex"));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

/** Entry names as yauzl lists them from the central directory (no data read: fast for huge archives). */
export function listWithYauzl(path: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: false, strictFileNames: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const names: string[] = [];
      zip.on("error", reject);
      zip.on("entry", (entry: yauzl.Entry) => names.push(entry.fileName));
      zip.on("end", () => resolve(names));
    });
  });
}

/** `unzip -t`: returns its output; throws if it reports any error. */
export function testWithUnzip(path: string): string {
  return run(["unzip", "-t", path], "unzip");
}

/** Python's zipfile: testzip() (CRC of every entry) plus name -> sha256. */
export function readWithPython(path: string): Listing {
  const script = [
    "import hashlib, json, sys, zipfile",
    "z = zipfile.ZipFile(sys.argv[1])",
    "bad = z.testzip()",
    "assert bad is None, 'bad entry: ' + str(bad)",
    "print(json.dumps({i.filename: hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist()}))",
  ].join("\n");
  return new Map(Object.entries(JSON.parse(run(["python3", "-c", script, path], "python3")) as Record<string, string>));
}

/** bsdtar -tf: the entry names libarchive sees. */
export function listWithBsdtar(path: string): string[] {
  return run(["bsdtar", "-tf", path], "bsdtar")
    .split("\n")
    .filter((l) => l.length > 0);
}

/** bsdtar -xOf: one entry's bytes, as sha256. */
export function hashWithBsdtar(path: string, name: string): string {
  requireTool("bsdtar");
  const result = Bun.spawnSync(["bsdtar", "-xOf", path, name], { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`bsdtar -xOf ${name} failed: ${result.stderr.toString()}`);
  return createHash("sha256").update(result.stdout).digest("hex");
}

/** bsdtar reading the zip from a pipe (no seeking: it must trust local headers and descriptors): sha256 of all entries' bytes in order. */
export function hashStreamWithBsdtar(path: string): string {
  requireTool("bsdtar");
  const result = Bun.spawnSync(["sh", "-c", 'cat "$1" | bsdtar -xOf -', "sh", path], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (result.exitCode !== 0) throw new Error(`bsdtar (streaming) failed: ${result.stderr.toString()}`);
  return createHash("sha256").update(result.stdout).digest("hex");
}

/** `7z t`: throws unless 7-Zip reports "Everything is Ok". */
export function testWith7z(path: string): string {
  const out = run(["7z", "t", path], "7z");
  if (!out.includes("Everything is Ok")) throw new Error(`7z t did not report success:\n${out}`);
  return out;
}

/** Every oracle at once; returns the yauzl listing after checking the others agree with it. */
export async function checkWithAllReaders(path: string): Promise<Listing> {
  const listing = await readWithYauzl(path);
  testWithUnzip(path);
  testWith7z(path);
  const python = readWithPython(path);
  if (JSON.stringify([...python].sort()) !== JSON.stringify([...listing].sort()))
    throw new Error("python's zipfile disagrees with yauzl");
  const names = listWithBsdtar(path);
  if (JSON.stringify(names.sort()) !== JSON.stringify([...listing.keys()].sort()))
    throw new Error(`bsdtar lists ${names.join(", ")}`);
  for (const [name, sha] of [...listing].slice(0, 20)) {
    if (hashWithBsdtar(path, name) !== sha) throw new Error(`bsdtar extracts different bytes for ${name}`);
  }
  return listing;
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

// --- internal ---

function run(command: string[], tool: Tool): string {
  requireTool(tool);
  const result = Bun.spawnSync(command, { stdout: "pipe", stderr: "pipe" });
  const out = result.stdout.toString() + result.stderr.toString();
  if (result.exitCode !== 0) throw new Error(`${command.join(" ")} exited ${result.exitCode}:\n${out.slice(0, 4000)}`);
  return out;
}
