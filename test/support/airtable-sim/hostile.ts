// Answers a broken or hostile server might send, for sim.onRequest hooks: a body that drips a few bytes at a
// time (never idle long enough for an idle timer), and bodies too large to hold in memory.

export interface DripOptions {
  /** Bytes per chunk (default 16). */
  chunk?: number;
  /** Pause between chunks (default 50 ms). */
  everyMs?: number;
}

/** A 200 whose body never ends: `chunk` bytes every `everyMs`. Stops when the client goes away. */
export function slowDrip(options: DripOptions = {}): { response: Response; sent: () => number } {
  const chunk = new Uint8Array(options.chunk ?? 16).fill(0x61);
  let sent = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      timer = setInterval(() => {
        try {
          controller.enqueue(chunk);
          sent += chunk.length;
        } catch {
          clearInterval(timer);
        }
      }, options.everyMs ?? 50);
    },
    cancel: () => clearInterval(timer),
  });
  // Bun.serve sends a stream chunked (no Content-Length): see dripServer for a drip that announces its size.
  return {
    response: new Response(body, { headers: { "Content-Type": "application/octet-stream" } }),
    sent: () => sent,
  };
}

/** A JSON-looking 200 with no Content-Length that never ends: 64 KiB chunks as fast as they are read. */
export function endlessJson(): { response: Response; sent: () => number } {
  const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    start: (controller) => controller.enqueue(new TextEncoder().encode('{"records":[')),
    pull(controller) {
      controller.enqueue(chunk);
      sent += chunk.length;
    },
  });
  return { response: new Response(body, { headers: { "Content-Type": "application/json" } }), sent: () => sent };
}

/** A JSON 200 of `bytes` bytes, its Content-Length announced. */
export function oversizedJson(bytes: number): Response {
  const text = `{"bases":[],"padding":"${"x".repeat(Math.max(0, bytes - 25))}"}`;
  return new Response(text, { headers: { "Content-Type": "application/json" } });
}

/**
 * A raw HTTP server (no simulator) whose every answer announces `announce` bytes and then drips as slowDrip
 * does: what a server that lies about its pace looks like on the wire.
 */
export function dripServer(announce: number, options: DripOptions = {}) {
  const chunk = new Uint8Array(options.chunk ?? 16).fill(0x61);
  const timers = new Set<ReturnType<typeof setInterval>>();
  const server = Bun.listen<{ timer?: ReturnType<typeof setInterval> }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket) {
        socket.write(
          `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${announce}\r\n\r\n`,
        );
        const timer = setInterval(() => socket.write(chunk), options.everyMs ?? 50);
        timers.add(timer);
        socket.data = { timer };
      },
      close(socket) {
        clearInterval(socket.data?.timer);
      },
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/file`,
    stop() {
      for (const timer of timers) clearInterval(timer);
      server.stop(true);
    },
  };
}
