// Airtable ids become file and entry names: only the documented shapes pass.
import { describe, expect, test } from "bun:test";
import { checkAirtableId, isAirtableId } from "../../src/airtable/ids.ts";
import { AirbackupError } from "../../src/errors.ts";

describe("airtable ids", () => {
  test("each kind accepts its prefix and 14 letters or digits", () => {
    expect(isAirtableId("base", "appAbc0123456789x")).toBe(true);
    expect(isAirtableId("table", "tblAbc0123456789x")).toBe(true);
    expect(isAirtableId("record", "recAbc0123456789x")).toBe(true);
    expect(isAirtableId("field", "fldAbc0123456789x")).toBe(true);
    expect(isAirtableId("attachment", "attAbc0123456789x")).toBe(true);
    expect(isAirtableId("base", "tblAbc0123456789x")).toBe(false);
  });

  test("path traversal and other shapes are refused with an AirbackupError", () => {
    for (const bad of [
      "app/../../x",
      "app../../../etc1",
      "appAbc0123456789x/",
      "appAbc012345678",
      "appAbc0123456789xy",
      "",
      42,
    ]) {
      expect(isAirtableId("base", bad)).toBe(false);
      expect(() => checkAirtableId("base", bad, "a test")).toThrow(AirbackupError);
    }
    expect(() => checkAirtableId("base", "app/../../x", "a test")).toThrow(
      /refusing base id "app\/..\/..\/x" from a test/,
    );
  });
});
