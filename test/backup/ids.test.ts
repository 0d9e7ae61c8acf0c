// A base id from the API that is not shaped like one never reaches a path: that base fails, the others go on.
import { describe, expect, test } from "bun:test";
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBackup } from "../../src/backup/run.ts";
import { AirbackupError } from "../../src/errors.ts";
import { BASE_ID, TOKEN, tinyBase } from "../airtable/sim-client.ts";
import { startAirtableSim } from "../support/airtable-sim/index.ts";

describe("ids from the API", () => {
  test("a base id like app/../../x from listBases fails that base and writes nothing outside the output directory", async () => {
    await using sim = await startAirtableSim({ bases: [tinyBase()] });
    const evil = "app/../../escaped";
    // Forwards to the simulator, adding a base with a path-traversing id to the list of bases.
    using proxy = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const url = new URL(req.url);
        const upstream = await fetch(sim.url + url.pathname + url.search, {
          method: req.method,
          headers: req.headers,
          body: req.method === "GET" ? undefined : await req.text(),
        });
        if (url.pathname !== "/v0/meta/bases") return upstream;
        const body = (await upstream.json()) as { bases: unknown[] };
        body.bases.unshift({ id: evil, name: "Evil", permissionLevel: "create" });
        return Response.json(body);
      },
    });
    const root = await mkdtemp(join(tmpdir(), "airbackup-ids-"));
    const outDir = join(root, "a", "b");
    await Bun.write(join(outDir, ".keep"), "");
    const report = await runBackup({
      airtable: { token: TOKEN, apiUrl: `http://127.0.0.1:${proxy.port}`, contentUrl: sim.contentUrl },
      outDir,
      attachments: true,
      comments: false,
      downloads: 2,
      tool: { name: "airbackup", version: "0.0.0-test" },
      signal: new AbortController().signal,
    });
    const bad = report.bases.find((b) => b.baseId === evil);
    expect(bad?.error).toBeInstanceOf(AirbackupError);
    expect(String((bad?.error as Error | undefined)?.message)).toContain("refusing base id");
    expect(bad?.path).toBeUndefined();
    const good = report.bases.find((b) => b.baseId === BASE_ID);
    expect(good?.error).toBeUndefined();
    expect(good?.path).toBeDefined();
    expect(await readdir(root)).toEqual(["a"]);
    expect((await readdir(outDir)).sort()).toEqual([".keep", good!.path!.split("/").pop()!].sort());
  });
});
