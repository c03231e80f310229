/**
 * The `serializer` option of {@linkcode Listener}, {@linkcode Client} and
 * {@linkcode Pipe}: how `send()`/`recv()` turn values into message bytes.
 * `sendBytes`/`recvBytes` and the handshake never go through it.
 *
 * @module
 */

/**
 * What `send()`/`recv()` speak: msgpack (the default) or CPython's pickle.
 *
 * @example Usage
 * ```ts
 * import { Pipe, type Serializer } from "@mproc/multiprocessing/connection";
 *
 * const serializer: Serializer = "pickle";
 * const [a, b] = Pipe(true, { serializer });
 * await a.send([1, "two"]);
 * console.assert((await b.recv<unknown[]>())[1] === "two");
 * a.close();
 * b.close();
 * ```
 */
export type Serializer = "msgpack" | "pickle";

/** How `serializer: "pickle"` writes and reads values: the pickle codec's own options. */
export type { PickleOptions } from "../pickle/options.ts";
import type { PickleOptions } from "../pickle/options.ts";

/**
 * The serializer options shared by `ListenerOptions`, `ClientOptions` and
 * `Pipe()`.
 *
 * @example Usage
 * ```ts
 * import { Pipe, type SerializerOptions } from "@mproc/multiprocessing/connection";
 *
 * const options: SerializerOptions = { serializer: "msgpack" };
 * const [a, b] = Pipe(true, options);
 * await a.send({ n: 1 });
 * console.assert((await b.recv<{ n: number }>()).n === 1);
 * a.close();
 * b.close();
 * ```
 */
export interface SerializerOptions {
  /**
   * How `send()`/`recv()` encode values.
   *
   * @default {"msgpack"}
   */
  serializer?: Serializer;
  /** Options of `serializer: "pickle"` (ignored otherwise). */
  pickle?: PickleOptions;
}
