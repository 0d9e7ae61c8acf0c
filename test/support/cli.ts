// Runs the compiled airbackup binary (built once per test run if missing or older than the sources).
import { statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "../..");
export const BINARY = join(ROOT, "dist", process.platform === "win32" ? "airbackup.exe" : "airbackup");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  stdin?: string;
  /** Kill the process with this signal once `when(stderrSoFar)` is true (for interruption tests). */
  interrupt?: { signal: NodeJS.Signals; when: (stderr: string) => boolean };
  /** Send the signal this promise resolves with (e.g. when a simulator hook sees the moment for a kill -9). */
  signalOn?: Promise<NodeJS.Signals>;
}

let building: Promise<void> | undefined;

/** Builds dist/airbackup unless it is newer than every file under src/. */
export function ensureBinary(): Promise<void> {
  building ??= (async () => {
    if (await isFresh()) return;
    const proc = Bun.spawn([process.execPath, "run", "build"], { cwd: ROOT, stdout: "ignore", stderr: "pipe" });
    if ((await proc.exited) !== 0) throw new Error(`bun run build failed: ${await new Response(proc.stderr).text()}`);
  })();
  return building;
}

/** Runs the compiled binary with a clean environment: only PATH, HOME and what `env` adds. */
export async function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  await ensureBinary();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    NO_COLOR: "1",
  };
  // undefined removes a default (e.g. NO_COLOR: undefined to see what a plain pipe gets).
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const proc = Bun.spawn([BINARY, ...args], {
    cwd: options.cwd ?? ROOT,
    env,
    stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  void options.signalOn?.then((signal) => proc.kill(signal));
  const stdoutPromise = new Response(proc.stdout).text();
  let stderr = "";
  const decoder = new TextDecoder();
  let interrupted = false;
  for await (const chunk of proc.stderr) {
    stderr += decoder.decode(chunk, { stream: true });
    if (options.interrupt && !interrupted && options.interrupt.when(stderr)) {
      interrupted = true;
      proc.kill(options.interrupt.signal);
    }
  }
  const code = await proc.exited;
  return { code, stdout: await stdoutPromise, stderr };
}

// --- internal ---

async function isFresh(): Promise<boolean> {
  let built: number;
  try {
    built = statSync(BINARY).mtimeMs;
  } catch {
    return false;
  }
  const files = await readdir(join(ROOT, "src"), { recursive: true });
  const sources = [...files.map((f) => join(ROOT, "src", f)), join(ROOT, "package.json")];
  return sources.every((file) => statSync(file).mtimeMs <= built);
}
