// One AbortSignal for the whole run, aborted on SIGINT/SIGTERM/SIGHUP; work threads it down and cleans up.
import { AirbackupError } from "./errors.ts";

const controller = new AbortController();
export const shutdownSignal: AbortSignal = controller.signal;

/** First signal: abort and let the command clean up. Second: leave at once. */
export function installSignalHandlers(): void {
  // SIGHUP: a closed terminal or ssh session must clean up like Ctrl-C, not die leaving a .partial.
  for (const name of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(name, () => {
      if (controller.signal.aborted) process.exit(130);
      controller.abort(new AirbackupError("INTERRUPTED", `interrupted by ${name}`));
    });
  }
}

/** Throws the INTERRUPTED error if the run was cancelled. */
export function throwIfInterrupted(signal: AbortSignal = shutdownSignal): void {
  if (signal.aborted)
    throw signal.reason instanceof AirbackupError ? signal.reason : new AirbackupError("INTERRUPTED", "interrupted");
}
