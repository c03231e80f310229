/**
 * {@linkcode Pipe}: a pair of connected in-process connections.
 *
 * @module
 */

import { type Connection, createConnection } from "./connection.ts";
import { PortChannel } from "./_port_channel.ts";
import { codecFor } from "./_serializer.ts";
import type { SerializerOptions } from "./serializer.ts";

/**
 * Returns a pair of connections joined to each other, over a
 * `MessageChannel`. Either end can be passed to a Worker or as a Pool task
 * argument, where it arrives working (the end given away is closed here).
 * With `duplex = false` the pair is `[reader, writer]`, as in CPython.
 *
 * Closing one end makes the other's receives reject with `EOFError`. An end
 * owned by a Worker that is terminated does not signal the end of stream.
 *
 * @example Usage
 * ```ts
 * import { Pipe } from "@mproc/multiprocessing/connection";
 *
 * const [reader, writer] = Pipe(false);
 * await writer.send("hello");
 * console.assert(await reader.recv() === "hello");
 * reader.close();
 * writer.close();
 * ```
 *
 * @param duplex Whether both ends can send and receive.
 * @param options How `send()`/`recv()` encode values (`serializer`).
 * @returns The two ends (`[reader, writer]` when not duplex).
 * @throws {TypeError} If `serializer` is not `"msgpack"` or `"pickle"`.
 */
export function Pipe(
  duplex = true,
  options: SerializerOptions = {},
): [Connection, Connection] {
  const codec = codecFor(options, "make a Pipe");
  const serializer = options.serializer === undefined
    ? undefined
    : { serializer: options.serializer, pickle: options.pickle };
  const { port1, port2 } = new MessageChannel();
  const a = createConnection(
    new PortChannel(port1),
    duplex ? { codec, serializer } : { writable: false, codec, serializer },
  );
  const b = createConnection(
    new PortChannel(port2),
    duplex ? { codec, serializer } : { readable: false, codec, serializer },
  );
  return [a, b];
}
