// A throwaway PostgreSQL server for a test file: initdb + pg_ctl in a temporary directory on a free port
// (as the `postgres` user when the tests run as root, since the server refuses root), stopped in every path.
// TCP connections need the password (scram-sha-256), so tests exercise a real password; psql reads back
// through the Unix socket in the same directory.
import { chownSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const PG_PASSWORD = "pg-Secret-4d1e9f";

export interface PostgresServer {
  /** postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres */
  readonly url: string;
  readonly port: number;
  /** Runs SQL through psql (unaligned, tuples only, `|` separated); throws with psql's stderr on failure. */
  psql(sql: string): Promise<string>;
  /** The psql command line that runs each of `commands` (SQL or backslash commands such as \copy). */
  psqlCommand(commands: string[]): string[];
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The directory holding initdb and pg_ctl (Debian keeps them off PATH), or undefined. */
export function postgresBinDir(): string | undefined {
  try {
    const versions = readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const dir = `/usr/lib/postgresql/${v}/bin`;
      if (Bun.which("initdb", { PATH: dir })) return dir;
    }
  } catch {}
  const initdb = Bun.which("initdb");
  return initdb ? initdb.slice(0, initdb.lastIndexOf("/")) : undefined;
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("initdb not found (apt-get install postgresql)");
  const dir = mkdtempSync(join(tmpdir(), "airbackup-pg-"));
  const asRoot = process.getuid?.() === 0;
  const as = asRoot ? ["runuser", "-u", "postgres", "--"] : [];
  if (asRoot) {
    const uid = Number((await run(["id", "-u", "postgres"])).trim());
    const gid = Number((await run(["id", "-g", "postgres"])).trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, "data");
  const pwfile = join(dir, "pw");
  await Bun.write(pwfile, `${PG_PASSWORD}\n`);
  if (asRoot) chownSync(pwfile, Number((await run(["id", "-u", "postgres"])).trim()), 0);
  const port = await freePort();
  let started = false;
  const stop = async () => {
    if (started) await run([...as, join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"]).catch(() => {});
    started = false;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run([
      ...as,
      join(bin, "initdb"),
      "-D",
      data,
      "-U",
      "postgres",
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      `--pwfile=${pwfile}`,
      "-E",
      "UTF8",
      "--locale=C",
      "--no-sync",
    ]);
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    started = true;
    await run([...as, join(bin, "pg_ctl"), "-D", data, "-o", options, "-l", join(dir, "log"), "-w", "start"]);
  } catch (error) {
    await stop();
    throw error;
  }
  const psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", dir, "-p", String(port), "-U", "postgres", "-At"];
  return {
    url: `postgres://postgres:${PG_PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    psql: (sql) => run([...psql, "-c", sql]),
    psqlCommand: (commands) => [...psql, ...commands.flatMap((c) => ["-c", c])],
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

// --- internal ---

async function run(command: string[]): Promise<string> {
  const proc = Bun.spawn(command, { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${command.join(" ")} exited ${code}: ${stderr}`);
  return stdout;
}

async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}
