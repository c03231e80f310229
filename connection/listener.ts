/**
 * {@linkcode Listener}: accepts authenticated connections over TCP (v4, v6,
 * optionally TLS) or Unix sockets.
 *
 * @module
 */

import {
  type Address,
  type Family,
  isLoopback,
  parseAddress,
  type ParsedAddress,
} from "./address.ts";
import { handshake, keyBytes } from "./_auth.ts";
import { type Connection, createConnection } from "./connection.ts";
import { SocketChannel } from "./_socket_channel.ts";
import { AuthenticationError } from "./errors.ts";
import { type Codec, codecFor } from "./_serializer.ts";
import type { SerializerOptions } from "./serializer.ts";

/** Failed handshakes kept for accept() to report when nobody was waiting. */
const MAX_QUEUED_FAILURES = 16;
/** Handshakes that may run at once; more connections wait in the kernel backlog. */
const MAX_HANDSHAKES = 128;

/** Options of {@linkcode Listener}. */
export interface ListenerOptions extends SerializerOptions {
  /**
   * Where to listen (any {@linkcode Address} form).
   *
   * @default {127.0.0.1 with an ephemeral port; AF_UNIX: a fresh socket path in a private temp dir}
   */
  address?: Address;
  /**
   * The address family; by default read from `address`. `"AF_UNIX"` with no
   * address makes a fresh socket path in a private (0700) temp dir.
   */
  family?: Family;
  /** Accepted for CPython parity; Deno sizes the kernel backlog itself. */
  backlog?: number;
  /**
   * Enables the mutual HMAC handshake on every accepted connection (bytes, or
   * a string taken as UTF-8).
   */
  authkey?: Uint8Array | string;
  /**
   * The longest message accepted after authentication, in bytes; a longer one
   * is an error that closes that connection.
   *
   * @default {no limit}
   */
  maxMessageSize?: number;
  /**
   * Milliseconds a peer has to complete the handshake before it is dropped.
   *
   * @default {10000}
   */
  handshakeTimeout?: number;
  /** Serve TLS with this PEM certificate chain and key (for non-loopback use). */
  tls?: { cert: string; key: string };
  /**
   * Listening on a non-loopback TCP address without an authkey lets anyone
   * who can reach it send messages; it is refused unless this is `true`.
   *
   * @default {false}
   */
  allowUnauthenticated?: boolean;
}

type Outcome = { conn: Connection } | { error: unknown };

interface Waiter {
  resolve(c: Connection): void;
  reject(e: unknown): void;
}

/**
 * Listens for connections; `accept()` returns each one once it has passed
 * the handshake (when an authkey is set). Handshakes run concurrently, each
 * bounded by `handshakeTimeout`, so a silent peer delays nobody else. Async
 * iteration yields accepted connections (skipping peers that fail the
 * handshake) until the listener is closed.
 *
 * @example Usage
 * ```ts
 * import { Client, Listener } from "@mproc/multiprocessing/connection";
 *
 * await using listener = new Listener({ authkey: "secret" });
 * const [server, client] = await Promise.all([
 *   listener.accept(),
 *   Client(listener.address, { authkey: "secret" }),
 * ]);
 * await client.send("ping");
 * console.assert(await server.recv() === "ping");
 * server.close();
 * client.close();
 * ```
 */
export class Listener implements AsyncDisposable, AsyncIterable<Connection> {
  #listener: Deno.Listener;
  #address: Address;
  #unixPath: string | undefined;
  #tempDir: string | undefined;
  #authkey: Uint8Array | undefined;
  #maxMessageSize: number | undefined;
  #handshakeTimeout: number;
  #isTcp: boolean;
  #codec: Codec;
  #closed = false;
  #waiters: Waiter[] = [];
  #ready: Outcome[] = [];
  /** How many of `#ready` are failed handshakes. */
  #readyErrors = 0;
  #handshaking = new Set<Connection>();
  #pumping = false;

  /**
   * Binds and listens, synchronously.
   *
   * @param options Where and how to listen.
   * @throws {TypeError} If the address and family disagree, a
   * non-loopback TCP address is given without an authkey and without
   * `allowUnauthenticated`, or `serializer` is unknown.
   */
  constructor(options: ListenerOptions = {}) {
    const {
      family,
      authkey,
      maxMessageSize,
      handshakeTimeout = 10_000,
      tls,
      allowUnauthenticated = false,
    } = options;
    if (maxMessageSize !== undefined && !(maxMessageSize >= 0)) {
      throw new RangeError(
        `Cannot listen as 'maxMessageSize' must be >= 0: current value is ${maxMessageSize}`,
      );
    }
    if (!(handshakeTimeout > 0)) {
      throw new RangeError(
        `Cannot listen as 'handshakeTimeout' must be > 0: current value is ${handshakeTimeout}`,
      );
    }
    this.#codec = codecFor(options, "listen");
    this.#authkey = authkey === undefined ? undefined : keyBytes(authkey);
    this.#maxMessageSize = maxMessageSize;
    this.#handshakeTimeout = handshakeTimeout;
    let addr: ParsedAddress;
    if (options.address !== undefined) {
      addr = parseAddress(options.address);
      if (family && family !== addr.family) {
        throw new TypeError(
          `Cannot listen as the address is ${addr.family} but 'family' is ${family}`,
        );
      }
    } else if (family === "AF_UNIX") {
      this.#tempDir = Deno.makeTempDirSync({ prefix: "mproc-" });
      addr = { family: "AF_UNIX", path: `${this.#tempDir}/listener.sock` };
    } else {
      addr = family === "AF_INET6"
        ? { family: "AF_INET6", hostname: "::1", port: 0 }
        : { family: "AF_INET", hostname: "127.0.0.1", port: 0 };
    }
    if (
      addr.family !== "AF_UNIX" && !isLoopback(addr.hostname) &&
      !this.#authkey && !allowUnauthenticated
    ) {
      throw new TypeError(
        `Cannot listen on the non-loopback address '${addr.hostname}' without an authkey: pass 'authkey', or 'allowUnauthenticated: true' to accept anyone who can connect`,
      );
    }
    this.#isTcp = addr.family !== "AF_UNIX";
    try {
      if (addr.family === "AF_UNIX") {
        this.#listener = Deno.listen({ transport: "unix", path: addr.path });
        if (!addr.path.startsWith("\0")) {
          this.#unixPath = addr.path;
          Deno.chmodSync(addr.path, 0o600);
        }
        this.#address = { path: addr.path };
      } else {
        this.#listener = tls
          ? Deno.listenTls({
            hostname: addr.hostname,
            port: addr.port,
            cert: tls.cert,
            key: tls.key,
          })
          : Deno.listen({ hostname: addr.hostname, port: addr.port });
        const bound = this.#listener.addr as Deno.NetAddr;
        this.#address = { hostname: bound.hostname, port: bound.port };
      }
    } catch (e) {
      this.#removeFiles();
      throw e;
    }
    if (this.#authkey) this.#pump();
  }

  /**
   * The bound address (the real port when port 0 was asked), usable as it is
   * by {@linkcode Client}: `{ hostname, port }` or `{ path }`.
   *
   * @example Usage
   * ```ts
   * import { Listener } from "@mproc/multiprocessing/connection";
   *
   * using listener = new Listener();
   * console.assert((listener.address as { port: number }).port > 0);
   * ```
   */
  get address(): Address {
    return this.#address;
  }

  /**
   * Whether {@linkcode Listener.close} was called.
   *
   * @example Usage
   * ```ts
   * import { Listener } from "@mproc/multiprocessing/connection";
   *
   * const listener = new Listener();
   * listener.close();
   * console.assert(listener.closed);
   * ```
   */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Waits for the next connection that passed the handshake.
   *
   * @example Usage
   * ```ts
   * import { Client, Listener } from "@mproc/multiprocessing/connection";
   *
   * await using listener = new Listener();
   * const pending = listener.accept();
   * const client = await Client(listener.address);
   * const server = await pending;
   * server.close();
   * client.close();
   * ```
   *
   * @param options `signal` aborts the wait (the promise rejects with its reason).
   * @returns The connection.
   * @throws {AuthenticationError} If the next peer failed the handshake (the
   * listener stays usable).
   * @throws {Deno.errors.BadResource} If the listener is closed.
   */
  accept(options: { signal?: AbortSignal } = {}): Promise<Connection> {
    const { signal } = options;
    if (this.#closed) {
      return Promise.reject(
        new Deno.errors.BadResource("Cannot accept as the listener is closed"),
      );
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const next = this.#ready.shift();
    if (next) {
      if ("error" in next) this.#readyErrors--;
      this.#pump();
      return "conn" in next
        ? Promise.resolve(next.conn)
        : Promise.reject(next.error);
    }
    return new Promise<Connection>((resolve, reject) => {
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        resolve: (c) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(c);
        },
        reject: (e) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
      this.#listener.ref();
      this.#pump();
    });
  }

  #deliver(outcome: Outcome): void {
    if (this.#closed) {
      if ("conn" in outcome) outcome.conn.close();
      return;
    }
    const waiter = this.#waiters.shift();
    if (!waiter) {
      this.#ready.push(outcome);
      if ("error" in outcome && ++this.#readyErrors > MAX_QUEUED_FAILURES) {
        // Keep only the latest failures: junk peers must not use up capacity.
        this.#ready.splice(this.#ready.findIndex((o) => "error" in o), 1);
        this.#readyErrors--;
      }
      return;
    }
    if ("conn" in outcome) waiter.resolve(outcome.conn);
    else waiter.reject(outcome.error);
  }

  /**
   * Whether to accept another connection now: while someone waits in
   * accept(), and — with an authkey — eagerly, so that every peer is
   * challenged as soon as it connects even while the application is busy
   * (a keyed client can then tell a keyless server by the missing
   * challenge). Bounded by MAX_HANDSHAKES connections not yet accepted.
   */
  #wanted(): boolean {
    if (this.#closed || this.#handshaking.size >= MAX_HANDSHAKES) return false;
    if (this.#waiters.length > 0) return true;
    const queued = this.#ready.length - this.#readyErrors;
    return this.#authkey !== undefined &&
      queued + this.#handshaking.size < MAX_HANDSHAKES;
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#wanted()) {
        let raw: Deno.Conn;
        // Eager accepts (nobody waiting) must not keep the process alive.
        if (this.#waiters.length === 0) this.#listener.unref();
        try {
          raw = await this.#listener.accept();
        } catch (e) {
          if (!this.#closed) this.#deliver({ error: e });
          return;
        }
        this.#start(raw);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #start(raw: Deno.Conn): void {
    if (this.#closed) {
      raw.close();
      return;
    }
    if (this.#isTcp) {
      try {
        (raw as Deno.TcpConn).setNoDelay(true);
      } catch {
        // TLS connections set it on the underlying socket themselves
      }
    }
    const init = this.#maxMessageSize === undefined
      ? { codec: this.#codec }
      : { maxMessageSize: this.#maxMessageSize, codec: this.#codec };
    const conn = createConnection(new SocketChannel(raw), init);
    if (!this.#authkey) {
      this.#deliver({ conn });
      return;
    }
    // An eager handshake (nobody waiting yet) must not keep the process alive.
    const socket = raw as Deno.Conn & { ref?(): void; unref?(): void };
    if (this.#waiters.length === 0) socket.unref?.();
    this.#handshaking.add(conn);
    handshake(conn, this.#authkey, "server", this.#handshakeTimeout).then(
      () => {
        socket.ref?.();
        this.#deliver({ conn });
      },
      (error) => {
        conn.close();
        this.#deliver({
          error: error instanceof AuthenticationError
            ? error
            : new AuthenticationError(String(error), { cause: error }),
        });
      },
    ).finally(() => {
      this.#handshaking.delete(conn);
      this.#pump();
    });
  }

  /**
   * Yields accepted connections until the listener is closed; peers that
   * fail the handshake are skipped.
   *
   * @example Usage
   * ```ts
   * import { Client, Listener } from "@mproc/multiprocessing/connection";
   *
   * await using listener = new Listener();
   * const client = await Client(listener.address);
   * for await (const conn of listener) {
   *   conn.close();
   *   break;
   * }
   * client.close();
   * ```
   *
   * @returns An async iterator of connections.
   */
  async *[Symbol.asyncIterator](): AsyncIterableIterator<Connection> {
    while (!this.#closed) {
      try {
        yield await this.accept();
      } catch (e) {
        if (e instanceof AuthenticationError) continue;
        if (this.#closed) return;
        throw e;
      }
    }
  }

  /**
   * Stops listening. Idempotent. Pending `accept()` calls reject, unclaimed
   * and half-authenticated connections are closed, and the Unix socket file
   * (and the temp dir) this listener made is removed.
   *
   * @example Usage
   * ```ts
   * import { Listener } from "@mproc/multiprocessing/connection";
   *
   * const listener = new Listener({ family: "AF_UNIX" });
   * listener.close();
   * listener.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    const err = new Deno.errors.BadResource(
      "Cannot accept as the listener is closed",
    );
    for (const w of this.#waiters.splice(0)) w.reject(err);
    for (const o of this.#ready.splice(0)) if ("conn" in o) o.conn.close();
    for (const c of this.#handshaking) c.close();
    this.#removeFiles();
  }

  #removeFiles(): void {
    if (this.#unixPath) {
      try {
        Deno.removeSync(this.#unixPath);
      } catch {
        // gone already
      }
    }
    if (this.#tempDir) {
      try {
        Deno.removeSync(this.#tempDir, { recursive: true });
      } catch {
        // gone already
      }
    }
  }

  /**
   * Closes the listener (`using listener = new Listener()`).
   *
   * @example Usage
   * ```ts
   * import { Listener } from "@mproc/multiprocessing/connection";
   *
   * {
   *   using _listener = new Listener();
   * }
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Closes the listener (`await using listener = new Listener()`).
   *
   * @example Usage
   * ```ts
   * import { Listener } from "@mproc/multiprocessing/connection";
   *
   * {
   *   await using _listener = new Listener();
   * }
   * ```
   *
   * @returns A resolved promise.
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}
