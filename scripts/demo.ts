// `npm run demo`: starts the bundled Airtable simulator with a sample base and runs airbackup against it:
// bases, backup, verify, inspect, then restore of that archive into a fresh simulated base, and a one-line
// comparison of what came back (records, links, files). Nothing leaves this machine.
import { join, resolve } from "node:path";
import { type SimTableState, startAirtableSim } from "../test/support/airtable-sim/index.ts";
import { sampleBase } from "../test/support/airtable-sim/seeds.ts";

const root = resolve(import.meta.dir, "..");
const out = join(root, "backups", "demo");
const seed = sampleBase();
const sim = await startAirtableSim({ bases: [seed] });
const env = {
  ...process.env,
  AIRTABLE_TOKEN: "patTEST.secret",
  AIRTABLE_API_URL: sim.url,
  AIRTABLE_CONTENT_URL: sim.contentUrl,
  AIRBACKUP_CONFIG: "",
};

/** Runs one command as a user would, showing it and its output; stops the demo on an unexpected exit code. */
async function airbackup(args: string[], accept: number[] = [0]): Promise<string> {
  console.error(`\n$ airbackup ${args.join(" ")}`);
  const proc = Bun.spawn([process.execPath, join(root, "src/cli.ts"), ...args], {
    cwd: root,
    env,
    stdout: "pipe",
    stderr: "inherit",
  });
  const stdout = await new Response(proc.stdout).text();
  const code = await proc.exited;
  process.stderr.write(stdout);
  if (!accept.includes(code)) {
    console.error(`airbackup ${args[0]} exited with ${code}`);
    await sim.stop();
    process.exit(code);
  }
  return stdout;
}

try {
  const started = performance.now();
  console.error(`Airtable simulator listening on ${sim.url} (sample base "${seed.name}")`);
  await airbackup(["bases"]);
  const archive = (await airbackup(["backup", "--verbose", "-o", out])).trim().split("\n")[0]!;
  await airbackup(["verify", archive]);
  await airbackup(["inspect", archive]);

  // Export (another issue): once `airbackup export` exists, run it on `archive` here.

  // Restore into a new base of a workspace (the simulator creates it), as after losing the original.
  await airbackup(["restore", archive, "--workspace", "wspDEMO0000000001"], [0, 3]);
  const listing = await fetch(`${sim.url}/v0/meta/bases`, {
    headers: { Authorization: `Bearer ${env.AIRTABLE_TOKEN}` },
  });
  const { bases } = (await listing.json()) as { bases: { id: string }[] };
  const restored = sim.base(bases.find((b) => b.id !== seed.id)!.id);
  const back = await compare(sim.base(seed.id).tables, restored.tables);
  console.error(
    `\nback in "${restored.name}" (${restored.id}): records ${back.records}, links ${back.links}, files ${back.files} (same bytes)` +
      `  [${((performance.now() - started) / 1000).toFixed(1)} s]`,
  );
  console.error(`\nThe archive is at ${archive}\nTry: unzip -l ${archive}`);
  if (!back.complete) process.exitCode = 1;
} finally {
  await sim.stop();
}

/**
 * How much of the original came back, as "found/original" per kind. Records match by primary value; a link
 * counts when the restored record links the record of the same primary value; a file when a cell of the same
 * record and field holds a file of the same name and the same bytes.
 */
async function compare(original: SimTableState[], copy: SimTableState[]) {
  const count = { records: [0, 0], links: [0, 0], files: [0, 0] };
  const primary = (t: SimTableState) => t.fields.find((f) => f.id === t.primaryFieldId)?.name ?? "";
  const key = (t: SimTableState, id: string) =>
    JSON.stringify(t.records.find((r) => r.id === id)?.fields[primary(t)] ?? null);
  const sha256 = async (url: string) =>
    new Bun.CryptoHasher("sha256").update(await (await fetch(url)).arrayBuffer()).digest("hex");
  for (const table of original) {
    const twin = copy.find((t) => t.name === table.name);
    const byKey = new Map(twin?.records.map((r) => [key(twin, r.id), r]));
    for (const record of table.records) {
      const match = byKey.get(key(table, record.id));
      count.records[1]!++;
      if (match) count.records[0]!++;
      for (const field of table.fields) {
        const want = record.fields[field.name];
        const got = match?.fields[field.name];
        if (field.type === "multipleRecordLinks") {
          const linkedId = (field.options as { linkedTableId: string }).linkedTableId;
          const linked = original.find((t) => t.id === linkedId)!;
          const linkedTwin = copy.find((t) => t.name === linked.name);
          const have = new Set(((got as string[] | undefined) ?? []).map((id) => linkedTwin && key(linkedTwin, id)));
          for (const id of (want as string[] | undefined) ?? []) {
            count.links[1]!++;
            if (have.has(key(linked, id))) count.links[0]!++;
          }
        } else if (field.type === "multipleAttachments") {
          const files = (got as { filename: string; url: string }[] | undefined) ?? [];
          for (const file of (want as { filename: string; url: string }[] | undefined) ?? []) {
            count.files[1]!++;
            const same = files.find((f) => f.filename === file.filename);
            if (same && (await sha256(same.url)) === (await sha256(file.url))) count.files[0]!++;
          }
        }
      }
    }
  }
  const show = ([found, all]: number[]) => `${found}/${all}`;
  const complete = Object.values(count).every(([found, all]) => found === all);
  return { records: show(count.records), links: show(count.links), files: show(count.files), complete };
}
