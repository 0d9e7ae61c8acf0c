// Injected failures from a seeded RNG: 5xx answers (request not processed) and dropped
// connections (request processed, then the socket is closed without a response, so the client
// cannot tell whether a write happened: the ambiguous failure a restore must reconcile).
import { mulberry32 } from "./ids.ts";
import type { FaultOptions, FaultRoute } from "./types.ts";

export type Fault = { kind: "error"; status: 500 | 502 | 503 } | { kind: "drop" } | undefined;

export interface FaultInjector {
  /** Draws the fate of one request of this kind. Deterministic for a given seed and request order. */
  draw(route: FaultRoute): Fault;
  set(options: FaultOptions | undefined): void;
}

export function createFaultInjector(initial: FaultOptions | undefined): FaultInjector {
  let options = initial;
  let random = mulberry32(initial?.seed ?? 0);
  return {
    set(next) {
      options = next;
      random = mulberry32(next?.seed ?? 0);
    },
    draw(route) {
      if (!options || (options.routes && !options.routes.includes(route))) return undefined;
      const r = random();
      const drop = options.dropRate ?? 0;
      const error = options.errorRate ?? 0;
      if (r < drop) return { kind: "drop" };
      if (r < drop + error) {
        // Mostly the documented, retriable 503; some plain 500/502 as proxies send.
        const statuses = [503, 503, 500, 502] as const;
        return { kind: "error", status: statuses[Math.floor(random() * statuses.length)]! };
      }
      return undefined;
    },
  };
}

/**
 * A response whose body stream errors before any byte is sent: Bun then closes the socket, and a
 * fetch client sees a network error (ECONNRESET) instead of a response.
 */
export function droppedConnection(): Response {
  return new Response(
    new ReadableStream({
      pull(controller) {
        controller.error(); // no reason given: Bun closes the socket without logging anything
      },
    }),
  );
}
