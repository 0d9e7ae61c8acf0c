// `npm run demo`: starts the bundled Airtable simulator with a sample base and runs airbackup against it:
// bases, backup, verify, inspect. Nothing leaves this machine.
import { join, resolve } from "node:path";
import { startAirtableSim } from "../test/support/airtable-sim/index.ts";
import { sampleBase } from "../test/support/airtable-sim/seeds.ts";

const root = resolve(import.meta.dir, "..");
const out = join(root, "backups", "demo");
const sim = await startAirtableSim({ bases: [sampleBase()] });
const env = {
  ...process.env,
  AIRTABLE_TOKEN: "patTEST.secret",
  AIRTABLE_API_URL: sim.url,
  AIRTABLE_CONTENT_URL: sim.contentUrl,
  AIRBACKUP_CONFIG: "",
};

async function airbackup(...args: string[]): Promise<string> {
  console.error(`\n$ airbackup ${args.join(" ")}`);
  const proc = Bun.spawn([process.execPath, join(root, "src/cli.ts"), ...args], {
    cwd: root,
    env,
    stdout: "pipe",
    stderr: "inherit",
  });
  const stdout = await new Response(proc.stdout).text();
  process.stderr.write(stdout);
  const code = await proc.exited;
  if (code !== 0) {
    console.error(`airbackup ${args[0]} exited with ${code}`);
    await sim.stop();
    process.exit(code);
  }
  return stdout;
}

try {
  console.error(`Airtable simulator listening on ${sim.url} (sample base "${sampleBase().name}")`);
  await airbackup("bases");
  const archive = (await airbackup("backup", "--verbose", "-o", out)).trim().split("\n")[0]!;
  await airbackup("verify", archive);
  await airbackup("inspect", archive);
  console.error(`\nThe archive is at ${archive}\nTry: unzip -l ${archive}`);
} finally {
  await sim.stop();
}
