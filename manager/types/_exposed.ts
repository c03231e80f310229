// The client-visible API of SyncManager's types: the methods each exposes
// (CPython's, camelCased), and client-side checks of their blocking options,
// so that a bad `{ block, timeout }` or timeout rejects with a
// TypeError/RangeError before anything is sent (the same checks the
// referents run on the server). Kept free
// of the referents' code: proxies rebuilt in other threads import it.

import { checkTimeout, readAcquire, readBlocking } from "./_blocking.ts";

/** Checks the arguments of one method call; throws on bad ones. */
export type ArgCheck = (args: unknown[]) => void;

/** One built-in type: its exposed methods and the checks of some of them. */
export interface BuiltinApi {
  /** The methods clients may call. */
  exposed: readonly string[];
  /** Argument checks, by method. */
  checks: Readonly<Record<string, ArgCheck>>;
}

const QUEUE: BuiltinApi = {
  exposed: [
    "put",
    "get",
    "putNowait",
    "getNowait",
    "qsize",
    "empty",
    "full",
    "taskDone",
    "join",
  ],
  checks: {
    put: (a) => void readBlocking(a[1]),
    get: (a) => void readBlocking(a[0]),
  },
};
const ACQUIRE: ArgCheck = (a) => void readAcquire(a[0]);
const WAIT: ArgCheck = (a) => void checkTimeout(a[0]);
const LOCK: BuiltinApi = {
  exposed: ["acquire", "release"],
  checks: { acquire: ACQUIRE },
};
const SEMAPHORE: BuiltinApi = {
  exposed: ["acquire", "release", "getValue"],
  checks: { acquire: ACQUIRE },
};

/** The built-in types' APIs, by typeid. */
export const BUILTIN_API: ReadonlyMap<string, BuiltinApi> = new Map([
  ["Queue", QUEUE],
  ["JoinableQueue", QUEUE],
  ["Event", {
    exposed: ["set", "clear", "isSet", "wait"],
    checks: { wait: WAIT },
  }],
  ["Lock", LOCK],
  ["RLock", LOCK],
  ["Semaphore", SEMAPHORE],
  ["BoundedSemaphore", SEMAPHORE],
  ["Condition", {
    exposed: ["acquire", "release", "wait", "notify", "notifyAll"],
    checks: { acquire: ACQUIRE, wait: WAIT },
  }],
  ["Barrier", {
    exposed: ["wait", "reset", "abort", "parties", "nWaiting", "broken"],
    checks: { wait: WAIT },
  }],
  ["Value", { exposed: ["get", "set"], checks: {} }],
  ["Array", { exposed: ["get", "set", "length", "toArray"], checks: {} }],
  ["dict", {
    exposed: [
      "get",
      "set",
      "delete",
      "has",
      "size",
      "keys",
      "values",
      "items",
      "update",
      "pop",
      "popitem",
      "setdefault",
      "clear",
      "toObject",
    ],
    checks: {},
  }],
  ["list", {
    exposed: [
      "length",
      "get",
      "set",
      "append",
      "extend",
      "insert",
      "pop",
      "remove",
      "index",
      "count",
      "reverse",
      "sort",
      "slice",
      "toArray",
    ],
    checks: {},
  }],
  ["Namespace", {
    exposed: ["get", "set", "delete", "toObject"],
    checks: {},
  }],
]);

/**
 * The argument checks that apply to a proxy of `typeid` exposing `exposed`:
 * those of the built-in type, when the object is one (same typeid and
 * methods); none for other types.
 */
export function argChecks(
  typeid: string,
  exposed: readonly string[],
): Readonly<Record<string, ArgCheck>> | undefined {
  const api = BUILTIN_API.get(typeid);
  if (
    !api || api.exposed.length !== exposed.length ||
    api.exposed.some((m, i) => exposed[i] !== m)
  ) return undefined;
  return api.checks;
}
