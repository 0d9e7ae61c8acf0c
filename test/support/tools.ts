// Outside programs some tests drive: zip readers and writers we did not write. Detected here, once.
// Missing on a developer's machine: the tests that need them are skipped, and the run prints one note
// naming the Debian packages that bring them. Under CI=true a missing tool fails those tests instead.
import { readdirSync } from "node:fs";

/** Each tool and the Debian package that installs it. */
export const DEBIAN_PACKAGES = {
  unzip: "unzip",
  zipinfo: "unzip",
  zip: "zip",
  bsdtar: "libarchive-tools",
  "7z": "p7zip-full",
  python3: "python3",
  sqlite3: "sqlite3",
  psql: "postgresql",
  initdb: "postgresql",
  pg_ctl: "postgresql",
} as const satisfies Record<string, string>;

/** What the PostgreSQL tests need (initdb and pg_ctl live off PATH on Debian: see postgres.ts). */
export const POSTGRES_TOOLS = ["psql", "initdb", "pg_ctl"] as const satisfies readonly Tool[];

export type Tool = keyof typeof DEBIAN_PACKAGES;

/** The readers `checkWithAllReaders` runs besides yauzl. */
export const ZIP_READERS = ["unzip", "7z", "python3", "bsdtar"] as const satisfies readonly Tool[];

/** The tools in `tools` that `which` cannot find, in the order given. */
export function missingTools(tools: readonly Tool[], which: (name: string) => string | null = cachedWhich): Tool[] {
  return tools.filter((tool) => which(tool) === null);
}

/** `CI=true` (or `CI=1`): a missing tool is a failure, never a skip. */
export function isCI(env: Record<string, string | undefined> = process.env): boolean {
  return env.CI === "true" || env.CI === "1";
}

/** "not installed: 7z, bsdtar (apt-get install p7zip-full libarchive-tools)". */
export function describeMissing(missing: readonly Tool[]): string {
  const packages = [...new Set(missing.map((tool) => DEBIAN_PACKAGES[tool]))];
  return `not installed: ${missing.join(", ")} (apt-get install ${packages.join(" ")})`;
}

/**
 * For `test.skipIf(skipWithout(...))`: true when one of `tools` is missing, so the test is skipped and
 * the run's note names it. Under CI=true always false: the test runs and `requireTool` fails it.
 */
export function skipWithout(...tools: Tool[]): boolean {
  const missing = missingTools(tools);
  if (missing.length === 0 || isCI()) return false;
  if (!noted) {
    noted = true;
    // One line for the whole run, printed when the first test is skipped; it names every missing tool.
    const all = missingTools(Object.keys(DEBIAN_PACKAGES) as Tool[]);
    console.warn(`NOTE: skipping tests that need tools ${describeMissing(all)}; under CI=true they fail`);
  }
  return true;
}

/** Throws "7z is not installed (apt-get install p7zip-full) ..." unless `tool` is on PATH. */
export function requireTool(tool: Tool): void {
  if (cachedWhich(tool) !== null) return;
  throw new Error(
    `${tool} is not installed (apt-get install ${DEBIAN_PACKAGES[tool]}); the tests need it${isCI() ? " and CI=true makes that a failure" : ""}`,
  );
}

// --- internal ---

const found = new Map<string, string | null>();
let noted = false;

function cachedWhich(name: string): string | null {
  if (!found.has(name)) found.set(name, Bun.which(name) ?? Bun.which(name, { PATH: SERVER_BIN_DIRS.join(":") }));
  return found.get(name) ?? null;
}

/** Debian keeps PostgreSQL's server programs in /usr/lib/postgresql/<version>/bin, off PATH. */
const SERVER_BIN_DIRS: string[] = (() => {
  try {
    return readdirSync("/usr/lib/postgresql")
      .sort((a, b) => Number(b) - Number(a))
      .map((v) => `/usr/lib/postgresql/${v}/bin`);
  } catch {
    return [];
  }
})();
