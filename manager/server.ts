/**
 * The manager server: owns the shared objects, serves their exposed methods
 * to authenticated clients over `connection/` sockets, keeps per-client
 * reference counts, and releases what a client held when it disconnects.
 *
 * @module
 */

import type { Address } from "../connection/address.ts";
import { EOFError } from "../connection/errors.ts";
import { Listener } from "../connection/listener.ts";
import { Caller, runAs, swapCaller, Undoable } from "./_context.ts";
import type { ConnLike } from "./_conn.ts";
import { Outbox } from "./_outbox.ts";
import {
  type ErrorInfo,
  type ManagerStats,
  type ObjectId,
  type ObjectRef,
  PROTOCOL_VERSION,
  toErrorInfo,
} from "./_protocol.ts";
import { construct, publicMethods, type TypeSpec } from "./_registry.ts";
import { BUILTIN_SPECS } from "./_builtins.ts";
import { CPythonDoor, type DoorHost } from "./cpython/_door.ts";

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
   * authenticate.
   */
  python?: { address: Address };
}

interface Entry {
  obj: object;
  typeid: string;
  exposed: Set<string>;
  exposedList: string[];
  m2t: Record<string, string> | undefined;
  refs: number;
}

class Client {
  readonly conn: ConnLike;
  readonly caller = new Caller();
  readonly refs = new Map<ObjectId, number>();
  readonly loans = new Set<string>();
  readonly outbox: Outbox;
  constructor(conn: ConnLike, onError: () => void) {
    this.conn = conn;
    this.outbox = new Outbox((b) => conn.sendBytes(b), onError);
  }
}

function randomEpoch(): string {
  const b = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

const ERR_NOT_ARRAY: ErrorInfo = {
  name: "TypeError",
  message: "Cannot handle the frame as it is not an array of messages",
};

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
  /** Random per server start; part of every token. */
  readonly epoch: string = randomEpoch();
  /** Resolves once the server is closed. */
  readonly closed: Promise<void>;
  #registry: Map<string, TypeSpec>;
  #objects = new Map<ObjectId, Entry>();
  #nextId = 1;
  #clients = new Set<Client>();
  #loans = new Map<string, { client: Client; oid: ObjectId }>();
  #listener: Listener | undefined;
  #address: Address | undefined;
  #closing: Promise<void> | undefined;
  #resolveClosed!: () => void;
  #onClose: (() => void) | undefined;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #door: CPythonDoor | undefined;
  /** References held by CPython clients (global: their calls carry no owner). */
  #pyRefs = new Map<ObjectId, number>();

  /**
   * Creates a server for the types in `registry` (no listener: see
   * {@linkcode ManagerServer.listen}; connections can be handed to
   * `serveConnection`).
   *
   * @param registry The types it serves, by typeid.
   */
  constructor(registry: Map<string, TypeSpec>) {
    this.#registry = new Map(registry);
    this.closed = new Promise((r) => (this.#resolveClosed = r));
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
    const server = new ManagerServer(registry);
    const listener = new Listener({
      ...(address !== undefined ? { address } : family ? { family } : {}),
      ...(authkey !== undefined ? { authkey } : {}),
    });
    server.#listener = listener;
    server.#address = listener.address;
    if (python !== undefined) {
      try {
        server.#door = new CPythonDoor(server.#doorHost(), {
          address: python.address,
          authkey: typeof authkey === "string"
            ? new TextEncoder().encode(authkey)
            : authkey!,
        });
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

  /** The address CPython clients connect to (with the `python` option). */
  get pythonAddress(): Address | undefined {
    return this.#door?.address;
  }

  /** The object table as the CPython door uses it (global references). */
  #doorHost(): DoorHost {
    const objects = this.#objects;
    const py = this.#pyRefs;
    return {
      spec: (typeid) => this.#registry.get(typeid),
      typeids: () => [...this.#registry.keys()],
      isBuiltin: (spec) =>
        BUILTIN_SPECS.get(spec.typeid)?.callable === spec.callable,
      construct: (spec, args, caller) =>
        runAs(caller, () => construct(spec.callable!, args)),
      register: (spec, obj) => {
        const oid = this.#store(spec, obj);
        py.set(oid, 1);
        return oid;
      },
      lookup: (id) => objects.get(id),
      incref: (id) => {
        const e = objects.get(id);
        if (!e) return false;
        e.refs++;
        py.set(id, (py.get(id) ?? 0) + 1);
        return true;
      },
      decref: (id) => {
        const n = py.get(id);
        if (n === undefined || !objects.has(id)) return false;
        if (n <= 1) py.delete(id);
        else py.set(id, n - 1);
        this.#release(id, 1);
        return true;
      },
      objects: function* () {
        for (const [id, e] of objects) yield [id, e, e.refs];
      },
      shutdown: () => void this.close(),
    };
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
  async serveConnection(conn: ConnLike): Promise<void> {
    if (this.#closing) {
      conn.close();
      return;
    }
    const client = new Client(conn, () => conn.close());
    this.#clients.add(client);
    try {
      client.outbox.push([0, "hello", {
        epoch: this.epoch,
        version: PROTOCOL_VERSION,
      }]);
      let malformed = 0;
      const bad = (e: unknown): boolean => {
        if (
          e instanceof EOFError || conn.closed || !(e instanceof SyntaxError) ||
          ++malformed > 1000
        ) return false;
        this.#send(client, [0, "error", toErrorInfo(e)]);
        return true;
      };
      const handle = (frame: unknown): void => {
        try {
          this.#handleFrame(client, frame);
        } catch (e) {
          // Never expected (each message has its own error path); keep serving.
          this.#send(client, [0, "error", toErrorInfo(e)]);
        }
      };
      if (conn.subscribe) {
        // Push mode: each frame is handled as it arrives, no promise per frame.
        await new Promise<void>((done) => {
          conn.subscribe!(handle, (e) => {
            if (!bad(e)) done();
          });
        });
      } else {
        while (!conn.closed) {
          let frame: unknown;
          try {
            frame = await conn.recv();
          } catch (e) {
            if (!bad(e)) break;
            continue;
          }
          handle(frame);
        }
      }
    } finally {
      this.#dropClient(client);
    }
  }

  #dropClient(client: Client): void {
    if (!this.#clients.delete(client)) return;
    // Cancel its waits and release what it holds first, so that the items of
    // its unsent replies (put back by the outbox) go to live clients only.
    client.caller.drop(new Error("The client disconnected"));
    client.outbox.close();
    client.conn.close();
    for (const loan of client.loans) this.#loans.delete(loan);
    for (const [oid, n] of client.refs) this.#release(oid, n);
    client.refs.clear();
  }

  #release(oid: ObjectId, n: number): void {
    const e = this.#objects.get(oid);
    if (!e) return;
    e.refs -= n;
    if (e.refs <= 0) {
      this.#objects.delete(oid);
      this.#pyRefs.delete(oid);
    }
  }

  #send(client: Client, msg: unknown, undo?: () => void): void {
    try {
      client.outbox.push(msg, undo);
    } catch (e) {
      // The value cannot be encoded: tell the caller instead.
      undo?.();
      const id = Array.isArray(msg) ? msg[0] : 0;
      client.outbox.push([id, "error", toErrorInfo(e)]);
    }
  }

  #error(client: Client, id: number, e: unknown): void {
    if (id === 0) return;
    this.#send(client, [id, "error", toErrorInfo(e)]);
  }

  #handleFrame(client: Client, frame: unknown): void {
    if (!Array.isArray(frame)) {
      this.#send(client, [0, "error", ERR_NOT_ARRAY]);
      return;
    }
    for (const msg of frame) {
      if (
        !Array.isArray(msg) || typeof msg[0] !== "number" ||
        !Number.isInteger(msg[0]) || msg[0] < 0 ||
        typeof msg[1] !== "string"
      ) {
        const id = Array.isArray(msg) && Number.isInteger(msg[0]) && msg[0] > 0
          ? msg[0] as number
          : 0;
        this.#send(client, [id, "error", {
          name: "TypeError",
          message:
            "Cannot handle the message as it is not [id, kind, ...args] with a non-negative integer id and a string kind",
        }]);
        continue;
      }
      this.#handleMessage(client, msg as [number, string, ...unknown[]]);
    }
  }

  #handleMessage(client: Client, msg: [number, string, ...unknown[]]): void {
    const id = msg[0];
    try {
      switch (msg[1]) {
        case "call":
          return this.#call(client, id, msg[2], msg[3], msg[4], msg[5]);
        case "create":
          return this.#create(client, id, msg[2], msg[3], msg[4]);
        case "incref":
          return this.#incref(client, id, msg[2], msg[3], msg[4]);
        case "lend":
          return this.#lend(client, id, msg[2], msg[3]);
        case "decref":
          return this.#decref(client, id, msg[2]);
        case "stats":
          return this.#reply(client, id, this.stats());
        case "ping":
          return this.#reply(client, id, null);
        case "shutdown":
          this.#reply(client, id, null);
          void this.close();
          return;
        default:
          throw new TypeError(
            `Cannot handle the message as its kind '${msg[1]}' is unknown`,
          );
      }
    } catch (e) {
      this.#error(client, id, e);
    }
  }

  #reply(client: Client, id: number, value: unknown): void {
    if (id !== 0) this.#send(client, [id, "return", value]);
  }

  #entry(oid: unknown): Entry {
    const e = typeof oid === "number" ? this.#objects.get(oid) : undefined;
    if (!e) {
      throw new ReferenceError(
        `Cannot find the shared object with id ${
          String(oid)
        }: it was released, or it belongs to another server or an earlier run of this one`,
      );
    }
    return e;
  }

  #resolveRefs(args: unknown[], refs: unknown): unknown[] {
    if (refs === undefined || refs === null) return args;
    if (!Array.isArray(refs)) {
      throw new TypeError(
        "Cannot resolve the arguments as refs must be an array of indexes",
      );
    }
    const out = args.slice();
    for (const i of refs) {
      if (typeof i !== "number" || !(i >= 0 && i < out.length)) {
        throw new TypeError(
          `Cannot resolve the argument at index ${
            String(i)
          } as it does not exist`,
        );
      }
      out[i] = this.#entry(out[i]).obj;
    }
    return out;
  }

  #call(
    client: Client,
    id: number,
    oid: unknown,
    method: unknown,
    args: unknown,
    refs: unknown,
  ): void {
    const entry = this.#entry(oid);
    if (typeof method !== "string" || !entry.exposed.has(method)) {
      throw new TypeError(
        `Cannot call method ${
          JSON.stringify(method)
        } of the ${entry.typeid} object as it is not exposed (exposed: ${
          entry.exposedList.join(", ")
        })`,
      );
    }
    if (!Array.isArray(args)) {
      throw new TypeError(
        "Cannot call the method as its args are not an array",
      );
    }
    const fn = (entry.obj as Record<string, unknown>)[method];
    if (typeof fn !== "function") {
      throw new TypeError(
        `Cannot call method '${method}' of the ${entry.typeid} object as it is not a function`,
      );
    }
    const argv = this.#resolveRefs(args, refs);
    const prev = swapCaller(client.caller);
    let r: unknown;
    try {
      r = fn.apply(entry.obj, argv);
    } finally {
      swapCaller(prev);
    }
    const toTypeid = entry.m2t?.[method];
    if (
      r !== null && typeof r === "object" &&
      typeof (r as Promise<unknown>).then === "function"
    ) {
      (r as Promise<unknown>).then(
        (v) => this.#deliver(client, id, v, toTypeid),
        (e) => this.#error(client, id, e),
      );
    } else {
      this.#deliver(client, id, r, toTypeid);
    }
  }

  #deliver(
    client: Client,
    id: number,
    value: unknown,
    toTypeid: string | undefined,
  ): void {
    if (value instanceof Undoable) {
      if (client.caller.gone || id === 0) return value.undo();
      return this.#send(client, [id, "return", value.value], value.undo);
    }
    if (toTypeid !== undefined) {
      try {
        if (client.caller.gone) return;
        const spec = this.#registry.get(toTypeid);
        if (!spec) {
          throw new TypeError(
            `Cannot share the result as its typeid '${toTypeid}' is not registered`,
          );
        }
        if (value === null || typeof value !== "object") {
          throw new TypeError(
            `Cannot share the result as a ${toTypeid} as it is not an object`,
          );
        }
        const ref = this.#register(client, spec, value);
        if (id !== 0) this.#send(client, [id, "proxy", ref]);
      } catch (e) {
        this.#error(client, id, e);
      }
      return;
    }
    this.#reply(client, id, value);
  }

  #register(client: Client, spec: TypeSpec, obj: object): ObjectRef {
    const oid = this.#store(spec, obj);
    client.refs.set(oid, (client.refs.get(oid) ?? 0) + 1);
    const e = this.#objects.get(oid)!;
    return { typeid: spec.typeid, id: oid, exposed: e.exposedList };
  }

  /** Adds `obj` to the table with one reference; returns its id. */
  #store(spec: TypeSpec, obj: object): ObjectId {
    const exposedList = spec.exposed ?? publicMethods(obj);
    const m2t = spec.methodToTypeid;
    const all = m2t
      ? [...new Set([...exposedList, ...Object.keys(m2t)])]
      : exposedList;
    const oid = this.#nextId++;
    this.#objects.set(oid, {
      obj,
      typeid: spec.typeid,
      exposed: new Set(all),
      exposedList: all,
      m2t,
      refs: 1,
    });
    return oid;
  }

  #create(
    client: Client,
    id: number,
    typeid: unknown,
    args: unknown,
    refs: unknown,
  ): void {
    const spec = typeof typeid === "string"
      ? this.#registry.get(typeid)
      : undefined;
    if (!spec) {
      throw new TypeError(
        `Cannot create an object of type ${
          JSON.stringify(typeid)
        } as it is not registered (registered: ${
          [...this.#registry.keys()].join(", ")
        })`,
      );
    }
    if (!spec.callable) {
      throw new TypeError(
        `Cannot create an object of type '${spec.typeid}' directly: it has no callable`,
      );
    }
    if (!Array.isArray(args)) {
      throw new TypeError(
        "Cannot create the object as its args are not an array",
      );
    }
    const argv = this.#resolveRefs(args, refs);
    const callable = spec.callable;
    const r = runAs(client.caller, () => construct(callable, argv));
    const finish = (obj: unknown) => {
      if (
        obj === null || typeof obj !== "object" && typeof obj !== "function"
      ) {
        throw new TypeError(
          `Cannot create an object of type '${spec.typeid}' as its callable did not return an object`,
        );
      }
      if (client.caller.gone) return;
      const ref = this.#register(client, spec, obj as object);
      if (id === 0) return;
      this.#send(client, [id, "proxy", ref]);
    };
    if (
      r !== null && typeof r === "object" &&
      typeof (r as Promise<unknown>).then === "function"
    ) {
      (r as Promise<unknown>).then(finish).catch((e) =>
        this.#error(client, id, e)
      );
    } else {
      finish(r);
    }
  }

  #lend(client: Client, id: number, oid: unknown, loan: unknown): void {
    if (typeof loan !== "string") {
      throw new TypeError("Cannot lend a reference without a loan id string");
    }
    this.#entry(oid).refs++;
    client.refs.set(
      oid as ObjectId,
      (client.refs.get(oid as ObjectId) ?? 0) + 1,
    );
    this.#loans.set(loan, { client, oid: oid as ObjectId });
    client.loans.add(loan);
    this.#reply(client, id, null);
  }

  #incref(
    client: Client,
    id: number,
    oid: unknown,
    epoch: unknown,
    loan?: unknown,
  ): void {
    if (epoch !== this.epoch) {
      throw new ReferenceError(
        `Cannot use the token as it belongs to another server or an earlier run of this one (token epoch ${
          String(epoch)
        }, server epoch ${this.epoch})`,
      );
    }
    const e = this.#entry(oid);
    e.refs++;
    client.refs.set(
      oid as ObjectId,
      (client.refs.get(oid as ObjectId) ?? 0) + 1,
    );
    // The sender's lent reference goes back now that the receiver holds one.
    const l = typeof loan === "string" ? this.#loans.get(loan) : undefined;
    if (l && l.oid === oid) {
      this.#loans.delete(loan as string);
      l.client.loans.delete(loan as string);
      this.#unref(l.client, l.oid);
    }
    this.#reply(
      client,
      id,
      {
        typeid: e.typeid,
        id: oid as ObjectId,
        exposed: e.exposedList,
      } satisfies ObjectRef,
    );
  }

  #decref(client: Client, id: number, oid: unknown): void {
    const n = typeof oid === "number" ? client.refs.get(oid) : undefined;
    if (n === undefined) {
      throw new ReferenceError(
        `Cannot release object ${
          String(oid)
        } as this client holds no reference to it`,
      );
    }
    this.#unref(client, oid as ObjectId);
    this.#reply(client, id, null);
  }

  /** Drops one reference `client` holds on `oid`. */
  #unref(client: Client, oid: ObjectId): void {
    const n = client.refs.get(oid);
    if (n === undefined) return;
    if (n <= 1) client.refs.delete(oid);
    else client.refs.set(oid, n - 1);
    this.#release(oid, 1);
  }

  /**
   * Statistics: live objects, their reference counts and types, clients.
   *
   * @returns The current figures.
   */
  stats(): ManagerStats {
    const refcounts: Record<string, number> = {};
    const types: Record<string, string> = {};
    for (const [oid, e] of this.#objects) {
      refcounts[oid] = e.refs;
      types[oid] = e.typeid;
    }
    return {
      epoch: this.epoch,
      objects: this.#objects.size,
      clients: this.#clients.size,
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
      const clients = [...this.#clients];
      await Promise.all(clients.map((c) => c.outbox.drain(1000)));
      for (const c of clients) this.#dropClient(c);
      this.#objects.clear();
      this.#pyRefs.clear();
      this.#resolveClosed();
    })();
    return this.#closing;
  }

  /** Same as {@linkcode ManagerServer.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
