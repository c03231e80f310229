/**
 * The error of the pickle codec.
 *
 * ```ts
 * import { loads, UnpicklingError } from "@mproc/multiprocessing/pickle";
 *
 * try {
 *   loads(new Uint8Array([0x80, 0x04, 0x4e])); // no STOP
 * } catch (e) {
 *   console.assert(e instanceof UnpicklingError);
 * }
 * ```
 *
 * @module
 */

/**
 * A pickle was refused or is malformed: truncated, an opcode or a global
 * outside the safe set, too deep, too many items, a cycle, trailing bytes.
 * It is a `SyntaxError`, as the msgpack codec's "not one valid value": a
 * `recv()` that rejects with it has consumed the frame and the connection
 * stays usable (CPython's `pickle.UnpicklingError`).
 *
 * @example Usage
 * ```ts
 * import { loads, UnpicklingError } from "@mproc/multiprocessing/pickle";
 *
 * // pickle.dumps(os.system) on Linux: a global outside the closed table.
 * const evil = new Uint8Array([
 *   0x80, 0x04, 0x8c, 0x05, ...new TextEncoder().encode("posix"),
 *   0x8c, 0x06, ...new TextEncoder().encode("system"), 0x93, 0x2e,
 * ]);
 * try {
 *   loads(evil);
 *   throw new Error("not refused");
 * } catch (e) {
 *   console.assert(e instanceof UnpicklingError && e instanceof SyntaxError);
 *   console.assert((e as Error).message.includes("global posix.system is not allowed"));
 * }
 * ```
 */
export class UnpicklingError extends SyntaxError {
  /**
   * Creates the error.
   *
   * @param message What was refused, and where.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UnpicklingError";
  }
}
