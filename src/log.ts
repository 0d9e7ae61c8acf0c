// The one logger: human lines (or JSON lines with --json) on stderr, so stdout carries only data.
import { type ConsolaInstance, type ConsolaReporter, createConsola, LogLevels, type LogObject } from "consola";
import { printable } from "./printable.ts";

export interface LogOptions {
  quiet?: boolean;
  verbose?: boolean;
  json?: boolean;
}

export let log: ConsolaInstance = createLogger({});

/** Reconfigure the shared logger from the common flags; called once per command run. */
export function configureLog(options: LogOptions): ConsolaInstance {
  log = createLogger(options);
  return log;
}

// --- internal ---

function createLogger(options: LogOptions): ConsolaInstance {
  const level = options.quiet ? LogLevels.warn : options.verbose ? LogLevels.debug : LogLevels.info;
  const logger = createConsola({
    level,
    stdout: process.stderr,
    stderr: process.stderr,
    formatOptions: { date: false, colors: !process.env.NO_COLOR && process.stderr.isTTY === true },
  });
  if (options.json) logger.setReporters([{ log: writeJsonLine }]);
  else {
    const reporters = process.stderr.isTTY === true ? logger.options.reporters : [{ log: writePlainLine }];
    logger.setReporters(reporters.map(escapingReporter));
  }
  return logger;
}

/** Human lines carry names from Airtable and archives: control characters escaped, line breaks kept. */
function escapingReporter(reporter: ConsolaReporter): ConsolaReporter {
  return {
    log: (entry, context) =>
      reporter.log(
        { ...entry, args: entry.args.map((a) => (typeof a === "string" ? printable(a, { keepNewlines: true }) : a)) },
        context,
      ),
  };
}

/** Pipes and cron mail: no badges or colour; every error and warning line starts with "airbackup:". */
function writePlainLine(entry: LogObject): void {
  const message = messageOf(entry);
  const prefix =
    entry.level <= LogLevels.error ? "airbackup: " : entry.level === LogLevels.warn ? "airbackup: warning: " : "";
  process.stderr.write(`${message.replace(/^/gm, prefix)}\n`);
}

function writeJsonLine(entry: LogObject): void {
  const message = messageOf(entry);
  const line = { time: entry.date.toISOString(), level: entry.type, message, ...(entry.tag ? { tag: entry.tag } : {}) };
  process.stderr.write(`${JSON.stringify(line)}\n`);
}

/** A log call's arguments as one line of text: strings as they are, errors by message, the rest as JSON. */
function messageOf(entry: LogObject): string {
  return entry.args
    .map((a) => (typeof a === "string" ? a : a instanceof Error ? a.message : JSON.stringify(a)))
    .join(" ");
}
