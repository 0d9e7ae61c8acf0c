// The live progress display drawn on a TTY during a backup (never in cron: the caller checks isTTY): one
// line per base in flight, redrawn in place.
import type { BackupEvent } from "./backup/run.ts";
import { printable } from "./printable.ts";

export interface Progress {
  update(event: BackupEvent): void;
  /** Draws the current lines again (after something else wrote to the stream). */
  redraw(): void;
  /** Removes the lines from the screen (before a log line), until the next update or redraw. */
  clear(): void;
}

interface BaseLine {
  name: string;
  tables: number;
  tablesDone: number;
  records: number;
  bytes: number;
  started: number;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const bases = new Map<string, BaseLine>();
  let drawn = 0; // lines on screen; the cursor is at the end of the last one
  let last = 0;

  const erase = () => {
    if (drawn === 0) return;
    stream.write(`${drawn > 1 ? `\x1b[${drawn - 1}A` : ""}\r\x1b[0J`);
    drawn = 0;
  };

  const draw = (force = false) => {
    const now = performance.now();
    if (!force && now - last < 100) return;
    last = now;
    const width = (stream.columns ?? 120) - 1;
    const lines = [...bases.values()].map((b) => {
      const seconds = Math.max(0.001, (now - b.started) / 1000);
      const text = `${b.name}: tables ${b.tablesDone}/${b.tables}, ${b.records} records (${Math.round(b.records / seconds)}/s), attachments ${(b.bytes / 1e6).toFixed(1)} MB`;
      return text.slice(0, width);
    });
    erase();
    if (lines.length === 0) return;
    stream.write(lines.join("\n"));
    drawn = lines.length;
  };

  return {
    update(event) {
      if (event.type === "base-start") {
        bases.set(event.baseId, {
          name: printable(event.baseName),
          tables: event.tables,
          tablesDone: 0,
          records: 0,
          bytes: 0,
          started: performance.now(),
        });
        return draw(true);
      }
      if (event.type === "base-done") {
        bases.delete(event.report.baseId);
        return;
      }
      const base = "baseId" in event ? bases.get(event.baseId) : undefined;
      if (!base) return;
      if (event.type === "records") base.records += event.count;
      else if (event.type === "table-done") base.tablesDone++;
      else if (event.type === "attachment-bytes") base.bytes += event.bytes;
      else return;
      draw(event.type === "table-done");
    },
    redraw: () => draw(true),
    clear: erase,
  };
}
