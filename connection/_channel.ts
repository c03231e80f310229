// The frame-level transport under a Connection: a byte stream with
// CPython's length-prefix framing (sockets), or a MessagePort carrying one
// frame per message (Pipe()).

/** Moves whole frames (message payloads) in both directions. */
export interface Channel {
  /**
   * The next frame, or `null` at a clean end of stream. A frame longer than
   * `maxLength` rejects with a RangeError without reading its payload and the
   * channel is closed; a malformed stream rejects with a ProtocolError and the
   * channel is closed. With `lend`, the frame may be a view on a buffer the
   * channel shares with other frames (for callers that copy it out at once);
   * otherwise it owns its bytes.
   */
  readFrame(maxLength: number, lend?: boolean): Promise<Uint8Array | null>;
  /**
   * The next frame if it is wholly here already, `null` at a clean end of
   * stream, `undefined` when waiting would be needed. Throws like readFrame.
   */
  tryReadFrame(
    maxLength: number,
    lend?: boolean,
  ): Uint8Array | null | undefined;
  /** True when a frame, part of one, or the end of stream is already here. */
  hasData(): boolean;
  /** Resolves once `hasData()` is true (or the channel is closed). */
  whenData(): Promise<void>;
  /**
   * Queues a frame; frames are written in call order and never interleave.
   * `payload` is copied or fully written before the promise resolves, and
   * must not change until then.
   */
  writeFrame(payload: Uint8Array): Promise<void>;
  /** Releases the transport; pending reads end. Idempotent. */
  close(): void;
}

/** Frame header constants (CPython `_send_bytes`/`_recv_bytes`). */
export const I32_MAX = 0x7fffffff;

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
