// The one place that turns the `serializer` option into the codec that
// Connection's send()/recv() use.

import { decode, encode } from "../_msgpack.ts";
import { dumps } from "../pickle/dumps.ts";
import { loads } from "../pickle/loads.ts";
import type { PickleOptions, SerializerOptions } from "./serializer.ts";

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
  if (serializer === "pickle") return pickleCodec(options?.pickle ?? {}, what);
  throw new TypeError(
    `Cannot ${what} as 'serializer' must be "msgpack" or "pickle": current value is ${
      JSON.stringify(serializer)
    }`,
  );
}

/**
 * `serializer: "pickle"` (API.md §7): `dumps`/`loads` of ../pickle with the
 * connection's `pickle` options; a refused frame is an UnpicklingError (a
 * SyntaxError), so recv() rejects and the connection stays usable.
 */
function pickleCodec(options: PickleOptions, what: string): Codec {
  const { protocol = 4, bigints = false } = options;
  if (![2, 3, 4, 5].includes(protocol)) {
    throw new RangeError(
      `Cannot ${what} as 'pickle.protocol' must be 2, 3, 4 or 5: current value is ${
        JSON.stringify(protocol)
      }`,
    );
  }
  if (typeof bigints !== "boolean") {
    throw new TypeError(
      `Cannot ${what} as 'pickle.bigints' must be a boolean: current value is ${
        JSON.stringify(String(bigints))
      }`,
    );
  }
  const settings = { protocol, bigints };
  return {
    encode: (value) => dumps(value, settings),
    decode: (bytes) => loads(bytes, settings),
  };
}
