// `npm run demo` is the first thing a newcomer runs: it must work in one command, in well under a minute,
// and show the whole round trip (backup, verify, inspect, restore into a new base, everything back).
import { expect, test } from "bun:test";
import { ROOT } from "../support/cli.ts";

test("the demo backs up, verifies, inspects and restores the sample base; everything comes back", async () => {
  const proc = Bun.spawn([process.execPath, "scripts/demo.ts"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  expect(code).toBe(0);
  for (const command of ["bases", "backup", "verify", "inspect", "restore"])
    expect(stderr).toContain(`$ airbackup ${command}`);
  expect(stderr).toMatch(/^ok {2}\S+\.zip$/m); // verify
  const back = /records (\d+)\/(\d+), links (\d+)\/(\d+), files (\d+)\/(\d+) \(same bytes\)/.exec(stderr);
  expect(back).not.toBeNull();
  const [records, allRecords, links, allLinks, files, allFiles] = back!.slice(1).map(Number);
  expect([records, links, files]).toEqual([allRecords, allLinks, allFiles]);
  expect(allRecords).toBe(27); // the sample base
  expect(allLinks).toBeGreaterThan(0);
  expect(allFiles).toBeGreaterThan(0);
}, 60_000);
