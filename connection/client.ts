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
import { handshake, keyBytes } from "./_auth.ts";
import { type Connection, createConnection } from "./connection.ts";
import { SocketChannel } from "./_socket_channel.ts";
import { type Codec, codecFor } from "./_serializer.ts";
import type { SerializerOptions } from "./serializer.ts";

/** Options of {@linkcode Client}. */
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
 * const accepted = listener.accept();
 * await using client = await Client(listener.address, { authkey: "secret" });
 * await using server = await accepted;
 * await server.send({ ok: true });
 * console.assert((await client.recv<{ ok: boolean }>()).ok);
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
  const started = Date.now();
  const connecting: Promise<Deno.Conn> = addr.family === "AF_UNIX"
    ? Deno.connect({ transport: "unix", path: addr.path })
    : Deno.connect({ hostname: addr.hostname, port: addr.port });
  let raw: Deno.Conn = await raceDeadline(connecting, timeout, signal, addr);
  if (addr.family !== "AF_UNIX") (raw as Deno.TcpConn).setNoDelay(true);
  if (tls) {
    // Upgrade in place: connect to the address, verify the certificate
    // against `tls.hostname` (default: the address's host).
    raw = await raceDeadline(
      Deno.startTls(raw as Deno.TcpConn, {
        hostname: tls.hostname ??
          (addr.family === "AF_UNIX" ? "localhost" : addr.hostname),
        ...(tls.caCerts ? { caCerts: tls.caCerts } : {}),
      }),
      Math.max(1, timeout - (Date.now() - started)),
      signal,
      addr,
    );
  }

  const init = {
    ...(maxMessageSize === undefined ? {} : { maxMessageSize }),
    expectNoChallenge: key === undefined,
    codec,
  };
  const conn = createConnection(new SocketChannel(raw), init);
  if (key === undefined) return conn;
  const onAbort = () => conn.close();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    if (signal?.aborted) throw signal.reason;
    // A server without an authkey sends nothing: say so soon rather than
    // wait out the whole timeout (python/cpython#123736 hangs here).
    const left = timeout - (Date.now() - started);
    if (!(await conn.poll(Math.max(1, Math.min(challengeTimeout, left))))) {
      conn.close();
      throw new AuthenticationError(
        `Cannot authenticate as the server sent no challenge within ${
          Math.min(challengeTimeout, left)
        } ms: does it use an authkey?`,
      );
    }
    await handshake(
      conn,
      key,
      "client",
      Math.max(1, timeout - (Date.now() - started)),
    );
  } catch (e) {
    conn.close();
    if (signal?.aborted) throw signal.reason;
    throw e;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  return conn;
}

/** Waits for a connect, closing the socket if it arrives after the deadline or an abort. */
function raceDeadline(
  connecting: Promise<Deno.Conn>,
  timeout: number,
  signal: AbortSignal | undefined,
  address: ParsedAddress,
): Promise<Deno.Conn> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      fn();
    };
    const onAbort = () => finish(() => reject(signal!.reason));
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new TimeoutError(
              `Cannot connect to ${
                JSON.stringify(address)
              } as ${timeout} ms elapsed`,
            ),
          )
        ),
      timeout,
    );
    signal?.addEventListener("abort", onAbort, { once: true });
    connecting.then(
      (c) => {
        if (settled) c.close();
        else finish(() => resolve(c));
      },
      (e) => finish(() => reject(e)),
    );
  });
}
