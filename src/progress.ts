// The live progress line drawn on a TTY during a backup (never in cron: the caller checks isTTY).
import type { BackupEvent } from "./backup/run.ts";
import { printable } from "./printable.ts";

export interface Progress {
  update(event: BackupEvent): void;
  clear(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  let base = "";
  let tables = 0;
  let tablesDone = 0;
  let records = 0;
  let bytes = 0;
  let started = performance.now();
  let drawn = false;
  let last = 0;

  const draw = (force = false) => {
    const now = performance.now();
    if (!force && now - last < 100) return;
    last = now;
    const seconds = Math.max(0.001, (now - started) / 1000);
    const text = `${base}: tables ${tablesDone}/${tables}, ${records} records (${Math.round(records / seconds)}/s), attachments ${(bytes / 1e6).toFixed(1)} MB`;
    stream.write(`\r\x1b[2K${text.slice(0, (stream.columns ?? 120) - 1)}`);
    drawn = true;
  };

  return {
    update(event) {
      if (event.type === "base-start") {
        [base, tables, tablesDone, records, bytes, started] = [
          printable(event.baseName),
          event.tables,
          0,
          0,
          0,
          performance.now(),
        ];
      } else if (event.type === "records") records += event.count;
      else if (event.type === "table-done") tablesDone++;
      else if (event.type === "attachment-bytes") bytes += event.bytes;
      else return;
      draw(event.type !== "records" && event.type !== "attachment-bytes");
    },
    clear() {
      if (drawn) stream.write("\r\x1b[2K");
      drawn = false;
    },
  };
}
