// The TTY progress display: one line per base in flight, redrawn in place, a finished base's line gone.
import { describe, expect, test } from "bun:test";
import type { BaseReport } from "../src/backup/run.ts";
import { createProgress } from "../src/progress.ts";

const ESC = String.fromCharCode(27);
const ESCAPE_OR_BREAK = new RegExp(`(${ESC}\\[\\d*[AJ]|\\r|\\n)`);
const CURSOR_UP = new RegExp(`^${ESC}\\[(\\d*)A$`);

/** A terminal of `columns` width: applies the escapes the display uses (cursor up, carriage return, erase below). */
function terminal(columns = 200) {
  let lines: string[] = [""];
  let row = 0;
  const stream = {
    columns,
    write(text: string) {
      for (const part of text.split(ESCAPE_OR_BREAK)) {
        const up = CURSOR_UP.exec(part);
        if (up) row = Math.max(0, row - Number(up[1] || 1));
        else if (part === "\x1b[0J") lines = [...lines.slice(0, row), ""];
        else if (part === "\r") lines[row] = "";
        else if (part === "\n") lines[++row] ??= "";
        else if (part) lines[row] = (lines[row] ?? "") + part;
      }
      return true;
    },
  };
  return { stream: stream as unknown as NodeJS.WriteStream, screen: () => lines.filter(Boolean) };
}

const done = (baseId: string) => ({ type: "base-done", report: { baseId } as BaseReport }) as const;

describe("backup progress on a terminal", () => {
  test("every base in flight has its line; a finished base's line goes", () => {
    const tty = terminal();
    const progress = createProgress(tty.stream);
    progress.update({ type: "base-start", baseId: "appA", baseName: "CRM", tables: 2 });
    progress.update({ type: "base-start", baseId: "appB", baseName: "Roadmap", tables: 3 });
    progress.update({ type: "table-done", baseId: "appB", table: "Tasks", records: 40 });
    expect(tty.screen()).toHaveLength(2);
    expect(tty.screen()[0]).toStartWith("CRM: tables 0/2");
    expect(tty.screen()[1]).toStartWith("Roadmap: tables 1/3");

    progress.clear(); // a log line is about to be written
    expect(tty.screen()).toEqual([]);
    progress.update(done("appA"));
    progress.redraw();
    expect(tty.screen()).toHaveLength(1);
    expect(tty.screen()[0]).toStartWith("Roadmap: tables 1/3");
  });

  test("names are printable and lines fit the terminal", () => {
    const tty = terminal(30);
    const progress = createProgress(tty.stream);
    progress.update({ type: "base-start", baseId: "appA", baseName: "Evil\x1b[2Jname", tables: 1 });
    expect(tty.screen()[0]).not.toContain("\x1b[2J");
    expect(tty.screen()[0]!.length).toBeLessThan(30);
  });
});
