import { describe, expect, test } from "bun:test";
import { DEBIAN_PACKAGES, describeMissing, isCI, missingTools, type Tool } from "./tools.ts";

describe("tool detection", () => {
  test("missingTools keeps the order given and asks `which` for each", () => {
    const installed = new Set(["unzip", "python3"]);
    const which = (name: string) => (installed.has(name) ? `/usr/bin/${name}` : null);
    expect(missingTools(["unzip", "7z", "python3", "bsdtar"], which)).toEqual(["7z", "bsdtar"]);
    expect(missingTools(["unzip"], which)).toEqual([]);
  });

  test("the note names each tool and its Debian package once", () => {
    expect(describeMissing(["unzip", "zipinfo", "bsdtar", "7z"])).toBe(
      "not installed: unzip, zipinfo, bsdtar, 7z (apt-get install unzip libarchive-tools p7zip-full)",
    );
    const packages: Record<Tool, string> = DEBIAN_PACKAGES;
    expect(packages).toEqual({
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
    });
  });

  test("CI=true or CI=1 turns a skip into a failure", () => {
    expect(isCI({ CI: "true" })).toBe(true);
    expect(isCI({ CI: "1" })).toBe(true);
    expect(isCI({ CI: "false" })).toBe(false);
    expect(isCI({})).toBe(false);
  });
});
