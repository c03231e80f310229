// What every protocol door of a server shares: the registry of types, the
// object table with its reference counts, the connected peers, and the calls
// themselves (find the object, check the method is exposed, run it
// attributed to its caller, create objects). A door (`_msgpack_door.ts` for
// this package's protocol) turns frames into these calls and their results
// into replies; a door for another protocol (`_cpython_door.ts`) is handed
// the same core by `ManagerServer` and serves it on its own listener, so its
// clients share the objects and reference counts of every other client.

import type { ObjectId, ObjectRef } from "../protocol/_messages.ts";
import { type Caller, runAs, swapCaller } from "../types/_caller.ts";
import { construct, type TypeSpec } from "../types/registry.ts";
import type { Holder, SharedEntry } from "./_object_table.ts";
import { ObjectTable } from "./_object_table.ts";

/** One connected client, as the server sees it (whatever its protocol). */
export interface Peer {
  /** Its references. */
  readonly holder: Holder;
  /** Its identity for the referents (cancels its waits when it drops). */
  readonly caller: Caller;
  /** Resolves once its queued replies are written (or after `ms`). */
  drain(ms: number): Promise<void>;
  /** Disconnects it. */
  close(): void;
}

/** What a door asks of its server beyond the core. */
export interface DoorHost {
  /** The server's statistics (the `stats` request). */
  stats(): unknown;
  /** Closes the server (the `shutdown` request). */
  close(): Promise<void>;
}

/** The result of a method call, before it becomes a reply. */
export interface CallResult {
  /** What the method returned (maybe a promise). */
  result: unknown;
  /** The typeid its result is shared as (`methodToTypeid`), if any. */
  toTypeid: string | undefined;
}

function randomEpoch(): string {
  const b = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** True for a thenable (a method that answers later). */
export function isPromiseLike(r: unknown): r is PromiseLike<unknown> {
  return r !== null && typeof r === "object" &&
    typeof (r as PromiseLike<unknown>).then === "function";
}

/** The registry, the objects and the calls of one server. */
export class ServerCore {
  /** Random per server start; part of every token. */
  readonly epoch: string = randomEpoch();
  /** The shared objects and their reference counts. */
  readonly table: ObjectTable = new ObjectTable();
  /** The connected clients, of every door. */
  readonly peers: Set<Peer> = new Set();
  readonly #registry: Map<string, TypeSpec>;

  /** A core serving the types of `registry`. */
  constructor(registry: Map<string, TypeSpec>) {
    this.#registry = new Map(registry);
  }

  /** Drops a client: cancels its waits, releases what it holds and its references. */
  drop(peer: Peer): void {
    if (!this.peers.delete(peer)) return;
    // Cancel its waits and release what it holds first, so that the items of
    // its unsent replies (put back by the door) go to live clients only.
    peer.caller.drop(new Error("The client disconnected"));
    peer.close();
    this.table.releaseAll(peer.holder);
  }

  /**
   * Replaces, in a copy of `args`, the object ids at the indexes `refs`
   * by the referents themselves.
   */
  resolveRefs(args: unknown[], refs: unknown): unknown[] {
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
      out[i] = this.table.get(out[i]).obj;
    }
    return out;
  }

  /**
   * Runs `method` of object `oid` for `caller`.
   *
   * @throws {TypeError} when the method is not exposed or not a function.
   * @throws {ReferenceError} when there is no such object.
   */
  call(
    caller: Caller,
    oid: unknown,
    method: unknown,
    argv: unknown[],
  ): CallResult {
    const entry = this.table.get(oid);
    const fn = exposedMethod(entry, method);
    const prev = swapCaller(caller);
    let result: unknown;
    try {
      result = fn.apply(entry.obj, argv);
    } finally {
      swapCaller(prev);
    }
    return { result, toTypeid: entry.m2t?.[method as string] };
  }

  /**
   * Runs the callable of `typeid` for `caller`; returns what it made (maybe a promise).
   *
   * @throws {TypeError} when the type is not registered or has no callable.
   */
  create(caller: Caller, typeid: unknown, argv: unknown[]): unknown {
    const spec = this.spec(typeid);
    if (!spec.callable) {
      throw new TypeError(
        `Cannot create an object of type '${spec.typeid}' directly: it has no callable`,
      );
    }
    const callable = spec.callable;
    return runAs(caller, () => construct(callable, argv));
  }

  /**
   * The registered type `typeid`.
   *
   * @throws {TypeError} when it is not registered.
   */
  spec(typeid: unknown): TypeSpec {
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
    return spec;
  }

  /**
   * Shares `obj` as a new object of type `typeid`, held once by `holder`.
   *
   * @throws {TypeError} when the type is not registered or `obj` is not an object.
   */
  share(holder: Holder, typeid: string, obj: unknown): ObjectRef {
    const spec = this.#registry.get(typeid);
    if (!spec) {
      throw new TypeError(
        `Cannot share the result as its typeid '${typeid}' is not registered`,
      );
    }
    if (obj === null || typeof obj !== "object" && typeof obj !== "function") {
      throw new TypeError(
        `Cannot share the result as a ${typeid} as it is not an object`,
      );
    }
    return this.table.add(holder, spec, obj as object);
  }

  /**
   * Checks that a token's epoch is this server's.
   *
   * @throws {ReferenceError} when it is not.
   */
  checkEpoch(epoch: unknown): void {
    if (epoch !== this.epoch) {
      throw new ReferenceError(
        `Cannot use the token as it belongs to another server or an earlier run of this one (token epoch ${
          String(epoch)
        }, server epoch ${this.epoch})`,
      );
    }
  }

  /** The id of a live object (its ObjectRef), for replies. */
  refOf(oid: ObjectId): ObjectRef {
    return this.table.refOf(oid);
  }
}

function exposedMethod(
  entry: SharedEntry,
  method: unknown,
): (...a: unknown[]) => unknown {
  if (typeof method !== "string" || !entry.exposed.has(method)) {
    throw new TypeError(
      `Cannot call method ${
        JSON.stringify(method)
      } of the ${entry.typeid} object as it is not exposed (exposed: ${
        entry.exposedList.join(", ")
      })`,
    );
  }
  const fn = (entry.obj as Record<string, unknown>)[method];
  if (typeof fn !== "function") {
    throw new TypeError(
      `Cannot call method '${method}' of the ${entry.typeid} object as it is not a function`,
    );
  }
  return fn as (...a: unknown[]) => unknown;
}
