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
   * Resolves once the frame is queued in a bounded send buffer (or, for a
   * large payload that is not copied, written): `payload` may change after
   * that. Rejects with an earlier write error.
   */
  writeFrame(payload: Uint8Array): Promise<void>;
  /**
   * Resolves once every queued frame is written or given up; rejects with a
   * write error that no writeFrame has reported.
   */
  flushed(): Promise<void>;
  /** Releases the transport; pending reads end. Idempotent. */
  close(): void;
}
