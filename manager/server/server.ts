/**
 * The manager server: owns the shared objects, serves their exposed methods
 * to authenticated clients over `connection/` sockets, keeps per-client
 * reference counts, and releases what a client held when it disconnects.
 *
 * @module
 */

import type { Address } from "../../connection/address.ts";
import { Listener } from "../../connection/listener.ts";
import type { ConnLike } from "../protocol/conn.ts";
import type { TypeSpec } from "../types/registry.ts";
import { ServerCore } from "./_core.ts";
import { serveMsgpack } from "./_msgpack_door.ts";
import type { CPythonDoor } from "./_cpython_door.ts";
import { loadedCPythonDoor } from "./_door_loader.ts";

/**
 * Server statistics (the `stats` request).
 *
 * @example Reference counts
 * ```ts
 * import { type ManagerStats, SyncManager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await SyncManager.start();
 * const q = await m.Queue();
 * const stats: ManagerStats = await m.stats();
 * console.assert(stats.refcounts[String(q.token.id)] === 1);
 * ```
 */
export interface ManagerStats {
  /** The server's epoch. */
  epoch: string;
  /** Number of live shared objects. */
  objects: number;
  /** Number of connected clients. */
  clients: number;
  /** Total references per object id (one per live proxy). */
  refcounts: Record<string, number>;
  /** Type of each live object, by id. */
  types: Record<string, string>;
}

/**
 * Options of {@linkcode ManagerServer.listen}.
 *
 * @example Options of a server
 * ```ts
 * import { type ManagerServerOptions, SyncManager } from "@mproc/multiprocessing/manager";
 *
 * const options: ManagerServerOptions = { address: "127.0.0.1:0", authkey: "k" };
 * await using server = await SyncManager.serve({ address: options.address!, authkey: options.authkey! });
 * console.assert(server.epoch.length > 0);
 * ```
 */
export interface ManagerServerOptions {
  /** Where to listen; default: 127.0.0.1 with an ephemeral port. */
  address?: Address;
  /**
   * With no address: `"AF_UNIX"` listens on a fresh socket path in a
   * private temp dir (what `start()` uses, as CPython's managers do).
   */
  family?: "AF_INET" | "AF_INET6" | "AF_UNIX";
  /** The key clients must prove they know; without one, any client may connect. */
  authkey?: Uint8Array | string;
  /** Aborting closes the server. */
  signal?: AbortSignal;
  /**
   * Also listen on `python.address` for CPython clients
   * (`multiprocessing.managers.SyncManager(address, authkey).connect()`),
   * on the same objects. Needs an authkey: CPython clients always
   * authenticate. The CPython door is imported on demand by
   * `SyncManager.serve({ python })` and `start({ python })`; the synchronous
   * `ManagerServer.listen()` refuses `python` until one of them loaded it.
   */
  python?: { address: Address };
}

/**
 * A running manager server (what `BaseManager.serve()` returns, and what a
 * `start()`-ed manager runs in its Worker).
 *
 * @example Serve a queue in this thread
 * ```ts
 * import { SyncManager } from "@mproc/multiprocessing/manager";
 *
 * await using server = await SyncManager.serve({ address: "127.0.0.1:0", authkey: "secret" });
 * console.assert(typeof server.address === "object");
 * ```
 */
export class ManagerServer implements AsyncDisposable {
  /** Resolves once the server is closed. */
  readonly closed: Promise<void>;
  #core: ServerCore;
  #listener: Listener | undefined;
  #address: Address | undefined;
  #closing: Promise<void> | undefined;
  #resolveClosed!: () => void;
  #onClose: (() => void) | undefined;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #door: CPythonDoor | undefined;

  /**
   * Creates a server for the types in `registry` (no listener: see
   * {@linkcode ManagerServer.listen}; connections can be handed to
   * `serveConnection`).
   *
   * @param registry The types it serves, by typeid.
   */
  constructor(registry: Map<string, TypeSpec>) {
    this.#core = new ServerCore(registry);
    this.closed = new Promise((r) => (this.#resolveClosed = r));
  }

  /** Random per server start; part of every token. */
  get epoch(): string {
    return this.#core.epoch;
  }

  /**
   * Creates a server listening on `options.address` and starts accepting.
   *
   * @param registry The types it serves, by typeid.
   * @param options Address, authkey and signal.
   * @returns The listening server.
   */
  static listen(
    registry: Map<string, TypeSpec>,
    options: ManagerServerOptions = {},
  ): ManagerServer {
    const { address, family, authkey, signal, python } = options;
    signal?.throwIfAborted();
    if (python !== undefined && (authkey === undefined || authkey === "")) {
      throw new TypeError(
        "Cannot serve CPython clients without an authkey: CPython clients always authenticate, so pass { authkey }",
      );
    }
    const door = python === undefined ? undefined : loadedCPythonDoor();
    if (python !== undefined && door === undefined) {
      throw new TypeError(
        "Cannot serve CPython clients as the CPython door is not loaded: use SyncManager.serve({ python }) or start({ python }), which load it",
      );
    }
    const server = new ManagerServer(registry);
    const listener = new Listener({
      ...(address !== undefined ? { address } : family ? { family } : {}),
      ...(authkey !== undefined ? { authkey } : {}),
    });
    server.#listener = listener;
    server.#address = listener.address;
    if (python !== undefined && door !== undefined) {
      try {
        server.#door = new door.CPythonDoor(
          door.coreHost(server.#core, () => void server.close()),
          {
            address: python.address,
            authkey: typeof authkey === "string"
              ? new TextEncoder().encode(authkey)
              : authkey!,
          },
        );
      } catch (e) {
        listener.close();
        throw e;
      }
    }
    if (signal) {
      const onAbort = () => void server.close();
      signal.addEventListener("abort", onAbort, { once: true });
      server.#onClose = () => signal.removeEventListener("abort", onAbort);
    }
    // A listening server keeps its process alive (as `serve_forever()` does)
    // until it is closed, whether or not the listener itself holds the loop.
    server.#keepAlive = setInterval(() => {}, 1 << 30);
    server.#acceptLoop(listener);
    return server;
  }

  /** The bound address clients connect to. */
  get address(): Address {
    if (this.#address === undefined) {
      throw new TypeError(
        "Cannot get the address as this server has no listener",
      );
    }
    return this.#address;
  }

  /** Where CPython clients connect (with the `python` option). */
  get pythonAddress(): Address | undefined {
    return this.#door?.address;
  }

  async #acceptLoop(listener: Listener): Promise<void> {
    try {
      for await (const conn of listener) {
        if (this.#closing) {
          conn.close();
          break;
        }
        this.serveConnection(conn).catch(() => {});
      }
    } catch {
      // The listener failed or was closed: stop accepting.
    }
  }

  /**
   * Serves one authenticated connection until it closes.
   *
   * @param conn The connection.
   * @returns Resolves when the client is gone and released.
   */
  serveConnection(conn: ConnLike): Promise<void> {
    if (this.#closing) {
      conn.close();
      return Promise.resolve();
    }
    return serveMsgpack(this.#core, this, conn);
  }

  /**
   * Statistics: live objects, their reference counts and types, clients.
   *
   * @returns The current figures.
   */
  stats(): ManagerStats {
    const refcounts: Record<string, number> = {};
    const types: Record<string, string> = {};
    const core = this.#core;
    for (const [oid, e] of core.table.entries()) {
      refcounts[oid] = e.refs;
      types[oid] = e.typeid;
    }
    return {
      epoch: core.epoch,
      objects: core.table.size,
      clients: core.peers.size,
      refcounts,
      types,
    };
  }

  /**
   * Stops accepting, disconnects every client (their waits are cancelled),
   * and drops every object. Idempotent.
   *
   * @returns Resolves once closed.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#onClose?.();
      if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive);
      this.#listener?.close();
      this.#door?.close();
      // Let already-queued replies (e.g. to `shutdown`) go out first.
      const core = this.#core;
      const peers = [...core.peers];
      await Promise.all(peers.map((p) => p.drain(1000)));
      for (const p of peers) core.drop(p);
      core.table.clear();
      this.#resolveClosed();
    })();
    return this.#closing;
  }

  /** Same as {@linkcode ManagerServer.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
