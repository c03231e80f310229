/**
 * Errors raised by the connection layer.
 *
 * ```ts
 * import { AuthenticationError } from "@mproc/multiprocessing/connection";
 *
 * console.assert(new AuthenticationError("digest received was wrong") instanceof Error);
 * ```
 *
 * @module
 */

/**
 * The HMAC challenge failed: wrong authkey, one side without a key, a
 * malformed or oversized handshake frame, or a handshake past its deadline
 * (CPython's `multiprocessing.AuthenticationError`).
 *
 * @example Usage
 * ```ts
 * import { AuthenticationError } from "@mproc/multiprocessing/connection";
 *
 * const err = new AuthenticationError("Digest received was wrong");
 * console.assert(err.name === "AuthenticationError");
 * ```
 */
export class AuthenticationError extends Error {
  /**
   * Creates the error.
   *
   * @param message Why authentication failed.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AuthenticationError";
  }
}

/**
 * `recvBytesInto()` got a message larger than the space left in the buffer.
 * The message is consumed and carried whole in `bytes` (CPython's
 * `BufferTooShort`).
 *
 * @example Usage
 * ```ts
 * import { BufferTooShortError } from "@mproc/multiprocessing/connection";
 *
 * const err = new BufferTooShortError(new Uint8Array([1, 2, 3]));
 * console.assert(err.bytes.length === 3);
 * ```
 */
export class BufferTooShortError extends Error {
  /** The whole message that did not fit. */
  readonly bytes: Uint8Array;

  /**
   * Creates the error.
   *
   * @param bytes The whole message that did not fit.
   * @param message A description.
   */
  constructor(bytes: Uint8Array, message?: string) {
    super(
      message ??
        `Cannot receive the message into the buffer as it is too short: the message has ${bytes.length} bytes`,
    );
    this.name = "BufferTooShortError";
    this.bytes = bytes;
  }
}

/**
 * The peer closed the connection: `recv()`/`recvBytes()` found the end of the
 * stream at a message boundary (CPython's `EOFError`).
 *
 * @example Usage
 * ```ts
 * import { EOFError } from "@mproc/multiprocessing/connection";
 *
 * console.assert(new EOFError().name === "EOFError");
 * ```
 */
export class EOFError extends Error {
  /**
   * Creates the error.
   *
   * @param message A description.
   */
  constructor(message = "Cannot receive as the peer closed the connection") {
    super(message);
    this.name = "EOFError";
  }
}

/**
 * The byte stream broke the framing rules: a negative length other than the
 * `-1` escape, an end of stream in the middle of a message, a message longer
 * than the size limit. The connection is closed when this is raised.
 *
 * @example Usage
 * ```ts
 * import { ProtocolError } from "@mproc/multiprocessing/connection";
 *
 * console.assert(new ProtocolError("Malformed frame header").name === "ProtocolError");
 * ```
 */
export class ProtocolError extends Error {
  /**
   * Creates the error.
   *
   * @param message What was wrong.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProtocolError";
  }
}
