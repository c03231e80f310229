// The CPython door of a manager server: a second listener speaking CPython's
// manager protocol (pickle-wire.md §2) on the same objects as the Deno
// listener. A connection carries one control request and closes, or, after
// `accept_connection`, serves object calls strictly one at a time (the
// request after a reply is read ahead only to notice a dead client at once).
// Refcounts of CPython clients are global: their incref and decref come on
// throwaway connections. Nothing received names code: the reader knows only
// CPython's manager globals; the writer only ours.

import { type Address, parseAddress } from "../../connection/address.ts";
import type { Connection } from "../../connection/connection.ts";
import { EOFError } from "../../connection/errors.ts";
import { Listener } from "../../connection/listener.ts";
import { Caller, runAs } from "../types/_caller.ts";
import type { TypeSpec } from "../types/registry.ts";
import { Undoable } from "../types/undoable.ts";
import { BUILTIN_SPECS } from "../types/_sync_registry.ts";
import { isPromiseLike, type ServerCore } from "./_core.ts";
import { newHolder, type SharedEntry } from "./_object_table.ts";
import {
  createArgs,
  ITERATOR_EXPOSED,
  PyIterator,
  pyRepr,
  pyTypeOf,
  toPyException,
} from "./_cpython_adapters.ts";
import { type Kwds, NO_KWDS } from "./_cpython_args.ts";
import {
  isTup,
  loadsMessage,
  mapItems,
  OwnRef,
  serverDumps,
  tup,
  UnpicklingError,
} from "../protocol/_cpython_codec.ts";
import {
  PyException,
  PyProxyRef,
  PySlice,
  PyToken,
} from "../protocol/_cpython_values.ts";

/** One shared object, as the door sees it. */
export interface HostEntry {
  /** The referent. */
  readonly obj: object;
  /** Its typeid. */
  readonly typeid: string;
  /** Its exposed methods for Deno clients (custom types: also for CPython). */
  readonly exposedList: readonly string[];
  /** `methodToTypeid` of its registration. */
  readonly m2t: Readonly<Record<string, string>> | undefined;
}

/** What the door needs from its `ManagerServer`. */
export interface PyHost {
  /** The registered types, by typeid. */
  spec(typeid: string): TypeSpec | undefined;
  /** True for SyncManager's own registration of this typeid. */
  isBuiltin(spec: TypeSpec): boolean;
  /** Builds a referent with the callable of `spec`, as `caller`. */
  construct(spec: TypeSpec, args: unknown[], caller: Caller): unknown;
  /** Registers `obj` with one (global) reference; returns its id. */
  register(spec: TypeSpec, obj: object): number;
  /** The entry of `id`, if alive. */
  lookup(id: number): HostEntry | undefined;
  /** Adds a global reference; false when `id` is unknown. */
  incref(id: number): boolean;
  /** Drops a global reference; false when `id` is unknown. */
  decref(id: number): boolean;
  /** The live objects with their total reference counts. */
  objects(): Iterable<[number, HostEntry, number]>;
  /** Stops the whole server (a CPython `shutdown` control call). */
  shutdown(): void;
}

/**
 * The door's view of a server core: CPython clients' references are global
 * (their incref/decref come on throwaway connections), so they all belong
 * to one holder of the door.
 */
export function coreHost(core: ServerCore, shutdown: () => void): PyHost {
  const holder = newHolder();
  const lookup = (id: number): SharedEntry | undefined => {
    try {
      return core.table.get(id);
    } catch {
      return undefined;
    }
  };
  return {
    spec: (typeid) => {
      try {
        return core.spec(typeid);
      } catch {
        return undefined;
      }
    },
    isBuiltin: (spec) =>
      BUILTIN_SPECS.get(spec.typeid)?.callable === spec.callable,
    construct: (spec, args, caller) => core.create(caller, spec.typeid, args),
    register: (spec, obj) => core.table.add(holder, spec, obj).id,
    lookup,
    incref: (id) => lookup(id) !== undefined && !!core.table.incref(holder, id),
    decref: (id) => core.table.decref(holder, id),
    objects: function* () {
      for (const [id, e] of core.table.entries()) yield [id, e, e.refs];
    },
    shutdown,
  };
}

/** Options of {@linkcode CPythonDoor}. */
export interface DoorOptions {
  /** Where to listen for CPython clients. */
  address: Address;
  /** The key (CPython clients always authenticate). */
  authkey: Uint8Array;
}

const ITERATOR_SPEC: TypeSpec = {
  typeid: "Iterator",
  callable: undefined,
  exposed: [...ITERATOR_EXPOSED],
  methodToTypeid: undefined,
};

/** How `Server.public` spells the control calls. */
const CONTROL = new Set([
  "shutdown",
  "create",
  "accept_connection",
  "get_methods",
  "debug_info",
  "number_of_objects",
  "dummy",
  "incref",
  "decref",
]);

/** How long an authenticated connection may take to send its first request. */
const FIRST_REQUEST_MS = 10_000;

const FALLBACKS = new Set(["__str__", "__repr__", "#GETVALUE"]);

/** A failure of the server itself (CPython's `#TRACEBACK` kind). */
class Traceback extends Error {
  constructor(pyType: string, message: string) {
    super(`${pyType}: ${message}`);
    this.name = "Traceback";
  }
}

function traceback(e: unknown): string {
  const body = e instanceof Traceback
    ? e.message
    : e instanceof PyException
    ? `${e.type.replace(/^builtins\./, "")}: ${e.args.map(String).join(", ")}`
    : e instanceof UnpicklingError
    ? `_pickle.UnpicklingError: ${(e as Error).message}`
    : e instanceof Error
    ? `${e.name}: ${e.message}`
    : String(e);
  return `Traceback (most recent call last):\n  File "<deno manager server>", in serve\n${body}\n`;
}

/**
 * How a received value is resolved: `referent` (a proxy of ours becomes its
 * object: create args), `arg` (a method argument: a proxy becomes a stored
 * reference, a slice stays), `value` (inside a container: slices and
 * tokens are refused).
 */
type Resolve = "referent" | "arg" | "value";

/** A proxy stored inside a value: holds one reference until it is collected. */
const storedRefs = new FinalizationRegistry<() => void>((release) => release());

/** The CPython listener of one manager server. */
export class CPythonDoor {
  readonly #host: PyHost;
  readonly #listener: Listener;
  readonly #advertised: unknown;
  readonly #dumps: (value: unknown) => Uint8Array;
  readonly #conns = new Set<Connection>();
  readonly #callers = new Set<Caller>();
  #closed = false;

  /** Starts listening on `options.address`. */
  constructor(host: PyHost, options: DoorOptions) {
    this.#host = host;
    this.#listener = new Listener({
      address: options.address,
      authkey: options.authkey,
    });
    const a = parseAddress(this.#listener.address);
    this.#advertised = a.family === "AF_UNIX"
      ? a.path
      : tup(a.hostname, a.port);
    this.#dumps = serverDumps(this.#advertised);
    void this.#acceptLoop();
  }

  /** The bound address CPython clients connect to. */
  get address(): Address {
    return this.#listener.address;
  }

  async #acceptLoop(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        if (this.#closed) {
          conn.close();
          break;
        }
        this.#conns.add(conn);
        this.#serve(conn).catch(() => {}).finally(() => {
          conn.close();
          this.#conns.delete(conn);
        });
      }
    } catch {
      // The listener was closed or failed: stop accepting.
    }
  }

  /** Stops listening and drops every CPython client. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    for (const c of this.#callers) c.drop(new Error("The server closed"));
    for (const c of this.#conns) c.close();
  }

  /**
   * Writes one reply; a payload pickle cannot carry becomes CPython's
   * `#UNSERIALIZABLE` (then false: the value did not go out).
   */
  async #send(
    conn: Connection,
    kind: string,
    payload: unknown,
  ): Promise<boolean> {
    let bytes: Uint8Array;
    let sent = true;
    try {
      bytes = this.#dumps(tup(kind, payload));
    } catch (e) {
      bytes = this.#dumps(tup("#UNSERIALIZABLE", traceback(e)));
      sent = false;
    }
    await conn.sendBytes(bytes);
    return sent;
  }

  /** Reads one request: `(ident, methodname, args, kwds)`. */
  #parse(bytes: Uint8Array): [unknown, string, unknown[], Kwds] {
    const req = loadsMessage(bytes);
    if (!isTup(req) || (req as unknown[]).length !== 4) {
      throw new Traceback(
        "ValueError",
        "a request must be the tuple (ident, methodname, args, kwds)",
      );
    }
    const [ident, name, args, kwds] = req as unknown[];
    if (typeof name !== "string") {
      throw new Traceback("TypeError", "the method name must be a str");
    }
    if (!Array.isArray(args)) {
      throw new Traceback("TypeError", "the args must be a tuple");
    }
    if (kwds !== null && kwds !== undefined && !(kwds instanceof Map)) {
      throw new Traceback("TypeError", "the kwds must be a dict");
    }
    for (const k of (kwds as Map<unknown, unknown> | undefined)?.keys() ?? []) {
      if (typeof k !== "string") {
        throw new Traceback("TypeError", "keywords must be strings");
      }
    }
    return [ident, name, args, (kwds as Kwds | null) ?? NO_KWDS];
  }

  async #serve(conn: Connection): Promise<void> {
    let bytes: Uint8Array;
    // A CPython client sends its request right after the handshake: one
    // that stays silent is dropped, so a crowd of them holds nothing.
    const silent = setTimeout(() => conn.close(), FIRST_REQUEST_MS);
    try {
      bytes = await conn.recvBytes();
    } catch {
      return;
    } finally {
      clearTimeout(silent);
    }
    let req: [unknown, string, unknown[], Kwds];
    try {
      req = this.#parse(bytes);
    } catch (e) {
      return void await this.#send(conn, "#TRACEBACK", traceback(e));
    }
    const [, name, args, kwds] = req;
    if (name === "accept_connection") {
      await this.#send(conn, "#RETURN", null);
      return await this.#channel(conn);
    }
    if (name === "shutdown") {
      await this.#send(conn, "#RETURN", null);
      await this.#send(conn, "#RETURN", null).catch(() => {});
      this.#host.shutdown();
      return;
    }
    try {
      const value = await this.#control(name, args, kwds);
      await this.#send(conn, "#RETURN", value);
    } catch (e) {
      await this.#send(conn, "#TRACEBACK", traceback(e));
    }
  }

  #ident(ident: unknown): number {
    const id = typeof ident === "string" && /^[0-9a-f]{1,13}$/.test(ident)
      ? parseInt(ident, 16)
      : NaN;
    if (!Number.isSafeInteger(id) || !this.#host.lookup(id)) {
      throw new Traceback("KeyError", pyRepr(ident));
    }
    return id;
  }

  async #control(name: string, args: unknown[], kwds: Kwds): Promise<unknown> {
    if (!CONTROL.has(name)) {
      throw new Traceback("AssertionError", `'${name}' unrecognized`);
    }
    switch (name) {
      case "dummy":
        return null;
      case "create":
        return await this.#create(args, kwds);
      case "incref":
      case "decref": {
        const id = this.#ident(args[0]);
        if (name === "incref") this.#host.incref(id);
        else this.#host.decref(id);
        return null;
      }
      case "get_methods": {
        const token = args[0];
        if (!(token instanceof PyToken)) {
          throw new Traceback("TypeError", "get_methods() takes a Token");
        }
        const entry = this.#host.lookup(this.#ident(token.id))!;
        return tup(...new Set(this.#exposed(entry)));
      }
      case "number_of_objects":
        return [...this.#host.objects()].length;
      case "debug_info": {
        const lines: string[] = [];
        for (const [id, e, refs] of this.#host.objects()) {
          lines.push(
            `  ${id.toString(16)}:       refcount=${refs}\n    ${
              this.#repr(e).slice(0, 75)
            }`,
          );
        }
        return lines.join("\n");
      }
    }
    throw new Traceback("AssertionError", `'${name}' unrecognized`);
  }

  #exposed(entry: HostEntry): readonly string[] {
    return pyTypeOf(entry.obj)?.exposed ?? entry.exposedList;
  }

  #repr(entry: HostEntry): string {
    const t = pyTypeOf(entry.obj);
    return t?.repr
      ? t.repr(entry.obj as never)
      : `<${entry.typeid} object of a Deno manager>`;
  }

  async #create(args: unknown[], kwds: Kwds): Promise<unknown> {
    if (args.length < 1 || typeof args[0] !== "string") {
      throw new Traceback("TypeError", "create() needs a typeid");
    }
    const typeid = args[0];
    const spec = this.#host.spec(typeid);
    if (!spec) {
      throw new Traceback(
        "KeyError",
        `'${typeid}' is not a registered typeid of this manager`,
      );
    }
    if (!spec.callable) {
      throw new Traceback(
        "ValueError",
        `'${typeid}' has no callable: it is only returned by other methods`,
      );
    }
    const caller = new Caller();
    try {
      const argv = createArgs(
        typeid,
        args.slice(1).map((a) => this.#resolve(a, "referent")),
        new Map([...kwds].map(([k, v]) => [k, this.#resolve(v, "referent")])),
        this.#host.isBuiltin(spec),
      );
      const obj = await this.#host.construct(spec, argv, caller);
      if (obj === null || typeof obj !== "object") {
        throw new Traceback(
          "TypeError",
          `the callable of '${typeid}' did not return an object`,
        );
      }
      const id = this.#host.register(spec, obj);
      const entry = this.#host.lookup(id)!;
      return tup(id.toString(16), tup(...this.#exposed(entry)));
    } finally {
      caller.drop();
    }
  }

  /**
   * A value received from a CPython client, for our referents: a proxy of
   * ours at the top of `create`'s args becomes its referent, anywhere else a
   * stored reference; tokens and slices inside values, and proxies of other
   * managers, are refused.
   */
  #resolve(v: unknown, mode: Resolve, depth = 0): unknown {
    if (v instanceof PyProxyRef) {
      const id = this.#own(v);
      if (mode === "referent") return this.#host.lookup(id)!.obj;
      return this.#storedRef(id);
    }
    if (v instanceof PySlice && mode === "arg") return v;
    if (v instanceof PyToken || v instanceof PySlice) {
      throw new PyException("builtins.TypeError", [
        `a ${v instanceof PyToken ? "Token" : "slice"} cannot be stored`,
      ]);
    }
    if (depth > 512) return v;
    return mapItems(v, (x) => this.#resolve(x, "value", depth + 1));
  }

  /** The id of a proxy of ours (same port or path, live id, same typeid). */
  #own(ref: PyProxyRef): number {
    const { token } = ref;
    const ours = this.#advertised;
    const addr = token.address;
    const sameAddress = typeof ours === "string"
      ? addr === ours
      : Array.isArray(addr) && addr.length === 2 &&
        addr[1] === (ours as unknown[])[1];
    let id = NaN;
    if (sameAddress && /^[0-9a-f]{1,13}$/.test(token.id)) {
      id = parseInt(token.id, 16);
    }
    const entry = Number.isSafeInteger(id) ? this.#host.lookup(id) : undefined;
    if (!entry || entry.typeid !== token.typeid) {
      throw new PyException("builtins.TypeError", [
        `the ${token.typeid} proxy (address ${
          pyRepr(addr)
        }) is not one of this manager's objects`,
      ]);
    }
    return id;
  }

  #storedRef(id: number): OwnRef {
    const entry = this.#host.lookup(id)!;
    this.#host.incref(id);
    const ref = new OwnRef(
      entry.typeid,
      id.toString(16),
      this.#exposed(entry),
    );
    const host = this.#host;
    storedRefs.register(ref, () => host.decref(id));
    return ref;
  }

  /** Serves object calls on an `accept_connection` channel until EOF. */
  async #channel(conn: Connection): Promise<void> {
    const caller = new Caller();
    this.#callers.add(caller);
    const next = (): Promise<Uint8Array | null> =>
      conn.recvBytes().catch((e) => {
        if (!(e instanceof EOFError) && !conn.closed) throw e;
        return null;
      });
    try {
      let pending = next();
      while (!this.#closed) {
        const bytes = await pending.catch(() => null);
        if (bytes === null) break;
        pending = next();
        // A client that dies while its call is pending is dropped at once:
        // its waits are cancelled and what it holds is released.
        const gone = pending.then((b) => {
          if (b === null) caller.drop(new Error("The CPython client is gone"));
        }, () => caller.drop(new Error("The CPython client is gone")));
        void gone;
        await this.#call(conn, caller, bytes);
      }
    } finally {
      this.#callers.delete(caller);
      caller.drop(new Error("The CPython client disconnected"));
    }
  }

  async #call(conn: Connection, caller: Caller, bytes: Uint8Array) {
    let req: [unknown, string, unknown[], Kwds];
    try {
      req = this.#parse(bytes);
    } catch (e) {
      return void await this.#send(conn, "#TRACEBACK", traceback(e));
    }
    const [ident, name, args, kwds] = req;
    let entry: HostEntry;
    let exposed: readonly string[];
    try {
      entry = this.#host.lookup(this.#ident(ident))!;
      exposed = this.#exposed(entry);
      if (!exposed.includes(name)) {
        if (FALLBACKS.has(name)) {
          return await this.#fallback(conn, entry, name);
        }
        throw new Traceback(
          "AttributeError",
          `method '${name}' of '${entry.typeid}' object is not in exposed=(${
            exposed.map((m) => `'${m}'`).join(", ")
          })`,
        );
      }
    } catch (e) {
      return void await this.#send(conn, "#TRACEBACK", traceback(e));
    }
    const type = pyTypeOf(entry.obj);
    let result: unknown;
    try {
      // Built-in containers store proxies as references; custom types get
      // the referents (as Deno clients' proxy arguments do).
      const mode: Resolve = type ? "arg" : "referent";
      const argv = args.map((a) => this.#resolve(a, mode));
      const kw = kwds.size === 0 ? NO_KWDS : new Map(
        [...kwds].map(([k, v]) => [k, this.#resolve(v, mode)]),
      );
      result = runAs(caller, () => {
        if (type) return type.methods[name](entry.obj as never, argv, kw);
        if (kw.size > 0) {
          throw new PyException("builtins.TypeError", [
            `${name}() of a Deno referent takes no keyword arguments`,
          ]);
        }
        const fn = (entry.obj as Record<string, unknown>)[name];
        if (typeof fn !== "function") {
          throw new PyException("builtins.AttributeError", [
            `'${entry.typeid}' object has no method '${name}'`,
          ]);
        }
        return fn.apply(entry.obj, argv);
      });
      if (isPromiseLike(result)) result = await result;
    } catch (e) {
      if (caller.gone) return;
      return await this.#send(conn, "#ERROR", toPyException(e));
    }
    const toTypeid = type ? type.proxies?.[name] : entry.m2t?.[name];
    if (toTypeid !== undefined) {
      return await this.#proxyReply(conn, toTypeid, result);
    }
    if (result instanceof Undoable) {
      if (caller.gone) return result.undo();
      // An item that did not reach the client goes back to its queue.
      const sent = await this.#send(conn, "#RETURN", result.value).catch(
        () => false,
      );
      if (!sent) result.undo();
      return;
    }
    // Writes go out in order: the next request is read meanwhile (a failed
    // write also fails that read, which ends the channel).
    this.#send(conn, "#RETURN", result ?? null).catch(() => conn.close());
  }

  async #proxyReply(conn: Connection, typeid: string, obj: unknown) {
    const spec = typeid === "Iterator" && obj instanceof PyIterator
      ? (this.#host.spec("Iterator") ?? ITERATOR_SPEC)
      : this.#host.spec(typeid);
    if (!spec || obj === null || typeof obj !== "object") {
      return await this.#send(
        conn,
        "#TRACEBACK",
        traceback(
          new Traceback(
            "KeyError",
            `cannot share the result as a '${typeid}'`,
          ),
        ),
      );
    }
    const id = this.#host.register(spec, obj);
    const entry = this.#host.lookup(id)!;
    await this.#send(
      conn,
      "#PROXY",
      tup(
        tup(...this.#exposed(entry)),
        new OwnRef(typeid, id.toString(16), this.#exposed(entry)).token(
          this.#advertised,
        ),
      ),
    );
  }

  async #fallback(conn: Connection, entry: HostEntry, name: string) {
    if (name !== "#GETVALUE") {
      return await this.#send(conn, "#RETURN", this.#repr(entry));
    }
    const getvalue = pyTypeOf(entry.obj)?.getvalue;
    if (!getvalue) {
      return await this.#send(
        conn,
        "#UNSERIALIZABLE",
        traceback(
          new Traceback(
            "TypeError",
            `cannot pickle the '${entry.typeid}' object of a Deno manager`,
          ),
        ),
      );
    }
    await this.#send(conn, "#RETURN", getvalue(entry.obj as never));
  }
}
