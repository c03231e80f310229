// The part of `Connection` (connection/) the manager uses, so the protocol
// core can also run over an in-memory pair in unit tests.

/**
 * A message connection: frames of bytes out, decoded msgpack values in.
 *
 * @example A connection is one
 * ```ts
 * import type { ConnLike } from "@mproc/multiprocessing/manager";
 *
 * import { Pipe } from "@mproc/multiprocessing/connection";
 * const [a, b] = Pipe();
 * const conn: ConnLike = a;
 * conn.close();
 * b.close();
 * ```
 */
export interface ConnLike {
  /** Sends one frame of bytes (already msgpack). */
  sendBytes(buf: Uint8Array): Promise<void>;
  /** Receives and decodes one frame; rejects at end of stream. */
  recv<T = unknown>(): Promise<T>;
  /** Closes the connection (idempotent). */
  close(): void;
  /** True once closed. */
  readonly closed: boolean;
}
