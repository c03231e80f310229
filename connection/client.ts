/**
 * {@linkcode Client}: connects to a {@linkcode Listener} (or a CPython
 * `multiprocessing.connection.Listener`).
 *
 * @module
 */

import { TimeoutError } from "../errors.ts";
import {
  type Address,
  type Family,
  parseAddress,
  type ParsedAddress,
} from "./address.ts";
import { AuthenticationError } from "./errors.ts";
import { keyBytes } from "./_auth.ts";
import { clientHandshake } from "./_handshake.ts";
import { closeQuietly } from "./_startups.ts";
import { type Connection, createConnection } from "./connection.ts";
import { SocketChannel } from "./_socket_channel.ts";
import { type Codec, codecFor } from "./_serializer.ts";
import type { SerializerOptions } from "./serializer.ts";

/**
 * Options of {@linkcode Client}.
 *
 * @example Usage
 * ```ts
 * import { Client, type ClientOptions, Listener } from "@mproc/multiprocessing/connection";
 *
 * await using listener = new Listener({ authkey: "secret" });
 * const accepting = listener.accept();
 * const options: ClientOptions = { authkey: "secret", timeout: 5000 };
 * const client = await Client(listener.address, options);
 * (await accepting).close();
 * client.close();
 * ```
 */
export interface ClientOptions extends SerializerOptions {
  /** Answer and deliver the HMAC challenge with this key (bytes, or a string taken as UTF-8). */
  authkey?: Uint8Array | string;
  /** The expected family; by default read from the address. */
  family?: Family;
  /** Aborts connecting and the handshake; the promise rejects with its reason. */
  signal?: AbortSignal;
  /**
   * Milliseconds for connect plus handshake. A connect past it rejects with
   * {@linkcode TimeoutError}, a handshake past it with `AuthenticationError`.
   *
   * @default {10000}
   */
  timeout?: number;
  /**
   * The longest message accepted from the server, in bytes; a longer one is
   * an error that closes the connection.
   *
   * @default {no limit}
   */
  maxMessageSize?: number;
  /**
   * Connect with TLS, trusting these extra CA certificates (PEM); `hostname`
   * is the name to connect to and verify (default: the address's host).
   */
  tls?: { caCerts?: string[]; hostname?: string };
  /**
   * With an authkey: milliseconds to wait for the server's challenge. A
   * server without an authkey never sends one; this fails fast instead of
   * waiting out `timeout`. Raise it for servers slow to `accept()`.
   *
   * @default {Math.min(timeout, 2000)}
   */
  challengeTimeout?: number;
}

/**
 * Connects to `address`; with an `authkey`, runs the mutual HMAC handshake
 * (answer, then deliver) before resolving.
 *
 * @example Usage
 * ```ts
 * import { Client, Listener } from "@mproc/multiprocessing/connection";
 *
 * await using listener = new Listener({ authkey: "secret" });
 * // Accept and connect together: a failed handshake rejects both sides.
 * const [server, client] = await Promise.all([
 *   listener.accept(),
 *   Client(listener.address, { authkey: "secret" }),
 * ]);
 * await server.send({ ok: true });
 * console.assert((await client.recv<{ ok: boolean }>()).ok);
 * server.close();
 * client.close();
 * ```
 *
 * @example A wrong key
 * ```ts
 * import {
 *   AuthenticationError,
 *   Client,
 *   Listener,
 * } from "@mproc/multiprocessing/connection";
 *
 * await using listener = new Listener({ authkey: "secret" });
 * // The failed peer rejects accept() too: handle it before connecting.
 * const accepted = listener.accept().catch((e) => e);
 * try {
 *   await Client(listener.address, { authkey: "wrong" });
 * } catch (e) {
 *   console.assert(e instanceof AuthenticationError);
 * }
 * console.assert(await accepted instanceof AuthenticationError);
 * ```
 *
 * @param address Where to connect (any {@linkcode Address} form).
 * @param options Authentication, timeout, cancellation, TLS.
 * @returns The connection.
 * @throws {TimeoutError} If connecting took longer than `timeout`.
 * @throws {AuthenticationError} If the handshake fails or takes longer than
 * `timeout`; with no authkey, the first receive rejects with it when the
 * server sends a challenge.
 */
export function Client(
  address: Address,
  options: ClientOptions = {},
): Promise<Connection> {
  try {
    const {
      authkey,
      family,
      timeout = 10_000,
      challengeTimeout = Math.min(timeout, 2_000),
    } = options;
    const addr = parseAddress(address);
    if (family && family !== addr.family) {
      throw new TypeError(
        `Cannot connect as the address is ${addr.family} but 'family' is ${family}`,
      );
    }
    if (!(timeout > 0)) {
      throw new RangeError(
        `Cannot connect as 'timeout' must be > 0: current value is ${timeout}`,
      );
    }
    if (!(challengeTimeout > 0)) {
      throw new RangeError(
        `Cannot connect as 'challengeTimeout' must be > 0: current value is ${challengeTimeout}`,
      );
    }
    const codec = codecFor(options, "connect");
    const key = authkey === undefined ? undefined : keyBytes(authkey);
    return connect(addr, key, timeout, challengeTimeout, codec, options);
  } catch (e) {
    return Promise.reject(e);
  }
}

async function connect(
  addr: ParsedAddress,
  key: Uint8Array | undefined,
  timeout: number,
  challengeTimeout: number,
  codec: Codec,
  options: ClientOptions,
): Promise<Connection> {
  const { signal, maxMessageSize, tls } = options;
  signal?.throwIfAborted();
  // One deadline timer for connect, TLS and the handshake: it fires first at
  // the earliest moment anything can be late, and re-arms only if nothing is.
  const started = performance.now();
  let connectedAt = 0;
  let challenged = false;
  let raw: Deno.Conn | undefined;
  let conn: Connection | undefined;
  let failure: unknown;
  let fail!: (e: unknown) => void;
  const closeRaw = () => {
    if (raw) closeQuietly(raw);
  };
  const failed = new Promise<never>((_, reject) => {
    fail = (e) => {
      if (failure !== undefined) return;
      failure = e;
      conn?.close();
      closeRaw();
      reject(e);
    };
  });
  failed.catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onTimer = () => {
    const now = performance.now();
    const left = timeout - (now - started);
    if (connectedAt === 0) {
      if (left <= 0) {
        return fail(
          new TimeoutError(
            `Cannot connect to ${
              JSON.stringify(address(addr))
            } as ${timeout} ms elapsed: raise 'timeout'`,
          ),
        );
      }
      timer = setTimeout(onTimer, left);
      return;
    }
    const challengeLeft = challengeTimeout - (now - connectedAt);
    if (!challenged && (challengeLeft <= 0 || left <= 0)) {
      const waited = Math.round(Math.min(challengeTimeout, timeout));
      return fail(
        new AuthenticationError(
          `Cannot authenticate as the server sent no challenge within ${waited} ms (challengeTimeout): does it use an authkey? A server slow to accept() needs a larger 'challengeTimeout'`,
        ),
      );
    }
    if (left <= 0) {
      return fail(
        new AuthenticationError(
          `Cannot authenticate as the handshake did not complete within ${timeout} ms: raise 'timeout'`,
        ),
      );
    }
    timer = setTimeout(
      onTimer,
      challenged ? left : Math.min(left, challengeLeft),
    );
  };
  timer = setTimeout(
    onTimer,
    key === undefined || tls ? timeout : Math.min(timeout, challengeTimeout),
  );
  const onAbort = () => fail(signal!.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const connecting = addr.family === "AF_UNIX"
      ? Deno.connect({ transport: "unix", path: addr.path })
      : Deno.connect({ hostname: addr.hostname, port: addr.port });
    connecting.then((c) => {
      if (failure !== undefined) c.close();
    }, () => {});
    raw = await Promise.race([connecting, failed]);
    if (addr.family !== "AF_UNIX") (raw as Deno.TcpConn).setNoDelay(true);
    if (tls) {
      // Upgrade in place: connect to the address, verify the certificate
      // against `tls.hostname` (default: the address's host).
      const upgrading = Deno.startTls(raw as Deno.TcpConn, {
        hostname: tls.hostname ??
          (addr.family === "AF_UNIX" ? "localhost" : addr.hostname),
        ...(tls.caCerts ? { caCerts: tls.caCerts } : {}),
      });
      upgrading.then((c) => {
        if (failure !== undefined) c.close();
      }, () => {});
      raw = await Promise.race([upgrading, failed]);
    }
    connectedAt = performance.now();
    if (tls && key !== undefined) {
      clearTimeout(timer);
      timer = setTimeout(
        onTimer,
        Math.min(challengeTimeout, timeout - (connectedAt - started)),
      );
    }
    let rest: Uint8Array | undefined;
    if (key !== undefined) {
      rest = await Promise.race([
        clientHandshake(raw, key, () => challenged = true),
        failed,
      ]);
    }
    const a = raw.remoteAddr as Deno.NetAddr | Deno.UnixAddr;
    conn = createConnection(new SocketChannel(raw, rest), {
      ...(maxMessageSize === undefined ? {} : { maxMessageSize }),
      expectNoChallenge: key === undefined,
      codec,
      remoteAddress: a.transport === "unix"
        ? {
          path: (a as Deno.UnixAddr).path ||
            (addr.family === "AF_UNIX" ? addr.path : ""),
        }
        : {
          hostname: (a as Deno.NetAddr).hostname,
          port: (a as Deno.NetAddr).port,
        },
    });
    return conn;
  } catch (e) {
    if (conn) conn.close();
    else closeRaw();
    if (failure !== undefined) throw failure;
    throw e;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

/** The address as the user gave it, for messages. */
function address(addr: ParsedAddress): unknown {
  return addr.family === "AF_UNIX"
    ? { path: addr.path }
    : { hostname: addr.hostname, port: addr.port };
}
