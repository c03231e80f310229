/**
 * The connection layer: `Listener`/`Client` over TCP and Unix sockets,
 * message-oriented `Connection`s with CPython's length-prefixed framing and
 * mutual HMAC authentication (both CPython dialects), `Pipe()` and `wait()`.
 * A Deno end and a CPython end can talk: `sendBytes`/`recvBytes` match
 * CPython's `send_bytes`/`recv_bytes`; `send`/`recv` carry msgpack.
 *
 * ```ts
 * import { Client, Listener } from "@mproc/multiprocessing/connection";
 *
 * await using listener = new Listener({ authkey: "secret" });
 * const [server, client] = await Promise.all([
 *   listener.accept(),
 *   Client(listener.address, { authkey: "secret" }),
 * ]);
 * await using _server = server;
 * await using _client = client;
 * await client.send({ op: "upper", text: "hi" });
 * const msg = await server.recv<{ text: string }>();
 * await server.send(msg.text.toUpperCase());
 * console.assert(await client.recv() === "HI");
 * ```
 *
 * @module
 */

export {
  type Address,
  type Family,
  formatAddress,
  parseAddress,
  type ParsedAddress,
} from "./address.ts";
export {
  answerChallenge,
  deliverChallenge,
  type DeliverChallengeOptions,
} from "./auth.ts";
export { Client, type ClientOptions } from "./client.ts";
export { Connection } from "./connection.ts";
export {
  AuthenticationError,
  BufferTooShortError,
  EOFError,
  ProtocolError,
} from "./errors.ts";
export { Listener, type ListenerOptions } from "./listener.ts";
export { Pipe } from "./pipe.ts";
export type {
  PickleOptions,
  Serializer,
  SerializerOptions,
} from "./serializer.ts";
export { wait } from "./wait.ts";
export { TimeoutError } from "../errors.ts";
