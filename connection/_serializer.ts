// The one place that turns the `serializer` option into the codec that
// Connection's send()/recv() use.

import { decode, encode } from "../_msgpack.ts";
import type { SerializerOptions } from "./serializer.ts";

/** Encodes a value into one message, and back. */
export interface Codec {
  /** The message bytes of `value`; throws a TypeError naming what cannot cross. */
  encode(value: unknown): Uint8Array;
  /** The value of one message; throws a SyntaxError when it is malformed. */
  decode(bytes: Uint8Array): unknown;
}

/** The default: msgpack (`_msgpack.ts`), shared by every connection. */
export const MSGPACK: Codec = { encode, decode };

/**
 * The codec for `options`; throws a TypeError for an unknown serializer.
 * `what` says what is being set up, for the message ("connect", "listen").
 */
export function codecFor(
  options: SerializerOptions | undefined,
  what = "use the connection",
): Codec {
  const serializer = options?.serializer ?? "msgpack";
  if (serializer === "msgpack") return MSGPACK;
  if (serializer === "pickle") {
    throw new Deno.errors.NotSupported(
      `Cannot ${what} with serializer "pickle" as it is not available yet: use serializer "msgpack", or sendBytes/recvBytes with your own encoding`,
    );
  }
  throw new TypeError(
    `Cannot ${what} as 'serializer' must be "msgpack" or "pickle": current value is ${
      JSON.stringify(serializer)
    }`,
  );
}
