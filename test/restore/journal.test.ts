// The journal replays to the same state after a restart, and a line torn by a crash is ignored.
import { expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openJournal, type WriteFn } from "../../src/restore/journal.ts";

test("replays ids, pending batches and progress; ignores a torn last line", () => {
  const dir = mkdtempSync(join(tmpdir(), "airbackup-journal-"));
  try {
    const path = join(dir, "a.zip.restore-appX.journal.jsonl");
    const j = openJournal(path);
    j.append({ t: "table", old: "tblA", new: "tblNEW", name: "A" });
    j.append({ t: "pending", table: "tblA", at: "2024-01-01T00:00:00.000Z", items: [{ old: "rec1", hash: "h1" }] });
    j.append({ t: "created", table: "tblA", pairs: [["rec1", "recN1"]] });
    j.append({ t: "pending", table: "tblA", at: "2024-01-01T00:00:01.000Z", items: [{ old: "rec2", hash: "h2" }] });
    j.close();
    appendFileSync(path, '{"t":"created","table":"tb'); // a crash mid-write

    const again = openJournal(path);
    expect(again.state.tables.get("tblA")).toBe("tblNEW");
    expect(again.state.records.get("tblA")).toEqual(new Map([["rec1", "recN1"]]));
    expect(again.state.pending.get("tblA")?.get(0)?.items).toEqual([{ old: "rec2", hash: "h2" }]);
    again.append({ t: "created", table: "tblA", pairs: [["rec2", "recN2"]] });
    again.close();
    const third = openJournal(path);
    expect(third.state.records.get("tblA")?.get("rec2")).toBe("recN2");
    expect(third.state.pending.has("tblA")).toBe(false);
    third.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("short writes: an append whose writeSync writes fewer bytes than asked is completed", () => {
  const dir = mkdtempSync(join(tmpdir(), "airbackup-journal-"));
  try {
    const path = join(dir, "a.zip.restore-appX.journal.jsonl");
    // At most 7 bytes per call, like a write(2) cut short.
    const short: WriteFn = (fd, buf, off, len) => writeSync(fd, buf, off, Math.min(len, 7));
    const j = openJournal(path, short);
    j.append({ t: "table", old: "tblA", new: "tblNEW", name: "Ä table" });
    j.append({ t: "pending", table: "tblA", at: "2024-01-01T00:00:00.000Z", items: [{ old: "rec1", hash: "h1" }] });
    j.append({ t: "created", table: "tblA", pairs: [["rec1", "recN1"]] });
    j.close();
    const again = openJournal(path);
    expect(again.state.tables.get("tblA")).toBe("tblNEW");
    expect(again.state.records.get("tblA")).toEqual(new Map([["rec1", "recN1"]]));
    expect(again.state.pending.has("tblA")).toBe(false);
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("short writes: a write that makes no progress fails instead of looping forever", () => {
  const dir = mkdtempSync(join(tmpdir(), "airbackup-journal-"));
  try {
    const j = openJournal(join(dir, "j.jsonl"), () => 0);
    expect(() => j.append({ t: "done", at: "x" })).toThrow(/no progress/);
    j.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
