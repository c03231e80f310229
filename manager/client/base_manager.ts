/**
 * `BaseManager`: a client of a manager server (started in a Worker of this
 * process, or connected to one elsewhere), with the registry of the types it
 * can create.
 *
 * @module
 */

import { assertNotImporting } from "../../_import_guard.ts";
import { TimeoutError } from "../../errors.ts";
import {
  type Address,
  AuthenticationError,
  Client,
  formatAddress,
  parseAddress,
} from "../../connection/mod.ts";
import { BUILTIN_SPECS } from "../types/_sync_registry.ts";
import type { ObjectRef } from "../protocol/_messages.ts";
import {
  allRegistrations,
  type Callable,
  makeSpec,
  type RegisterOptions,
  type TypeSpec,
} from "../types/registry.ts";
import type { ConnLike } from "../protocol/conn.ts";
import type { WorkerStart } from "../server/_serve_in_worker.ts";
import { checkArgs } from "./_check_args.ts";
import { removeAtExit } from "./_exit_cleanup.ts";
import { type ServerThread, spawnServer } from "./_server_thread.ts";
import { explainDenied } from "./_permissions.ts";
import { Session } from "./_session.ts";
import {
  bindSession,
  makeProxy,
  type Remote,
  substituteProxies,
  type Token,
} from "./proxy.ts";
import { ManagerServer, type ManagerStats } from "../server/server.ts";
import { loadCPythonDoor } from "../server/_door_loader.ts";
import { CPythonClient } from "./_cpython_client.ts";

export type { RegisterOptions };

/**
 * Options of {@linkcode BaseManager.start}.
 *
 * @example A fixed authkey
 * ```ts
 * import { type StartOptions, SyncManager } from "@mproc/multiprocessing/manager";
 *
 * const options: StartOptions = { authkey: "secret" };
 * await using m = await SyncManager.start(options);
 * console.assert(new TextDecoder().decode(m.authkey) === "secret");
 * ```
 */
export interface StartOptions {
  /** Where the server listens; default: a Unix socket in a fresh private (0700) temp dir, as CPython. Give a TCP address for other machines. */
  address?: Address;
  /** The key clients must know; default: 32 random bytes (see `manager.authkey`). */
  authkey?: Uint8Array | string;
  /** A module the server Worker imports first; it serves every type registered while importing it. */
  module?: string | URL;
  /** Also serve CPython clients on `python.address` (see {@linkcode ServeOptions.python}). */
  python?: { address: Address };
}

/**
 * Options of {@linkcode BaseManager.connect}.
 *
 * @example Connect to a served manager
 * ```ts
 * import { type ConnectOptions, SyncManager } from "@mproc/multiprocessing/manager";
 *
 * await using server = await SyncManager.serve({ address: "127.0.0.1:0", authkey: "k" });
 * const options: ConnectOptions = { address: server.address, authkey: "k" };
 * await using m = await SyncManager.connect(options);
 * console.assert((await m.stats()).clients === 1);
 * ```
 */
export interface ConnectOptions {
  /** The server's address. */
  address: Address;
  /** The server's key. */
  authkey?: Uint8Array | string;
  /**
   * `"cpython"`: the server is a CPython manager (`BaseManager.get_server()`,
   * `serve_forever()`); proxies call its Python methods (`putNowait` →
   * `put_nowait`, timeouts in ms → seconds). Default `"deno"`.
   */
  protocol?: "deno" | "cpython";
  /**
   * Milliseconds for the connect and handshake, and again for the server's
   * first message (default 10_000, as `Client()`'s). A CPython manager
   * server says nothing until asked: without `protocol: "cpython"` the
   * connect rejects at this deadline, naming that option, instead of hanging.
   */
  timeout?: number;
}

/** Default of {@linkcode ConnectOptions.timeout}, as `Client()`'s. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Options of {@linkcode BaseManager.serve}.
 *
 * @example Serve until aborted
 * ```ts
 * import { type ServeOptions, SyncManager } from "@mproc/multiprocessing/manager";
 *
 * const controller = new AbortController();
 * const options: ServeOptions = { address: "127.0.0.1:0", signal: controller.signal };
 * const server = await SyncManager.serve(options);
 * controller.abort();
 * await server.closed;
 * ```
 */
export interface ServeOptions {
  /** Where to listen (port 0 picks a free port; `server.address` tells which). */
  address: Address;
  /** The key clients must know; without one any client may connect. */
  authkey?: Uint8Array | string;
  /** Aborting closes the server. */
  signal?: AbortSignal;
  /**
   * Also listen on `python.address` for CPython clients: an unmodified
   * `multiprocessing.managers.SyncManager(address, authkey).connect()`
   * (3.11–3.13) gets proxies of the same objects. Needs an authkey.
   */
  python?: { address: Address };
}

const registries = new WeakMap<object, Map<string, TypeSpec>>();

/** The types of `cls` and its base classes (a subclass wins). */
function registryOf(cls: object): Map<string, TypeSpec> {
  const chain: object[] = [];
  for (
    let c: object | null = cls;
    c && c !== Function.prototype;
    c = Object.getPrototypeOf(c)
  ) chain.unshift(c);
  const out = new Map<string, TypeSpec>();
  for (const c of chain) {
    for (const [k, v] of registries.get(c) ?? []) out.set(k, v);
  }
  return out;
}

function toKey(
  authkey: Uint8Array | string | undefined,
): Uint8Array | undefined {
  if (authkey === undefined) return undefined;
  if (typeof authkey === "string") return new TextEncoder().encode(authkey);
  if (authkey instanceof Uint8Array) return authkey;
  throw new TypeError(
    `Cannot use the authkey as it must be a Uint8Array or a string: received ${typeof authkey}`,
  );
}

/** The address and key of `connect()` / `serve()` options. */
function readAddress(
  options: { address: Address; authkey?: Uint8Array | string },
  what: "connect" | "serve",
): { address: Address; authkey: Uint8Array | undefined } {
  if (
    options === null || typeof options !== "object" ||
    options.address === undefined
  ) {
    throw new TypeError(`Cannot ${what} as no address was given`);
  }
  return { address: options.address, authkey: toKey(options.authkey) };
}

function isToken(t: unknown): t is Token {
  const o = t as Token;
  return typeof o === "object" && o !== null && typeof o.typeid === "string" &&
    typeof o.id === "number" &&
    typeof o.epoch === "string" && o.address !== undefined;
}

interface Started {
  thread: ServerThread;
  /** Takes the server's private temp dir off the exit-cleanup list. */
  forget: () => void;
}

/** The private temp dir of a server listening on a fresh Unix socket. */
function privateDir(address: Address): string | undefined {
  const a = parseAddress(address);
  if (a.family !== "AF_UNIX") return undefined;
  const i = a.path.lastIndexOf("/");
  return i > 0 ? a.path.slice(0, i) : undefined;
}

/**
 * A manager client: creates shared objects on its server and hands out
 * proxies to them. Subclass it and `register()` your own types.
 *
 * @example A custom type
 * ```ts
 * import { BaseManager } from "@mproc/multiprocessing/manager";
 *
 * class Counter {
 *   #n = 0;
 *   increment(): number { return ++this.#n; }
 * }
 * class MyManager extends BaseManager {}
 * MyManager.register("Counter", () => new Counter());
 *
 * // The server Worker imports this module (it registers Counter): start
 * // the manager only when it runs as the program, never while imported.
 * if (import.meta.main) {
 *   await using m = await MyManager.start({ module: import.meta.url });
 *   const c = await m.create<Counter>("Counter");
 *   console.assert(await c.increment() === 1);
 * }
 * ```
 */
export class BaseManager implements AsyncDisposable {
  #session: Session | undefined;
  #address: Address | undefined;
  #authkey: Uint8Array = new Uint8Array(0);
  #started: Started | undefined;
  #cpython: CPythonClient | undefined;
  #pythonAddress: Address | undefined;
  #shutdown: Promise<void> | undefined;

  /**
   * Registers a type the manager's server can create, on this class (and
   * its subclasses). Also adds a `typeid(...args)` method that calls
   * `create(typeid, ...args)`, unless the name is taken. A client-side
   * registration needs no callable: the server's registration decides.
   *
   * @param typeid The type's name.
   * @param callable A class or function building the referent; omit it for
   *   types only returned by `methodToTypeid` methods.
   * @param options `exposed` methods (default: every public method) and
   *   `methodToTypeid` (methods returning new shared objects).
   * @throws {TypeError} for a bad typeid, callable or option.
   *
   * @example Register a class
   * ```ts
   * import { BaseManager } from "@mproc/multiprocessing/manager";
   *
   * class Box { #v = 0; get(): number { return this.#v; } set(v: number): void { this.#v = v; } }
   * class BoxManager extends BaseManager {}
   * BoxManager.register("Box", Box, { exposed: ["get", "set"] });
   * ```
   */
  static register(
    typeid: string,
    callable?: Callable,
    options?: RegisterOptions,
  ): void {
    const spec = makeSpec(typeid, callable, options);
    let own = registries.get(this);
    if (!own) registries.set(this, own = new Map());
    own.set(typeid, spec);
    // A client-side registration (no callable) never shadows a server one.
    if (spec.callable || !allRegistrations.get(typeid)?.callable) {
      allRegistrations.set(typeid, spec);
    }
    if (!(typeid in this.prototype)) {
      Object.defineProperty(this.prototype, typeid, {
        value: function (
          this: BaseManager,
          ...args: unknown[]
        ): Promise<unknown> {
          return this.create(typeid, ...args);
        },
        writable: true,
        configurable: true,
      });
    }
  }

  /**
   * Starts a server in a Worker of this process and connects to it.
   *
   * @param options Address, authkey, and the module registering custom types.
   * @returns The connected manager; `shutdown()` (or `await using`) stops the server.
   * The promise rejects with a TypeError when custom types are registered
   * but no `module` is given, and when called while a server Worker imports
   * its module (a start at top level: put it under `if (import.meta.main)`).
   *
   * @example Start and use a manager
   * ```ts
   * import { SyncManager } from "@mproc/multiprocessing/manager";
   *
   * await using m = await SyncManager.start();
   * const d = await m.dict();
   * await d.set("a", 1);
   * console.assert(await d.get("a") === 1);
   * ```
   */
  static start<T extends typeof BaseManager>(
    this: T,
    options: StartOptions = {},
  ): Promise<InstanceType<T>> {
    try {
      assertNotImporting("Manager");
      if (options === null || typeof options !== "object") {
        throw new TypeError(
          "Cannot start the manager as options must be an object",
        );
      }
      const { address, module, python } = options;
      // A bad address is the caller's error, named before a Worker starts.
      if (address !== undefined) parseAddress(address);
      if (python !== undefined) parseAddress(python?.address);
      if (
        module !== undefined && typeof module !== "string" &&
        !(module instanceof URL)
      ) {
        throw new TypeError(
          "Cannot start the manager as module must be a string or a URL",
        );
      }
      const authkey = toKey(options.authkey) ??
        crypto.getRandomValues(new Uint8Array(32));
      const custom = [...registryOf(this).keys()].filter((t) =>
        !BUILTIN_SPECS.has(t)
      );
      if (custom.length > 0 && module === undefined) {
        throw new TypeError(
          `Cannot start the manager as custom types (${
            custom.join(", ")
          }) are registered but no module was given: pass { module } naming the module that registers them (e.g. import.meta.url)`,
        );
      }
      return BaseManager.#launch(this, {
        address,
        authkey,
        module: module === undefined ? undefined : String(module),
        python,
      }).catch((e) => {
        throw explainDenied(e, "start the manager", "start", address);
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  static async #launch<T extends typeof BaseManager>(
    cls: T,
    start: WorkerStart,
  ): Promise<InstanceType<T>> {
    const thread = spawnServer(start);
    // While the Worker boots on its own thread this one is idle: pay here the
    // one-off set-up of this thread's first timer (~5-12 ms in Deno 2.9,
    // otherwise paid inside Client() below, after the Worker is ready).
    clearTimeout(setTimeout(() => {}, 0));
    let ready: { address: Address; epoch: string; pythonAddress?: Address };
    try {
      const reply = await thread.started;
      if (reply.kind !== "ready") {
        const r = reply as { name?: string; message?: string };
        const err = new Error(
          r.name === "NotCapable"
            ? String(r.message)
            : `Cannot start the manager: ${r.name ?? "Error"}: ${
              r.message ?? "the server did not start"
            }`,
        );
        if (r.name === "NotCapable") err.name = r.name;
        throw err;
      }
      ready = reply;
    } catch (e) {
      await thread.terminate();
      throw e;
    }
    // The listener's private temp dir goes at exit even if shutdown() is
    // never called (the Worker dies with the program, unref'd below).
    const dir = start.address === undefined
      ? privateDir(ready.address)
      : undefined;
    const forget = dir === undefined ? () => {} : removeAtExit(dir);
    const m = new cls() as InstanceType<T>;
    m.#started = { thread, forget };
    m.#pythonAddress = ready.pythonAddress;
    // The starting thread connects over the server's own socket (a Unix
    // socket unless an address was given): between two threads of this VM a
    // Unix socket round trip is much cheaper than a MessagePort wake-up.
    let link: ConnLike;
    try {
      link = await Client(ready.address, { authkey: start.authkey });
    } catch (e) {
      await m.shutdown().catch(() => {});
      throw e;
    }
    // An uncaught error in the server Worker: drop the link rather than wait.
    thread.onLost(() => link.close());
    try {
      await m.#attach(link, ready.address, start.authkey, ready.epoch);
    } catch (e) {
      await m.shutdown().catch(() => {});
      throw e;
    }
    // From now on the Worker never keeps the program alive: a call waiting
    // for its reply does (its socket read is pending), an idle manager not.
    thread.unref();
    return m;
  }

  /**
   * Connects to a running manager server (CPython's "using a remote manager").
   *
   * @param options The server's address and authkey.
   * @returns The connected manager; `close()` (or `await using`) disconnects.
   * The promise rejects with a TypeError without an address, or with an
   * authkey that is not a Uint8Array or a string.
   *
   * @example Connect to a server
   * ```ts ignore
   * import { SyncManager } from "@mproc/multiprocessing/manager";
   *
   * await using m = await SyncManager.connect({ address: "127.0.0.1:50000", authkey: "secret" });
   * const q = await m.Queue();
   * ```
   */
  static connect<T extends typeof BaseManager>(
    this: T,
    options: ConnectOptions,
  ): Promise<InstanceType<T>> {
    try {
      const { address, authkey } = readAddress(options, "connect");
      const m = new this() as InstanceType<T>;
      if (options.protocol === "cpython") {
        if (!authkey || authkey.length === 0) {
          throw new TypeError(
            "Cannot connect to a CPython manager without an authkey: CPython servers always authenticate, so pass { authkey }",
          );
        }
        return CPythonClient.connect(address, authkey).then((c) => {
          m.#cpython = c;
          m.#address = address;
          m.#authkey = authkey;
          return m;
        });
      }
      if (options.protocol !== undefined && options.protocol !== "deno") {
        throw new TypeError(
          `Cannot connect with protocol ${
            JSON.stringify(options.protocol)
          }: use "deno" or "cpython"`,
        );
      }
      const timeout = options.timeout ?? CONNECT_TIMEOUT_MS;
      if (typeof timeout !== "number" || !(timeout >= 0)) {
        throw new RangeError(
          `Cannot connect as the timeout must be a non-negative number of ms: received ${
            String(options.timeout)
          }`,
        );
      }
      return m.#connect(address, authkey, timeout).then(() => m, (e) => {
        throw explainDenied(
          e,
          `connect to the manager at ${formatAddress(address)}`,
          "connect",
          address,
        );
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Serves this class's types in this thread (e.g. a standalone server).
   *
   * @param options Address (port 0: a free one), authkey and signal.
   * @returns The running server; `server.address` is the bound address.
   * The promise rejects with a TypeError without an address, or with a bad authkey.
   *
   * @example Serve and connect
   * ```ts
   * import { SyncManager } from "@mproc/multiprocessing/manager";
   *
   * await using server = await SyncManager.serve({ address: "127.0.0.1:0", authkey: "k" });
   * await using m = await SyncManager.connect({ address: server.address, authkey: "k" });
   * const ns = await m.Namespace();
   * await ns.set("x", 1);
   * console.assert(await ns.get("x") === 1);
   * ```
   */
  static serve(options: ServeOptions): Promise<ManagerServer> {
    try {
      const { address, authkey } = readAddress(options, "serve");
      const listen = () => {
        try {
          return ManagerServer.listen(registryOf(this), {
            address,
            ...(authkey ? { authkey } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
            ...(options.python ? { python: options.python } : {}),
          });
        } catch (e) {
          throw explainDenied(
            e,
            `serve on ${formatAddress(address)}`,
            "serve",
            address,
          );
        }
      };
      // The CPython door is imported only by a server that serves it.
      return options.python
        ? loadCPythonDoor().then(listen)
        : Promise.resolve(listen());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async #connect(
    address: Address,
    authkey: Uint8Array | undefined,
    timeout: number,
  ): Promise<void> {
    await this.#attach(
      await Client(address, authkey ? { authkey, timeout } : { timeout }),
      address,
      authkey,
      undefined,
      timeout,
    );
  }

  async #attach(
    conn: ConnLike,
    address: Address,
    authkey: Uint8Array | undefined,
    epoch?: string,
    timeout = CONNECT_TIMEOUT_MS,
  ): Promise<void> {
    const session = new Session(conn, formatAddress(address));
    session.address = address;
    session.authkey = authkey;
    bindSession(session);
    try {
      // The server Worker told its epoch already: its hello (read with the
      // first reply) confirms it, no need to wait a round trip for it.
      if (epoch !== undefined) session.assumeEpoch(epoch);
      else await helloWithin(session, address, timeout);
    } catch (e) {
      session.close();
      // A keyless client learns at its first read that the server wants a key.
      const cause = (e as Error).cause;
      throw cause instanceof AuthenticationError ? cause : e;
    }
    this.#session = session;
    this.#address = address;
    this.#authkey = authkey ?? new Uint8Array(0);
  }

  #s(): Session {
    if (!this.#session) {
      throw new Error("Cannot use the manager as it is not connected");
    }
    return this.#session;
  }

  /** The server's address. */
  get address(): Address {
    if (this.#address === undefined) {
      throw new Error("Cannot get the address as the manager is not connected");
    }
    return this.#address;
  }

  /** Where CPython clients connect, for a manager started with `{ python }`. */
  get pythonAddress(): Address | undefined {
    return this.#pythonAddress;
  }

  /** The key this manager authenticates with (empty when none). */
  get authkey(): Uint8Array {
    return this.#authkey;
  }

  /**
   * Creates a shared object of a registered type on the server.
   *
   * @typeParam T The referent's type (methods become async on the proxy).
   * @param typeid The registered type.
   * @param args Arguments for its callable; proxies of this server arrive as their referents.
   * @returns A proxy; the object lives while a proxy to it lives.
   * The promise rejects with a TypeError for a typeid that is not a string,
   * or a proxy argument that is released or belongs to another manager.
   */
  create<T = Record<string, (...a: unknown[]) => unknown>>(
    typeid: string,
    ...args: unknown[]
  ): Promise<Remote<T>> {
    try {
      if (typeof typeid !== "string") {
        throw new TypeError(
          "Cannot create the object as its typeid must be a string",
        );
      }
      if (this.#cpython) {
        return this.#cpython.create(typeid, args) as Promise<Remote<T>>;
      }
      const session = this.#s();
      const refs = substituteProxies(session, args);
      checkArgs(`create a ${typeid}`, args);
      return session.create(typeid, args, refs) as Promise<Remote<T>>;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Rebuilds a proxy from a token (e.g. received from another process).
   *
   * @param token A token of an object of this manager's server.
   * @returns A proxy holding its own reference.
   * The promise rejects with a TypeError when `token` is not
   * `{ typeid, id, address, epoch }`, and when the token belongs to another
   * server or an earlier run of it.
   */
  fromToken<T = Record<string, (...a: unknown[]) => unknown>>(
    token: Token,
  ): Promise<Remote<T>> {
    if (!isToken(token)) {
      return Promise.reject(
        new TypeError(
          "Cannot rebuild a proxy as the token is not { typeid, id, address, epoch }",
        ),
      );
    }
    return this.#fromToken(token);
  }

  async #fromToken<T>(token: Token): Promise<Remote<T>> {
    if (this.#cpython) {
      return await this.#cpython.fromToken(token) as Remote<T>;
    }
    const session = this.#s();
    if (token.epoch !== session.epoch) {
      throw new Error(
        `Cannot rebuild the proxy as the token belongs to another server or an earlier run of this one (token epoch ${token.epoch}, server epoch ${session.epoch})`,
      );
    }
    const ref = await session.request(
      "incref",
      token.id,
      token.epoch,
    ) as ObjectRef;
    return makeProxy<T>(session, ref);
  }

  /**
   * Server statistics: live objects with their reference counts, clients.
   *
   * @returns The server's figures.
   */
  stats(): Promise<ManagerStats> {
    if (this.#cpython) {
      return Promise.reject(
        new TypeError(
          "Cannot get stats from a CPython manager: its protocol has no such call",
        ),
      );
    }
    try {
      return this.#s().request("stats") as Promise<ManagerStats>;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Closes this client's connection (the server keeps running). Idempotent.
   *
   * @returns Resolves once closed.
   */
  close(): Promise<void> {
    this.#session?.close();
    this.#cpython?.close();
    return Promise.resolve();
  }

  /**
   * Stops the server of a `start()`-ed manager (its clients are
   * disconnected). Idempotent.
   *
   * @returns Resolves once the server Worker is gone.
   * The promise rejects on a `connect()`-ed manager: only its starter stops it.
   */
  shutdown(): Promise<void> {
    const started = this.#started;
    if (!started) {
      return Promise.reject(
        new Error(
          "Cannot shut down a manager that was connected with connect(): only the process that started it can",
        ),
      );
    }
    this.#shutdown ??= (async () => {
      this.#session?.close();
      const { thread, forget } = started;
      thread.ref();
      await thread.shutdown(2000);
      await thread.terminate();
      // Its listener removed its files, unless the Worker had to be killed.
      forget();
    })();
    return this.#shutdown;
  }

  /** `shutdown()` for a `start()`-ed manager, `close()` for a `connect()`-ed one. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#started ? this.shutdown() : this.close();
  }
}

/**
 * The server's hello, or a rejection once `ms` pass without it: a CPython
 * manager server (or any peer that authenticates and then waits) sends
 * nothing until asked, and would otherwise hold `connect()` forever.
 */
function helloWithin(
  session: Session,
  address: Address,
  ms: number,
): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() =>
      reject(
        new TimeoutError(
          `Cannot connect to the manager at ${
            formatAddress(address)
          } as it sent no hello within ${ms} ms: if it is a CPython manager (BaseManager.get_server(), serve_forever()), pass protocol: "cpython"`,
        ),
      ), ms);
  });
  return Promise.race([session.hello, deadline]).finally(() =>
    clearTimeout(timer)
  );
}
