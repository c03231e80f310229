// The client of a CPython manager server (`BaseManager.connect({ protocol:
// "cpython" })`): every control call is a fresh authenticated connection
// carrying one request; object calls go over `accept_connection` channels,
// one call at a time each, taken from a capped pool so that concurrent
// blocking calls do not wait behind each other. `create` keeps the
// server's creation reference as the proxy's own (no incref/decref pair);
// disposing the proxy (or its collection) sends `decref`.

import { type Address, parseAddress } from "../../connection/address.ts";
import { Client } from "../../connection/client.ts";
import type { Connection } from "../../connection/connection.ts";
import { BrokenBarrierError, Empty, Full, RemoteError } from "../../errors.ts";
import { RESERVED } from "../types/registry.ts";
import type { Token } from "./proxy.ts";
import {
  type ClientMethod,
  clientMethods,
  createCall,
  type PyCall,
} from "./_cpython_api.ts";
import {
  clientCodec,
  isTup,
  mapItems,
  tup,
} from "../protocol/_cpython_codec.ts";
import {
  PROXY_CLASS_OF,
  PyException,
  PyProxyRef,
  PyToken,
} from "../protocol/_cpython_values.ts";

/** Object channels one client keeps open at most (each pins a server thread). */
export const MAX_CHANNELS = 16;

/** The epoch tokens of CPython servers carry (they have none). */
export const CPYTHON_EPOCH = "cpython";

const HEX = /^[0-9a-f]{1,13}$/;

/** The error for a `#ERROR` payload: Empty/Full/BrokenBarrierError, else a RemoteError naming the class. */
export function errorFromPython(payload: unknown): Error {
  if (payload instanceof PyException) {
    switch (payload.type) {
      case "_queue.Empty":
      case "queue.Empty":
        return new Empty();
      case "queue.Full":
        return new Full();
      case "threading.BrokenBarrierError":
        return new BrokenBarrierError();
    }
    const name = payload.type.slice(payload.type.lastIndexOf(".") + 1);
    const message = payload.args.length === 1 &&
        typeof payload.args[0] === "string"
      ? payload.args[0]
      : payload.args.map((a) => JSON.stringify(a) ?? String(a)).join(", ");
    return new RemoteError({ name, message }, {
      cause: { type: payload.type, args: payload.args },
    });
  }
  return new RemoteError({
    name: "Exception",
    message: String(payload),
  });
}

/** The error for a `#TRACEBACK` (server-side failure) reply. */
function tracebackError(tb: unknown, unserializable = false): RemoteError {
  const text = typeof tb === "string" ? tb : String(tb);
  const last = text.trimEnd().split("\n").pop() ?? "";
  const m = /^([\w.]+): ?(.*)$/.exec(last);
  return new RemoteError({
    name: unserializable ? "Unserializable" : m ? m[1] : "RemoteError",
    message: unserializable
      ? `Unserializable message: ${last}`
      : m
      ? m[2]
      : last,
    stack: text,
  });
}

interface Held {
  client: CPythonClient;
  ident: string;
}

const finalizer = new FinalizationRegistry<Held>((h) => {
  h.client.decref(h.ident).catch(() => {});
});

const CALL = Symbol("mproc.manager.cpython.call");

/** A proxy of an object on a CPython server. */
export class CPythonProxy implements AsyncDisposable {
  #client: CPythonClient;
  #token: Token;
  #ident: string;
  #exposed: readonly string[];
  #released = false;

  /** @internal Use a manager's `create()`. */
  constructor(
    client: CPythonClient,
    typeid: string,
    ident: string,
    exposed: readonly string[],
  ) {
    this.#client = client;
    this.#ident = ident;
    this.#exposed = exposed;
    this.#token = {
      typeid,
      id: parseInt(ident, 16),
      address: client.address,
      epoch: CPYTHON_EPOCH,
    };
    finalizer.register(this, { client, ident }, this);
  }

  /** The object's token (plain data, no authkey). */
  get token(): Token {
    return { ...this.#token };
  }

  /** @internal The pickled form of this proxy (a `RebuildProxy`). */
  static refOf(p: CPythonProxy, client: CPythonClient): PyProxyRef {
    if (p.#released || p.#client !== client) {
      throw new TypeError(
        `Cannot pass the ${p.#token.typeid} proxy as it is released or belongs to another manager`,
      );
    }
    const cls = PROXY_CLASS_OF[p.#token.typeid] ?? "AutoProxy";
    return clientCodec.mint(
      new PyProxyRef(
        cls,
        clientCodec.mint(
          new PyToken(p.#token.typeid, client.pyAddress, p.#ident),
        ),
        cls === "AutoProxy" ? p.#exposed : undefined,
      ),
    );
  }

  /** @internal */
  [CALL](name: string, m: ClientMethod, args: unknown[]): Promise<unknown> {
    if (this.#released) {
      return Promise.reject(
        new Error(
          `Cannot call ${name}() as this ${this.#token.typeid} proxy was released`,
        ),
      );
    }
    let call: PyCall;
    try {
      call = m.call(args);
    } catch (e) {
      return Promise.reject(e);
    }
    const p = this.#client.call(this.#ident, call[0], call[1], call[2]);
    return m.post ? p.then(m.post) : p;
  }

  /** Drops this proxy's reference (`decref` on the server). Idempotent. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    finalizer.unregister(this);
    await this.#client.decref(this.#ident).catch(() => {});
  }

  /** A short description. */
  toString(): string {
    return `<${this.#token.typeid} proxy of a CPython manager id=${this.#ident}>`;
  }
}

const classes = new Map<string, new (...a: never[]) => CPythonProxy>();

function proxyClass(
  typeid: string,
  exposed: readonly string[],
): new (
  c: CPythonClient,
  t: string,
  i: string,
  e: readonly string[],
) => CPythonProxy {
  const key = `${typeid}|${exposed.join(",")}`;
  let cls = classes.get(key) as
    | (new (
      c: CPythonClient,
      t: string,
      i: string,
      e: readonly string[],
    ) => CPythonProxy)
    | undefined;
  if (cls) return cls;
  cls = class extends CPythonProxy {};
  const methods = clientMethods(typeid, exposed, clientCodec.hooks);
  for (const [name, m] of Object.entries(methods)) {
    if (RESERVED.has(name) || name in CPythonProxy.prototype) continue;
    Object.defineProperty(cls.prototype, name, {
      value: function (this: CPythonProxy, ...args: unknown[]) {
        return this[CALL](name, m, args);
      },
      writable: true,
      configurable: true,
    });
  }
  classes.set(key, cls as never);
  return cls;
}

/** One client of one CPython manager server. */
export class CPythonClient {
  /** The server's address. */
  readonly address: Address;
  /** The address as CPython writes it in tokens. */
  readonly pyAddress: unknown;
  readonly #authkey: Uint8Array;
  #idle: Connection[] = [];
  #open = 0;
  #queue: ((c: Connection) => void)[] = [];
  #closed = false;
  #all = new Set<Connection>();
  static #n = 0;
  readonly #name = `MainProcess|deno-${++CPythonClient.#n}`;

  private constructor(address: Address, authkey: Uint8Array) {
    this.address = address;
    this.#authkey = authkey;
    const a = parseAddress(address);
    this.pyAddress = a.family === "AF_UNIX" ? a.path : tup(a.hostname, a.port);
  }

  /** Connects (one `dummy` control call checks the server and key). */
  static async connect(
    address: Address,
    authkey: Uint8Array,
  ): Promise<CPythonClient> {
    const c = new CPythonClient(address, authkey);
    await c.#control("dummy", []);
    return c;
  }

  #connect(): Promise<Connection> {
    return Client(this.address, { authkey: this.#authkey });
  }

  async #roundTrip(conn: Connection, msg: unknown): Promise<unknown> {
    const sent = conn.sendBytes(clientCodec.dumps(this.#wire(msg)));
    const [, bytes] = await Promise.all([sent, conn.recvBytes()]);
    const reply = clientCodec.loads(bytes);
    if (!isTup(reply) || (reply as unknown[]).length !== 2) {
      throw new RemoteError({
        name: "ProtocolError",
        message: "The CPython server sent a reply that is not (kind, payload)",
      });
    }
    return reply;
  }

  /** Replaces our proxies in a value by their `RebuildProxy` form. */
  #wire(v: unknown, depth = 0): unknown {
    if (v instanceof CPythonProxy) return CPythonProxy.refOf(v, this);
    if (depth > 512) return v;
    return mapItems(v, (x) => this.#wire(x, depth + 1));
  }

  #settle(reply: unknown): unknown {
    const [kind, payload] = reply as [unknown, unknown];
    switch (kind) {
      case "#RETURN":
        return payload;
      case "#ERROR":
        throw errorFromPython(payload);
      case "#TRACEBACK":
        throw tracebackError(payload);
      case "#UNSERIALIZABLE":
        throw tracebackError(payload, true);
      case "#PROXY": {
        const [exposed, token] = (payload ?? []) as [unknown, unknown];
        if (
          !(token instanceof PyToken) || !Array.isArray(exposed) ||
          !HEX.test(token.id)
        ) {
          throw new RemoteError({
            name: "ProtocolError",
            message: "The CPython server sent a malformed #PROXY reply",
          });
        }
        return this.#proxy(token.typeid, token.id, exposed as string[]);
      }
    }
    throw new RemoteError({
      name: "ProtocolError",
      message: `The CPython server sent an unknown reply kind ${String(kind)}`,
    });
  }

  async #control(
    name: string,
    args: unknown[],
    kwds: Map<string, unknown> = new Map(),
  ): Promise<unknown> {
    if (this.#closed) {
      throw new Error("Cannot call the manager as this client is closed");
    }
    const conn = await this.#connect();
    try {
      return this.#settle(
        await this.#roundTrip(conn, tup(null, name, tup(...args), kwds)),
      );
    } finally {
      conn.close();
    }
  }

  async #take(): Promise<Connection> {
    const c = this.#idle.pop();
    if (c) return c;
    if (this.#open < MAX_CHANNELS) {
      this.#open++;
      try {
        const conn = await this.#connect();
        this.#all.add(conn);
        this.#settle(
          await this.#roundTrip(
            conn,
            tup(null, "accept_connection", tup(this.#name), new Map()),
          ),
        );
        return conn;
      } catch (e) {
        this.#open--;
        throw e;
      }
    }
    return await new Promise<Connection>((resolve) =>
      this.#queue.push(resolve)
    );
  }

  #give(conn: Connection, healthy: boolean): void {
    if (!healthy || this.#closed) {
      conn.close();
      this.#all.delete(conn);
      this.#open--;
      const w = this.#queue.shift();
      if (w && !this.#closed) this.#take().then(w, () => {});
      return;
    }
    const w = this.#queue.shift();
    if (w) w(conn);
    else this.#idle.push(conn);
  }

  /** Calls `method` of object `ident` on a channel of the pool. */
  async call(
    ident: string,
    method: string,
    args: unknown[],
    kwds: Map<string, unknown> = new Map(),
  ): Promise<unknown> {
    if (this.#closed) {
      throw new Error(
        `Cannot call ${method}() as the manager client is closed`,
      );
    }
    const conn = await this.#take();
    let reply: unknown;
    try {
      reply = await this.#roundTrip(
        conn,
        tup(ident, method, tup(...args), kwds),
      );
    } catch (e) {
      this.#give(conn, false);
      throw e;
    }
    this.#give(conn, true);
    const value = this.#settle(reply);
    return value !== null && typeof value === "object"
      ? this.#adopt(value)
      : value;
  }

  /**
   * Proxies inside a value (`RebuildProxy` of this server's objects) become
   * our proxies, each holding its own reference (`incref`, as CPython's
   * `RebuildProxy` does); proxies of other servers stay inert data.
   */
  async #adopt(value: unknown): Promise<unknown> {
    const refs = new Map<PyProxyRef, unknown>();
    const find = (v: unknown, depth: number): unknown => {
      if (v instanceof PyProxyRef && this.#ours(v.token)) refs.set(v, v);
      else if (depth < 512) mapItems(v, (x) => find(x, depth + 1));
      return v;
    };
    find(value, 0);
    if (refs.size === 0) return value;
    for (const ref of refs.keys()) {
      const { typeid, id } = ref.token;
      await this.#control("incref", [id]);
      const exposed = ref.exposed ?? await this.#control("get_methods", [
        clientCodec.mint(new PyToken(typeid, this.pyAddress, id)),
      ]) as string[];
      refs.set(ref, this.#proxy(typeid, id, exposed));
    }
    const swap = (v: unknown, depth: number): unknown =>
      v instanceof PyProxyRef
        ? refs.get(v) ?? v
        : depth < 512
        ? mapItems(v, (x) => swap(x, depth + 1))
        : v;
    return swap(value, 0);
  }

  /** True when a token names this server (same port, or same path). */
  #ours(token: PyToken): boolean {
    const a = token.address;
    const ours = this.pyAddress;
    if (!HEX.test(token.id)) return false;
    return typeof ours === "string"
      ? a === ours
      : Array.isArray(a) && a[1] === (ours as unknown[])[1];
  }

  #proxy(typeid: string, ident: string, exposed: readonly string[]): unknown {
    const Cls = proxyClass(typeid, exposed);
    return new Cls(this, typeid, ident, exposed);
  }

  /** `create(typeid, *args, **kwds)`: the proxy owns the creation reference. */
  async create(typeid: string, args: unknown[]): Promise<unknown> {
    const [a, k] = createCall(typeid, args);
    const r = await this.#control("create", [typeid, ...a], k);
    const [ident, exposed] = (r ?? []) as [unknown, unknown];
    if (
      typeof ident !== "string" || !HEX.test(ident) || !Array.isArray(exposed)
    ) {
      throw new RemoteError({
        name: "ProtocolError",
        message: "The CPython server sent a malformed create reply",
      });
    }
    return this.#proxy(typeid, ident, exposed as string[]);
  }

  /** Rebuilds a proxy from a token of this server (`incref`). */
  async fromToken(token: Token): Promise<unknown> {
    if (token.epoch !== CPYTHON_EPOCH) {
      throw new TypeError(
        'Cannot rebuild the proxy as the token is not of a CPython manager: use a manager connected without protocol "cpython"',
      );
    }
    const ident = token.id.toString(16);
    await this.#control("incref", [ident]);
    const exposed = await this.#control("get_methods", [
      clientCodec.mint(new PyToken(token.typeid, this.pyAddress, ident)),
    ]) as string[];
    return this.#proxy(token.typeid, ident, [...exposed].sort());
  }

  /** Drops one reference. */
  decref(ident: string): Promise<unknown> {
    if (this.#closed) return Promise.resolve(null);
    return this.#control("decref", [ident]);
  }

  /** Closes every channel (the server keeps running). Idempotent. */
  close(): void {
    this.#closed = true;
    for (const c of this.#all) c.close();
    this.#all.clear();
    this.#idle = [];
  }
}
