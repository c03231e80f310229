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
import { keyBytes } from "./_auth.ts";
import { serverHandshake } from "./_handshake.ts";
import { type Connection, createConnection } from "./connection.ts";
import { SocketChannel } from "./_socket_channel.ts";
import { AuthenticationError } from "./errors.ts";
import { type Codec, codecFor } from "./_serializer.ts";
import type { SerializerOptions } from "./serializer.ts";
import { closeQuietly, defaultMaxStartups, Startups } from "./_startups.ts";

/** Failed handshakes kept for accept() to report when nobody was waiting. */
const MAX_QUEUED_FAILURES = 16;
/** Authenticated connections accepted ahead of accept() calls (then the backlog holds them). */
const MAX_QUEUED = 128;
/** Milliseconds to wait before accepting again when out of file descriptors. */
const EMFILE_PAUSE = 50;

/**
 * Options of {@linkcode Listener}.
 *
 * @example Usage
 * ```ts
 * import { Client, Listener, type ListenerOptions } from "@mproc/multiprocessing/connection";
 *
 * const options: ListenerOptions = { family: "AF_UNIX", authkey: "secret", handshakeTimeout: 5000 };
 * await using listener = new Listener(options);
 * const accepting = listener.accept();
 * const client = await Client(listener.address, { authkey: "secret" });
 * (await accepting).close();
 * client.close();
 * ```
 */
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
   * With an authkey: how many connections may be mid-handshake at once.
   * Every connection is accepted at once (a crowd of silent peers never
   * stalls accepting); past half of this number each new one closes a
   * randomly chosen pending handshake with a probability that rises to 1 at
   * the cap (OpenSSH's `MaxStartups` random early drop), so a legitimate
   * client is never certainly refused. Each costs a few hundred bytes and a
   * file descriptor: keep it well below `ulimit -n` (Deno 2.9 aborts a
   * process that runs out of descriptors).
   *
   * @default {8192, at most half the open-file limit when readable (else 512)}
   */
  maxStartups?: number;
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

function isOutOfFds(e: unknown): boolean {
  const m = (e as Error)?.message ?? "";
  return m.includes("os error 24") || m.includes("os error 23");
}

/** A Deno connection's peer address in {@linkcode Address} form. */
function remoteOf(raw: Deno.Conn): Address {
  const a = raw.remoteAddr as Deno.NetAddr | Deno.UnixAddr;
  return a.transport === "unix" ? { path: (a as Deno.UnixAddr).path ?? "" } : {
    hostname: (a as Deno.NetAddr).hostname,
    port: (a as Deno.NetAddr).port,
  };
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
  /** Connections mid-handshake (with an authkey). */
  #startups: Startups;
  #pumping = false;
  #lastAccepted: Address | undefined;

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
      maxStartups = defaultMaxStartups(),
    } = options;
    if (!(maxStartups >= 1)) {
      throw new RangeError(
        `Cannot listen as 'maxStartups' must be >= 1: current value is ${maxStartups}`,
      );
    }
    this.#startups = new Startups(maxStartups, handshakeTimeout);
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
   * The address of the peer of the last connection handed out (after its
   * handshake), as CPython's `last_accepted`: `{ hostname, port }` for TCP,
   * `{ path }` for Unix (usually an empty path: clients are unnamed);
   * `undefined` before the first.
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
   * const peer = listener.lastAccepted as { hostname: string; port: number };
   * console.assert(peer.hostname === "127.0.0.1" && peer.port > 0);
   * server.close();
   * client.close();
   * ```
   */
  get lastAccepted(): Address | undefined {
    return this.#lastAccepted;
  }

  /**
   * Waits for the next connection that passed the handshake.
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
    const signal = options?.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      return Promise.reject(
        new TypeError(
          "Cannot accept as options.signal is not an AbortSignal: pass an AbortController's signal or leave it out",
        ),
      );
    }
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
   * accept(), and — with an authkey — always, so that every peer is
   * challenged as soon as it connects even while the application is busy
   * (a keyed client can then tell a keyless server by the missing
   * challenge). Unauthenticated connections are bounded by random early
   * drop (`Startups`), not by leaving peers in the backlog; only connections
   * that passed the handshake and wait for accept() are capped (MAX_QUEUED).
   */
  #wanted(): boolean {
    if (this.#closed) return false;
    if (this.#waiters.length > 0) return true;
    return this.#authkey !== undefined &&
      this.#ready.length - this.#readyErrors < MAX_QUEUED;
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
          if (this.#closed) return;
          if (this.#startups.size > 0 && isOutOfFds(e)) {
            // Out of descriptors: make room at the expense of a random
            // pending handshake, then go on accepting.
            this.#startups.dropRandom(
              "it was dropped to free a file descriptor (raise ulimit -n)",
            );
            await new Promise((r) => setTimeout(r, EMFILE_PAUSE));
            continue;
          }
          this.#deliver({ error: e });
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
    const remote = remoteOf(raw);
    const init = this.#maxMessageSize === undefined
      ? { codec: this.#codec, remoteAddress: remote }
      : {
        maxMessageSize: this.#maxMessageSize,
        codec: this.#codec,
        remoteAddress: remote,
      };
    if (!this.#authkey) {
      this.#lastAccepted = remote;
      this.#deliver({ conn: createConnection(new SocketChannel(raw), init) });
      return;
    }
    // An eager handshake (nobody waiting yet) must not keep the process alive.
    const socket = raw as Deno.Conn & { ref?(): void; unref?(): void };
    if (this.#waiters.length === 0) socket.unref?.();
    this.#startups.admit(raw);
    serverHandshake(raw, this.#authkey).then(
      (rest) => {
        if (this.#closed || this.#startups.droppedWhy(raw) !== undefined) {
          closeQuietly(raw);
          return;
        }
        socket.ref?.();
        this.#lastAccepted = remote;
        this.#deliver({
          conn: createConnection(new SocketChannel(raw, rest), init),
        });
      },
      (error) => {
        closeQuietly(raw);
        const why = this.#startups.droppedWhy(raw);
        this.#deliver({
          error: why === undefined ? error : new AuthenticationError(
            `Cannot authenticate the peer ${JSON.stringify(remote)} as ${why}`,
            { cause: error },
          ),
        });
      },
    ).finally(() => {
      this.#startups.forget(raw);
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
    this.#startups.close();
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
