import { describe, expect, test } from "bun:test";
import { archiveName, parseArchiveName } from "../../src/storage/archive-names.ts";

describe("archive names", () => {
  test("a written name parses back to its base id and time", () => {
    const at = new Date("2026-03-04T05:06:07.890Z");
    const name = archiveName("Café Ops: 2026", "appAbCdEfGhIjKlMn", at);
    expect(name).toBe("cafe-ops-2026-appAbCdEfGhIjKlMn-20260304T050607Z.zip");
    expect(parseArchiveName(name)).toEqual({
      name,
      slug: "cafe-ops-2026",
      baseId: "appAbCdEfGhIjKlMn",
      at: new Date("2026-03-04T05:06:07Z"),
    });
  });

  test.each([
    "notes.zip",
    "x-appAbCdEfGhIjKlMn-20260304T050607Z.zip.partial",
    "x-appAbCdEfGhIjKlMn-20261304T050607Z.zip",
    "x-appAbCdEfGhIjKlM-20260304T050607Z.zip",
    "../x-appAbCdEfGhIjKlMn-20260304T050607Z.zip",
    ".airbackup-appAbCdEfGhIjKlMn-abc",
  ])("%s is not an archive name", (name) => {
    expect(parseArchiveName(name)).toBeUndefined();
  });
});
