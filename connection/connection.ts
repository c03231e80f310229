/**
 * {@linkcode Connection}: a message-oriented, bidirectional channel over a
 * socket or a {@linkcode Pipe}, byte-compatible with CPython's
 * `multiprocessing.connection.Connection` for `sendBytes`/`recvBytes`.
 *
 * @module
 */

import { badTimeout } from "./_timeout.ts";
import { TRANSFER, type TransferHandle } from "../_transfer.ts";
import { registerReviver } from "../_transfer.ts";
import type { Channel } from "./_channel.ts";
import { type Codec, codecFor, MSGPACK } from "./_serializer.ts";
import type { SerializerOptions } from "./serializer.ts";
import type { Address } from "./address.ts";
import { PortChannel } from "./_port_channel.ts";
import {
  AuthenticationError,
  BufferTooShortError,
  EOFError,
  ProtocolError,
} from "./errors.ts";
import { CHALLENGE, startsWith } from "./_bytes.ts";

const TRANSFER_TAG = "@mproc/connection";

/**
 * Construction options of a connection.
 *
 * @internal Not exported from the module.
 */
export interface ConnectionInit {
  /** Largest message accepted from the peer, in bytes. */
  maxMessageSize?: number;
  /** False for the writing end of `Pipe(false)`. */
  readable?: boolean;
  /** False for the reading end of `Pipe(false)`. */
  writable?: boolean;
  /** A keyless client: a first frame that is a challenge means the server wants an authkey. */
  expectNoChallenge?: boolean;
  /** The peer's address (sockets only). */
  remoteAddress?: Address;
  /** How send()/recv() encode values (default msgpack). */
  codec?: Codec;
  /** The options `codec` came from (they travel with a transferred Pipe end). */
  serializer?: SerializerOptions;
}

/** A RangeError when `value` is not an integer in [0, max], else null. */
function checkIndex(name: string, value: number, max: number): Error | null {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    return new RangeError(
      `Cannot use '${name}' as it must be an integer from 0 to ${max}: current value is ${value}`,
    );
  }
  return null;
}

function asBytes(buf: ArrayBufferView): Uint8Array {
  return buf instanceof Uint8Array
    ? buf
    : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function identity<T>(x: T): T {
  return x;
}

let create: (channel: Channel, init?: ConnectionInit) => Connection;

/**
 * A connection: `send`/`recv` carry values encoded by the connection's
 * `serializer` (msgpack by default, or CPython's pickle with
 * `serializer: "pickle"`: see {@linkcode SerializerOptions}); `sendBytes`/
 * `recvBytes` carry raw bytes in CPython's framing (a 4-byte big-endian
 * length, then the payload). Get one from {@linkcode Client},
 * {@linkcode Listener.accept} or {@linkcode Pipe}.
 *
 * Sends may be issued concurrently: each message is written whole, in call
 * order. Receives are served in call order. Async iteration yields received
 * values until the peer closes.
 *
 * What a resolved send means (as Node's `socket.write`): over a socket, the
 * message is in this connection's send buffer — a small payload copied
 * there, so `buf` may be reused at once — and will be written in order,
 * gathered with others into few writes. While the buffer holds more than
 * 1 MiB, sends resolve only as it drains (backpressure: an awaited send loop
 * holds at most about 1 MiB); a payload over 64 KiB is not copied and its
 * send resolves once the kernel has it. It does not mean the peer received
 * it. A write error (the peer reset the connection) rejects the next send
 * and `await using`/`[Symbol.asyncDispose]()`; `close()` still writes what
 * was queued, giving up once the peer has taken nothing for a second. Over a {@linkcode Pipe}, a resolved send has been posted.
 *
 * @example Usage
 * ```ts
 * import { Pipe } from "@mproc/multiprocessing/connection";
 *
 * const [a, b] = Pipe();
 * await a.send({ hello: "world" });
 * const msg = await b.recv<{ hello: string }>();
 * console.assert(msg.hello === "world");
 * a.close();
 * b.close();
 * ```
 */
export class Connection implements AsyncDisposable, AsyncIterable<unknown> {
  #ch: Channel;
  #closed = false;
  #readable: boolean;
  #writable: boolean;
  #maxMessageSize: number;
  #expectNoChallenge: boolean;
  #codec: Codec;
  #serializer: SerializerOptions | undefined;
  #decode: (frame: Uint8Array) => unknown;
  #remoteAddress: Address | undefined;
  /** A read is in progress; later reads wait in `#queue`. */
  #busy = false;
  #queue: (() => void)[] = [];

  private constructor(channel: Channel, init: ConnectionInit) {
    this.#ch = channel;
    this.#readable = init.readable ?? true;
    this.#writable = init.writable ?? true;
    this.#maxMessageSize = init.maxMessageSize ?? Number.MAX_SAFE_INTEGER;
    this.#expectNoChallenge = init.expectNoChallenge ?? false;
    const codec = this.#codec = init.codec ?? MSGPACK;
    this.#serializer = init.serializer;
    this.#remoteAddress = init.remoteAddress;
    this.#decode = codec === MSGPACK ? MSGPACK.decode : (f) => codec.decode(f);
  }

  static {
    create = (channel, init = {}) => new Connection(channel, init);
  }

  /**
   * Whether {@linkcode Connection.close} was called (or the connection was
   * closed because of a protocol error).
   *
   * @example Usage
   * ```ts
   * import { Pipe } from "@mproc/multiprocessing/connection";
   *
   * const [a, b] = Pipe();
   * a.close();
   * console.assert(a.closed);
   * b.close();
   * ```
   */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The peer's address: `{ hostname, port }` over TCP, `{ path }` over Unix
   * (usually an empty path: clients are unnamed); `undefined` for a
   * {@linkcode Pipe} end.
   *
   * @example Usage
   * ```ts
   * import { Client, Listener } from "@mproc/multiprocessing/connection";
   *
   * await using listener = new Listener();
   * const [server, client] = await Promise.all([
   *   listener.accept(),
   *   Client(listener.address),
   * ]);
   * const { port } = client.remoteAddress as { hostname: string; port: number };
   * console.assert(port === (listener.address as { port: number }).port);
   * console.assert(server.remoteAddress !== undefined);
   * server.close();
   * client.close();
   * ```
   */
  get remoteAddress(): Address | undefined {
    return this.#remoteAddress;
  }

  #checkWrite(): Error | null {
    if (this.#closed) {
      return new Deno.errors.BadResource(
        "Cannot send as the connection is closed",
      );
    }
    if (!this.#writable) {
      return new Deno.errors.NotSupported(
        "Cannot send as the connection is read-only",
      );
    }
    return null;
  }

  #checkRead(): Error | null {
    if (this.#closed) {
      return new Deno.errors.BadResource(
        "Cannot receive as the connection is closed",
      );
    }
    if (!this.#readable) {
      return new Deno.errors.NotSupported(
        "Cannot receive as the connection is write-only",
      );
    }
    return null;
  }

  /**
   * Sends one value as one message, encoded by the connection's
   * `serializer`: msgpack by default, pickle with `serializer: "pickle"`.
   *
   * @example Usage
   * ```ts
   * import { Pipe } from "@mproc/multiprocessing/connection";
   *
   * const [a, b] = Pipe();
   * await a.send([1, "two", { three: 3 }]);
   * console.assert((await b.recv<unknown[]>()).length === 3);
   * a.close();
   * b.close();
   * ```
   *
   * @example With `serializer: "pickle"` (a dict comes back as a Map)
   * ```ts
   * import { Pipe } from "@mproc/multiprocessing/connection";
   *
   * const [a, b] = Pipe(true, { serializer: "pickle" });
   * await a.send({ three: 3 });
   * console.assert((await b.recv<Map<string, number>>()).get("three") === 3);
   * a.close();
   * b.close();
   * ```
   *
   * @param obj The value.
   * @returns A promise that resolves once the message is queued in the
   * connection's send buffer (see {@linkcode Connection}): not that the peer
   * has it.
   * @throws {TypeError} (as a rejection) naming the path of a part the
   * serializer cannot carry (msgpack: a function, symbol, cycle, bigint over
   * 64 bits; pickle: see the pickle module's `dumps`); nothing is written
   * and the connection stays usable.
   */
  send(obj: unknown): Promise<void> {
    const err = this.#checkWrite();
    if (err) return Promise.reject(err);
    let bytes: Uint8Array;
    try {
      bytes = this.#codec.encode(obj);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#ch.writeFrame(bytes);
  }

  /**
   * Sends bytes as one message: `buf[offset, offset + size)`.
   *
   * @example Usage
   * ```ts
   * import { Pipe } from "@mproc/multiprocessing/connection";
   *
   * const [a, b] = Pipe();
   * await a.sendBytes(new TextEncoder().encode("hello world"), 6);
   * console.assert(new TextDecoder().decode(await b.recvBytes()) === "world");
   * a.close();
   * b.close();
   * ```
   *
   * @param buf The bytes.
   * @param offset Where to start, in bytes.
   * @param size How many bytes; default: to the end.
   * @returns A promise that resolves once the message is queued in the
   * connection's send buffer (see {@linkcode Connection}): not that the peer
   * has it.
   * @throws {RangeError} (as a rejection) If `offset` or `size` are out of
   * range; nothing is sent.
   */
  sendBytes(buf: Uint8Array, offset = 0, size?: number): Promise<void> {
    if (!ArrayBuffer.isView(buf)) {
      return Promise.reject(
        new TypeError("Cannot send the bytes as 'buf' is not a Uint8Array"),
      );
    }
    const view = asBytes(buf);
    const err = checkIndex("offset", offset, view.length) ??
      (size === undefined
        ? null
        : checkIndex("size", size, view.length - offset)) ??
      this.#checkWrite();
    if (err) return Promise.reject(err);
    const end = size === undefined ? view.length : offset + size;
    return this.#ch.writeFrame(
      offset === 0 && end === view.length ? view : view.subarray(offset, end),
    );
  }

  /**
   * Runs reads one at a time, in call order. When no read is pending and a
   * whole frame is buffered, it is taken synchronously (the hot path of a
   * pipelined stream).
   */
  #frame<T>(
    maxLength: number,
    lend: boolean,
    then: (frame: Uint8Array) => T,
  ): Promise<T> {
    if (!this.#busy) {
      let frame: Uint8Array | null | undefined;
      try {
        frame = this.#ch.tryReadFrame(maxLength, lend);
      } catch (e) {
        return Promise.reject(this.#failed(e));
      }
      if (frame !== undefined) {
        try {
          return Promise.resolve(then(this.#check(frame)));
        } catch (e) {
          return Promise.reject(e);
        }
      }
      this.#busy = true;
      return this.#run(maxLength, lend, then);
    }
    return new Promise<void>((resolve) => this.#queue.push(resolve)).then(() =>
      this.#run(maxLength, lend, then)
    );
  }

  async #run<T>(
    maxLength: number,
    lend: boolean,
    then: (frame: Uint8Array) => T,
  ): Promise<T> {
    try {
      let frame: Uint8Array | null;
      try {
        frame = await this.#ch.readFrame(maxLength, lend);
      } catch (e) {
        throw this.#failed(e);
      }
      return then(this.#check(frame));
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#busy = false;
    }
  }

  /** A framing error closed the channel: the connection is closed too. */
  #failed(e: unknown): unknown {
    if (e instanceof RangeError || e instanceof ProtocolError) {
      this.#closed = true;
    }
    return e;
  }

  #check(frame: Uint8Array | null): Uint8Array {
    if (frame === null) throw new EOFError();
    if (this.#expectNoChallenge) {
      this.#expectNoChallenge = false;
      if (startsWith(frame, CHALLENGE)) {
        this.close();
        throw new AuthenticationError(
          "Cannot receive as the server wants an authkey: it sent an authentication challenge and this client has no authkey",
        );
      }
    }
    return frame;
  }

  /**
   * Receives one value sent with {@linkcode Connection.send}.
   *
   * @example Usage
   * ```ts
   * import { Pipe } from "@mproc/multiprocessing/connection";
   *
   * const [a, b] = Pipe();
   * await a.send({ n: 1 });
   * const { n } = await b.recv<{ n: number }>();
   * console.assert(n === 1);
   * a.close();
   * b.close();
   * ```
   *
   * @typeParam T The expected type (not checked).
   * @returns The value.
   * @throws {EOFError} If the peer closed the connection.
   * @throws {SyntaxError} If the message is not exactly one value of the
   * connection's `serializer` (an UnpicklingError, a SyntaxError, with
   * `serializer: "pickle"`); the message is consumed and the connection
   * stays usable.
   */
  recv<T = unknown>(): Promise<T> {
    const err = this.#checkRead();
    if (err) return Promise.reject(err);
    return this.#frame(
      this.#maxMessageSize,
      true,
      this.#decode as (f: Uint8Array) => T,
    );
  }

  /**
   * Receives one message as bytes.
   *
   * @example Usage
   * ```ts
   * import { Pipe } from "@mproc/multiprocessing/connection";
   *
   * const [a, b] = Pipe();
   * await a.sendBytes(new Uint8Array([1, 2, 3]));
   * console.assert((await b.recvBytes()).length === 3);
   * a.close();
   * b.close();
   * ```
   *
   * @param maxlength The longest message accepted; a longer one is an error
   * and closes the connection (its payload is not read).
   * @returns The message.
   * @throws {EOFError} If the peer closed the connection.
   * @throws {RangeError} If the message is longer than `maxlength`.
   */
  recvBytes(maxlength?: number): Promise<Uint8Array> {
    if (maxlength !== undefined && !(maxlength >= 0)) {
      return Promise.reject(
        new RangeError(
          `Cannot receive as 'maxlength' must be >= 0: current value is ${maxlength}`,
        ),
      );
    }
    const err = this.#checkRead();
    if (err) return Promise.reject(err);
    const limit = maxlength === undefined
      ? this.#maxMessageSize
      : Math.min(maxlength, this.#maxMessageSize);
    return this.#frame(limit, false, identity);
  }

  /**
   * Receives one message into `buf` at `offset` (bytes) and returns its
   * length. When it does not fit, the message is consumed and the promise
   * rejects with {@linkcode BufferTooShortError} carrying the whole message.
   *
   * @example Usage
   * ```ts
   * import { Pipe } from "@mproc/multiprocessing/connection";
   *
   * const [a, b] = Pipe();
   * await a.sendBytes(new Uint8Array([7, 8]));
   * const buf = new Uint8Array(4);
   * console.assert(await b.recvBytesInto(buf, 2) === 2 && buf[3] === 8);
   * a.close();
   * b.close();
   * ```
   *
   * @param buf Where to write the message.
   * @param offset Where in `buf` to start, in bytes.
   * @returns The number of bytes received.
   * @throws {BufferTooShortError} If the message does not fit.
   * @throws {RangeError} If `offset` is out of range.
   */
  recvBytesInto(buf: Uint8Array, offset = 0): Promise<number> {
    if (!ArrayBuffer.isView(buf)) {
      return Promise.reject(
        new TypeError("Cannot receive into 'buf' as it is not a Uint8Array"),
      );
    }
    const view = asBytes(buf);
    const err = checkIndex("offset", offset, view.length) ?? this.#checkRead();
    if (err) return Promise.reject(err);
    return this.#frame(this.#maxMessageSize, true, (frame) => {
      if (offset + frame.length > view.length) {
        throw new BufferTooShortError(frame.slice());
      }
      view.set(frame, offset);
      return frame.length;
    });
  }

  /**
   * Whether there is something to read: a message (or part of one) has
   * arrived or the peer closed (then the next receive rejects with
   * {@linkcode EOFError}), as CPython.
   *
   * @example Usage
   * ```ts
   * import { Pipe } from "@mproc/multiprocessing/connection";
   *
   * const [a, b] = Pipe();
   * console.assert(!(await b.poll(0)));
   * await a.send(1);
   * console.assert(await b.poll(1000));
   * a.close();
   * b.close();
   * ```
   *
   * @param timeout How long to wait, in ms: `0` does not wait; `undefined`
   * waits forever.
   * @returns Whether data (or the end of stream) is there.
   */
  poll(timeout?: number): Promise<boolean> {
    const err = this.#checkRead() ?? badTimeout("poll", timeout);
    if (err) return Promise.reject(err);
    if (this.#ch.hasData()) return Promise.resolve(true);
    if (timeout !== undefined && !(timeout > 0)) return Promise.resolve(false);
    const ready = this.#ch.whenData().then(() => !this.#closed);
    if (timeout === undefined || !Number.isFinite(timeout)) return ready;
    return new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(this.#ch.hasData()), timeout);
      ready.then((v) => {
        clearTimeout(t);
        resolve(v);
      });
    });
  }

  /** @internal Resolves when data or EOF is there (for `wait()`). */
  whenReadable(): Promise<void> {
    return this.#closed ? Promise.resolve() : this.#ch.whenData();
  }

  /** @internal Whether data or EOF is there now (for `wait()`). */
  isReadable(): boolean {
    return !this.#closed && this.#ch.hasData();
  }

  /**
   * Closes the connection. Idempotent. Messages already sent are still
   * written; pending receives reject.
   *
   * @example Usage
   * ```ts
   * import { Pipe } from "@mproc/multiprocessing/connection";
   *
   * const [a, b] = Pipe();
   * a.close();
   * a.close();
   * b.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ch.close();
  }

  /**
   * Yields received values until the peer closes the connection.
   *
   * @example Usage
   * ```ts
   * import { Pipe } from "@mproc/multiprocessing/connection";
   *
   * const [a, b] = Pipe();
   * await a.send(1);
   * await a.send(2);
   * a.close();
   * const got = [];
   * for await (const v of b) got.push(v);
   * console.assert(got.length === 2);
   * b.close();
   * ```
   *
   * @returns An async iterator of received values.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<unknown> {
    // Hand-written rather than an async generator: one promise per message.
    const done: IteratorResult<unknown> = { value: undefined, done: true };
    const onError = (e: unknown): IteratorResult<unknown> => {
      if (e instanceof EOFError) return done;
      throw e;
    };
    const decode = this.#decode;
    const toResult = (f: Uint8Array): IteratorResult<unknown> => ({
      value: decode(f),
      done: false,
    });
    const it: AsyncIterableIterator<unknown> = {
      next: (): Promise<IteratorResult<unknown>> => {
        if (this.#closed) return Promise.resolve(done);
        const err = this.#checkRead();
        if (err) return Promise.reject(err);
        return this.#frame(this.#maxMessageSize, true, toResult).catch(onError);
      },
      return: (): Promise<IteratorResult<unknown>> => Promise.resolve(done),
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  /**
   * Closes the connection (`await using conn = await Client(...)`) and waits
   * until the messages already sent are written (at most about a second
   * for a peer that does not read).
   *
   * @example Usage
   * ```ts
   * import { Pipe } from "@mproc/multiprocessing/connection";
   *
   * const [a, b] = Pipe();
   * {
   *   await using _a = a;
   *   await using _b = b;
   * }
   * console.assert(a.closed && b.closed);
   * ```
   *
   * @returns A promise that resolves once the queued messages are written.
   * @throws {Error} (as a rejection) A write error that no send reported
   * (messages were lost).
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return this.#ch.flushed();
  }

  /**
   * Moves a {@linkcode Pipe} end to another thread (a Pool task argument or
   * a value posted to a Worker). This end is unusable afterwards. Socket
   * connections cannot move: Deno sockets belong to one thread.
   *
   * @internal
   */
  [TRANSFER](): TransferHandle {
    if (!(this.#ch instanceof PortChannel)) {
      throw new TypeError(
        "Cannot transfer the connection to another thread as only Pipe() ends can move: open a new Client() there instead",
      );
    }
    if (this.#closed) {
      throw new Deno.errors.BadResource(
        "Cannot transfer the connection as it is closed",
      );
    }
    const { port, frames, eof } = this.#ch.detach();
    this.#closed = true;
    return {
      tag: TRANSFER_TAG,
      module: import.meta.url,
      data: {
        port,
        frames,
        eof,
        readable: this.#readable,
        writable: this.#writable,
        maxMessageSize: this.#maxMessageSize,
        serializer: this.#serializer,
      },
      transfer: [port],
    };
  }
}

registerReviver(TRANSFER_TAG, (data) => {
  const d = data as {
    port: MessagePort;
    frames: Uint8Array[];
    eof: boolean;
    readable: boolean;
    writable: boolean;
    maxMessageSize: number;
    serializer: SerializerOptions | undefined;
  };
  return create(new PortChannel(d.port, d.frames, d.eof), {
    ...d,
    codec: codecFor(d.serializer),
  });
});

/**
 * Creates a connection over a channel.
 *
 * @internal Not exported from the module: Client, Listener and Pipe make
 * connections.
 */
export function createConnection(
  channel: Channel,
  init?: ConnectionInit,
): Connection {
  return create(channel, init);
}
