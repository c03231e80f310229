/**
 * Proxies: client-side handles to shared objects living in a manager server.
 * Every exposed method of the referent becomes an async method; the object
 * lives while a proxy to it lives (`[Symbol.asyncDispose]`, with a
 * `FinalizationRegistry` as the safety net).
 *
 * @module
 */

import { type Address, Client, formatAddress } from "../../connection/mod.ts";
import {
  registerReviver,
  TRANSFER,
  type TransferHandle,
} from "../../_transfer.ts";
import { argChecks } from "../types/_exposed.ts";
import { checkArgs } from "./_check_args.ts";
import { LazyConn } from "./_lazy_conn.ts";
import type { ObjectId, ObjectRef } from "../protocol/_messages.ts";
import { RESERVED } from "../types/registry.ts";
import { Session } from "./_session.ts";

/**
 * Identifies a shared object: plain and serializable (no authkey), so it can
 * be handed to another process, which rebuilds the proxy with
 * `manager.fromToken(token)` on a manager connected with the authkey.
 *
 * @example Hand a proxy to another client by token
 * ```ts
 * import { SyncManager, type Token } from "@mproc/multiprocessing/manager";
 *
 * await using m = await SyncManager.start();
 * const q = await m.Queue();
 * const token: Token = q.token; // plain data: send it anywhere
 * await using other = await SyncManager.connect({ address: m.address, authkey: m.authkey });
 * const q2 = await other.fromToken<{ put(v: unknown): void }>(token);
 * await q2.put(1);
 * console.assert(await q.get() === 1);
 * ```
 */
export interface Token {
  /** The registered type of the object. */
  typeid: string;
  /** The object's id on its server. */
  id: number;
  /** The server's address. */
  address: Address;
  /** The server's epoch: a restarted server has another one. */
  epoch: string;
}

/**
 * What every proxy has besides its remote methods.
 *
 * @example Release a proxy
 * ```ts
 * import { type ProxyBase, SyncManager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await SyncManager.start();
 * const l: ProxyBase = await m.list();
 * await l[Symbol.asyncDispose]();
 * console.assert((await m.stats()).objects === 0);
 * ```
 */
export interface ProxyBase extends AsyncDisposable {
  /** The object's token (plain data, no authkey). */
  readonly token: Token;
  /** Drops this proxy's reference; the object goes when no proxy is left. Idempotent. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Unwraps what a referent method returns into what its proxy resolves with.
 *
 * @example The resolved type of a remote call
 * ```ts
 * import type { RemoteResult } from "@mproc/multiprocessing/manager";
 *
 * type R = RemoteResult<number>;
 * const r: R = 1;
 * console.assert(r === 1);
 * ```
 */
export type RemoteResult<R> = R extends
  { readonly value: infer V; readonly undo: () => void } ? V : R;

/**
 * The proxy type of a referent `T`: every public method (no leading `_`)
 * becomes an async method with the same parameters.
 *
 * @typeParam T The referent's type (the class registered with the manager).
 *
 * @example Type a proxy from its referent class
 * ```ts
 * import type { Remote } from "@mproc/multiprocessing/manager";
 *
 * class Counter {
 *   #n = 0;
 *   increment(): number {
 *     return ++this.#n;
 *   }
 * }
 * // `Remote<Counter>` has `increment(): Promise<number>` and `token`.
 * function use(c: Remote<Counter>): Promise<number> {
 *   return c.increment();
 * }
 * console.assert(typeof use === "function");
 * ```
 */
export type Remote<T> =
  & {
    [
      K in keyof T as K extends `_${string}` ? never
        : T[K] extends (...a: never[]) => unknown ? K
        : never
    ]: T[K] extends (...a: infer A) => infer R
      ? (...a: A) => Promise<RemoteResult<Awaited<R>>>
      : never;
  }
  & ProxyBase;

const CALL = Symbol("mproc.manager.call");
const TAG = "mproc.manager.proxy";

interface Held {
  session: Session;
  oid: ObjectId;
  pooled: boolean;
}

const finalizer = new FinalizationRegistry<Held>((h) => {
  h.session.notify("decref", h.oid);
  if (h.pooled) releasePooled(h.session);
});

/** The class behind every proxy; methods are added per exposed list. */
export class BaseProxy implements ProxyBase {
  #session: Session;
  #token: Token;
  #exposed: string[];
  #released = false;
  #held: Held;

  /** @internal Use a manager's `create()` / `fromToken()`. */
  constructor(session: Session, ref: ObjectRef, token: Token, pooled: boolean) {
    this.#session = session;
    this.#exposed = ref.exposed;
    this.#token = token;
    this.#held = { session, oid: ref.id, pooled };
    if (pooled) session.users++;
    finalizer.register(this, this.#held, this);
  }

  /** The object's token (plain data, no authkey). */
  get token(): Token {
    return { ...this.#token };
  }

  /** @internal The session of this proxy. */
  static sessionOf(p: BaseProxy): Session {
    return p.#session;
  }

  /** @internal The object id of this proxy. */
  static idOf(p: BaseProxy): ObjectId {
    return p.#token.id;
  }

  /** @internal */
  [CALL](method: string, args: unknown[]): Promise<unknown> {
    if (this.#released) {
      return Promise.reject(
        new Error(
          `Cannot call ${method}() as this ${this.#token.typeid} proxy was released`,
        ),
      );
    }
    let refs: number[] | undefined;
    try {
      refs = substituteProxies(this.#session, args);
      checkArgs(`call ${method}()`, args);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#session.call(this.#token.id, method, args, refs);
  }

  /** @internal Replaces proxies in `args` (in place) by their ids; returns their indexes. */
  static substitute(session: Session, args: unknown[]): number[] | undefined {
    let refs: number[] | undefined;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a instanceof BaseProxy) {
        if (a.#session.epoch !== session.epoch || a.#released) {
          throw new TypeError(
            `Cannot pass the ${a.#token.typeid} proxy at argument ${i} as it is released or belongs to another manager`,
          );
        }
        (refs ??= []).push(i);
        args[i] = a.#token.id;
      }
    }
    return refs;
  }

  /** @internal Makes the proxy travel to a Worker or Pool task as a working proxy. */
  [TRANSFER](): TransferHandle {
    if (this.#released) {
      throw new TypeError(
        `Cannot transfer the ${this.#token.typeid} proxy as it was released`,
      );
    }
    // This connection holds a reference for the proxy in transit until the
    // receiver holds its own (or this connection closes): the object cannot
    // vanish in between, even if this proxy is released first.
    const loan = randomLoan();
    this.#session.notify("lend", this.#token.id, loan);
    return {
      tag: TAG,
      module: import.meta.url,
      data: {
        token: this.#token,
        authkey: this.#session.authkey ?? null,
        exposed: this.#exposed,
        loan,
      } satisfies TransferData,
    };
  }

  /** Drops this proxy's reference; the object goes when no proxy is left. Idempotent. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    finalizer.unregister(this);
    const s = this.#session;
    if (!s.closed) await s.request("decref", this.#token.id).catch(() => {});
    if (this.#held.pooled) releasePooled(s);
  }

  /** A short description, as CPython's proxy `repr`. */
  toString(): string {
    return `<${this.#token.typeid} proxy id=${this.#token.id}>`;
  }
}

/**
 * Replaces the proxies of `session`'s server found in `args` (a fresh array,
 * changed in place) by their ids; returns their indexes.
 *
 * @throws {TypeError} for a released proxy or one of another server.
 */
export function substituteProxies(
  session: Session,
  args: unknown[],
): number[] | undefined {
  return BaseProxy.substitute(session, args);
}

const classes = new Map<
  string,
  new (s: Session, r: ObjectRef, t: Token, p: boolean) => BaseProxy
>();

/**
 * The proxy class of objects exposing `exposed`; a built-in type's proxy
 * also checks its blocking options before sending (a bad one rejects with a
 * TypeError / RangeError and nothing is sent).
 */
function proxyClass(
  typeid: string,
  exposed: string[],
): new (s: Session, r: ObjectRef, t: Token, p: boolean) => BaseProxy {
  const checks = argChecks(typeid, exposed);
  const key = checks ? `${typeid}:` : `:${exposed.join(",")}`;
  let cls = classes.get(key);
  if (cls) return cls;
  cls = class extends BaseProxy {};
  Object.defineProperty(cls, "name", { value: `${typeid}Proxy` });
  for (const name of exposed) {
    if (RESERVED.has(name) || name in BaseProxy.prototype) continue;
    const check = checks?.[name];
    Object.defineProperty(cls.prototype, name, {
      value: check
        ? function (this: BaseProxy, ...args: unknown[]): Promise<unknown> {
          try {
            check(args);
          } catch (e) {
            return Promise.reject(e);
          }
          return this[CALL](name, args);
        }
        : function (this: BaseProxy, ...args: unknown[]): Promise<unknown> {
          return this[CALL](name, args);
        },
      writable: true,
      configurable: true,
    });
  }
  classes.set(key, cls);
  return cls;
}

/** Builds the proxy for `ref` on `session` (the session holds one reference for it). */
export function makeProxy<T>(
  session: Session,
  ref: ObjectRef,
  pooled = false,
): Remote<T> {
  const token: Token = {
    typeid: ref.typeid,
    id: ref.id,
    address: session.address as Address,
    epoch: session.epoch ?? "",
  };
  const Cls = proxyClass(ref.typeid, ref.exposed);
  return new Cls(session, ref, token, pooled) as unknown as Remote<T>;
}

/** Sets up a session so its `proxy` replies become proxies. */
export function bindSession(session: Session): void {
  session.makeProxy = (s, ref) => makeProxy(s, ref);
}

// Proxies rebuilt from a transfer (in a Worker or Pool task) share one
// connection per server; it closes when its last proxy is released.
const pool = new Map<string, Session>();

function hex(b: Uint8Array | null | undefined): string {
  return b
    ? Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")
    : "-";
}

function pooledSession(
  address: Address,
  authkey: Uint8Array | undefined,
  epoch: string,
): Session {
  const key = `${formatAddress(address)}|${hex(authkey)}|${epoch}`;
  let s = pool.get(key);
  if (s && !s.closed) return s;
  const conn = new LazyConn(Client(address, authkey ? { authkey } : {}));
  s = new Session(conn, formatAddress(address), epoch);
  s.address = address;
  s.authkey = authkey;
  bindSession(s);
  const session = s;
  s.onClose = () => {
    if (pool.get(key) === session) pool.delete(key);
  };
  pool.set(key, s);
  return s;
}

function releasePooled(s: Session): void {
  if (--s.users <= 0) s.close();
}

interface TransferData {
  token: Token;
  authkey: Uint8Array | null;
  exposed: string[];
  loan: string;
}

function randomLoan(): string {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Rebuilds a transferred proxy: it connects on first use and takes its own reference. */
function revive(data: unknown): BaseProxy {
  const { token, authkey, exposed, loan } = data as TransferData;
  const session = pooledSession(
    token.address,
    authkey ?? undefined,
    token.epoch,
  );
  session.notify("incref", token.id, token.epoch, loan);
  const Cls = proxyClass(token.typeid, exposed);
  return new Cls(session, { typeid: token.typeid, id: token.id, exposed }, {
    ...token,
  }, true);
}

registerReviver(TAG, revive);
