// CRC-32 (the zip polynomial) over a stream of chunks. fflate exports no crc32, so this wraps node:zlib's,
// always with an explicit seed: Bun throws ERR_INVALID_ARG_TYPE for crc32(data, undefined) (oven-sh/bun#41548).
import { crc32 as zlibCrc32 } from "node:zlib";

/** CRC-32 of `chunk` continued from `previous` (0 to start). */
export function crc32(chunk: Uint8Array | string, previous: number): number {
  return zlibCrc32(chunk, previous);
}
