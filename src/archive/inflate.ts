// Raw inflate (zip method 8) as a stream, through node:zlib: native zlib, about five times fflate's pure-JS
// Inflate here (bench/archive.ts). Output comes in pieces of at most OUT_CHUNK bytes and only as fast as the
// caller takes them (the stream's backpressure), so a caller that counts bytes can stop a zip bomb at its cap
// after at most one piece too many.
import { createInflateRaw, type InflateRaw } from "node:zlib";

/** Largest piece of output handed over at a time. */
export const OUT_CHUNK = 256 * 1024;

/**
 * The inflated bytes of `compressed`. Damaged deflate data throws `damaged(error)`; an error reading
 * `compressed` is thrown as it is. Stopping early (break, or a throw in the caller) ends the inflater.
 */
export async function* inflateRaw(
  compressed: AsyncIterable<Uint8Array>,
  damaged: (error: Error) => Error,
): AsyncIterable<Uint8Array> {
  const inflater = createInflateRaw({ chunkSize: OUT_CHUNK });
  let readError: unknown;
  const feeding = (async () => {
    try {
      for await (const chunk of compressed) {
        if (inflater.destroyed) return;
        if (!inflater.write(chunk)) await drained(inflater);
      }
      inflater.end();
    } catch (error) {
      readError = error;
      inflater.destroy();
    }
  })();
  try {
    for await (const piece of inflater as AsyncIterable<Buffer>) {
      if (readError) throw readError;
      yield piece;
    }
    if (readError) throw readError;
  } catch (error) {
    if (readError) throw readError;
    throw damaged(error as Error);
  } finally {
    inflater.destroy();
    await feeding;
  }
}

// --- internal ---

/** Resolves on 'drain', or when the inflater is closed (destroyed or failed) and will never drain. */
function drained(inflater: InflateRaw): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      inflater.off("drain", done);
      inflater.off("close", done);
      resolve();
    };
    inflater.on("drain", done);
    inflater.on("close", done);
  });
}
