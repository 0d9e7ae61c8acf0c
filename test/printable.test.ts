// Names from Airtable and archives reach the terminal only through printable(): no raw control bytes.
import { describe, expect, test } from "bun:test";
import type { ArchiveSummary } from "../src/archive/inspect.ts";
import { formatBases } from "../src/commands/bases.ts";
import { formatSummary } from "../src/commands/inspect.ts";
import { AirbackupError, formatError } from "../src/errors.ts";
import { printable } from "../src/printable.ts";
import type { RestoreReport } from "../src/restore/report.ts";
import { formatReport } from "../src/restore/report.ts";

const ESC = "\x1b";
const RED = `${ESC}[31m`;
// Any C0 control (tab and newline included), DEL or C1 control.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for them
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe("printable", () => {
  test.each([
    [`Deals${RED}`, "Deals\\x1b[31m"],
    ["a\u0007b\u0000c\u007f", "a\\x07b\\x00c\\x7f"],
    ["csi\u009b2J", "csi\\u{9b}2J"],
    ["two\nlines\r\ttab", "two\\nlines\\r\\ttab"],
    ["Café 数据 🎉 – ok", "Café 数据 🎉 – ok"],
  ])("escapes control characters (case %#)", (text, expected) => {
    expect(printable(text)).toBe(expected);
  });

  test("keepNewlines keeps line breaks but still escapes ESC", () => {
    expect(printable(`message ${RED}x\n  hint: y`, { keepNewlines: true })).toBe("message \\x1b[31mx\n  hint: y");
  });
});

describe("rendering names from archives and Airtable", () => {
  test("inspect: a table and base name holding \\x1b[31m print no raw ESC byte", () => {
    const summary: ArchiveSummary = {
      path: "crm.zip",
      bytes: 1234,
      format: 1,
      tool: { name: "airbackup", version: `0.1.0${ESC}]0;pwned${"\u0007"}` },
      base: { id: "appAAAAAAAAAAAAAA", name: `CRM${RED}` },
      startedAt: "2024-05-06T07:00:00.000Z",
      finishedAt: "2024-05-06T07:01:00.000Z",
      tables: [
        { id: "tblA", name: `Contacts${RED}`, records: 2 },
        { id: "tblB", name: "Deals", records: 3 },
      ],
      records: 5,
      attachments: { count: 0, files: 0, bytes: 0 },
      comments: [],
      warnings: [`attachment ${ESC}[2J gone`],
      entries: 4,
    };
    const text = formatSummary(summary);
    expect(text).not.toContain(ESC);
    expect(text.slice(0, -1)).not.toMatch(RAW_CONTROL);
    expect(text).toContain("base        CRM\\x1b[31m (appAAAAAAAAAAAAAA)");
    // the columns still line up with the escaped name
    expect(text).toContain("  Contacts\\x1b[31m         2  tblA\n  Deals                    3  tblB\n");
  });

  test("bases: a base name holding ESC and a newline stays on its line", () => {
    const text = formatBases([
      { id: "appAAAAAAAAAAAAAA", name: `CRM${RED}\nfake line`, permissionLevel: "create" },
      { id: "appBBBBBBBBBBBBBB", name: "HR", permissionLevel: "read" },
    ]);
    expect(text).not.toContain(ESC);
    expect(text.split("\n")).toHaveLength(3);
    expect(text).toStartWith("appAAAAAAAAAAAAAA  CRM\\x1b[31m\\nfake line  create\n");
  });

  test("restore report: table and field names print no raw ESC byte", () => {
    const report: RestoreReport = {
      archive: "crm.zip",
      baseId: "appAAAAAAAAAAAAAA",
      baseCreated: false,
      dryRun: false,
      journal: null,
      tables: [
        {
          name: `Contacts${RED}`,
          archivedId: "tblA",
          action: "create",
          fieldsCreated: [`Name${RED}`],
          records: { archived: 1, restored: 1 },
          failedRecords: [],
          skippedValues: [{ record: "rec1", field: `F${RED}`, reason: `bad ${ESC}]0;x` }],
          droppedLinks: [],
          attachments: { uploaded: 0, skipped: [] },
          comments: 0,
        },
      ],
      manualSteps: [{ table: `T${RED}`, field: `F${RED}`, type: "formula", howTo: "x" } as never],
      notes: [`note ${RED}`],
      apiCalls: 3,
      requests: { total: 3, byKind: { create: 3 }, seconds: 1, ceilingSeconds: 0.6 },
    };
    const lines = formatReport(report);
    for (const line of lines) expect(line).not.toMatch(RAW_CONTROL);
    expect(lines.join("\n")).toContain("create table Contacts\\x1b[31m");
  });

  test("errors: a message naming an archive entry prints no raw ESC byte; the hint stays on its own line", () => {
    const error = new AirbackupError("ARCHIVE_CORRUPT", `crm.zip: entry tables/${RED}.jsonl is damaged`, {
      hint: "run verify",
    });
    expect(formatError(error)).toBe("crm.zip: entry tables/\\x1b[31m.jsonl is damaged\n  hint: run verify");
    expect(formatError(new Error(`boom ${RED}`))).not.toContain(ESC);
  });
});
