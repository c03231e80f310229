// CPython's frame header (`_send_bytes`/`_recv_bytes`): a big-endian signed
// int32 length, or -1 followed by a big-endian uint64 length for frames over
// 2^31-1 bytes. Written and parsed only here.

import { ProtocolError } from "./errors.ts";

/** The largest length the 4-byte form carries. */
export const I32_MAX = 0x7fffffff;

/** The big-endian int32 at `at`. */
export function int32At(b: Uint8Array, at: number): number {
  return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
}

/** Writes the header of a frame of `n` bytes into `out` at `at`; returns its size. */
export function writeHeader(out: Uint8Array, at: number, n: number): number {
  if (n > I32_MAX) {
    out[at] =
      out[at + 1] =
      out[at + 2] =
      out[at + 3] =
        0xff;
    const hi = Math.floor(n / 2 ** 32);
    const lo = n >>> 0;
    out[at + 4] = hi >>> 24;
    out[at + 5] = (hi >>> 16) & 0xff;
    out[at + 6] = (hi >>> 8) & 0xff;
    out[at + 7] = hi & 0xff;
    out[at + 8] = lo >>> 24;
    out[at + 9] = (lo >>> 16) & 0xff;
    out[at + 10] = (lo >>> 8) & 0xff;
    out[at + 11] = lo & 0xff;
    return 12;
  }
  out[at] = n >>> 24;
  out[at + 1] = (n >>> 16) & 0xff;
  out[at + 2] = (n >>> 8) & 0xff;
  out[at + 3] = n & 0xff;
  return 4;
}

/** The size of the header for a frame of `n` bytes. */
export function headerSize(n: number): number {
  return n > I32_MAX ? 12 : 4;
}

/**
 * The payload length of the frame whose header starts at `b[s]`, with
 * `have` bytes there; -1 when the header is not all there. A malformed
 * header throws a ProtocolError. Its size is {@link headerSizeAt}.
 */
export function frameLength(b: Uint8Array, s: number, have: number): number {
  if (have < 4) return -1;
  const n = int32At(b, s);
  if (n >= 0) return n;
  if (n !== -1) {
    throw new ProtocolError(
      `Cannot receive the message as its header is malformed: length ${n}`,
    );
  }
  if (have < 12) return -1;
  const hi = int32At(b, s + 4) >>> 0;
  const lo = int32At(b, s + 8) >>> 0;
  const big = hi * 2 ** 32 + lo;
  if (!Number.isSafeInteger(big)) {
    throw new ProtocolError(
      `Cannot receive the message as its length is too large: ${hi}:${lo}`,
    );
  }
  return big;
}

/** The size of the (whole) header at `b[s]`: 4, or 12 for the -1 escape. */
export function headerSizeAt(b: Uint8Array, s: number): number {
  return int32At(b, s) === -1 ? 12 : 4;
}
