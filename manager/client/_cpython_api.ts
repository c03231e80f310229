// Our proxy API on a CPython manager server: for each of SyncManager's
// types, how a camelCase method with ms timeouts and `{ block, timeout }`
// options becomes CPython's `(methodname, args, kwds)`; and how the
// factories' arguments become CPython's `create(typeid, *args, **kwds)`.
// Types we do not know get their Python names camelCased, arguments as-is.

import { readAcquire, readBlocking } from "../types/_blocking.ts";
import type { ClientCodecHooks } from "../protocol/_cpython_codec.ts";
import { CPYTHON_EXPOSED, QUEUE_EXPOSED } from "../protocol/_cpython_values.ts";

/** A Python call: method name, positional args, keyword args. */
export type PyCall = readonly [
  method: string,
  args: unknown[],
  kwds?: Map<string, unknown>,
];

/** How the result of a call is turned into what the proxy resolves with. */
export type Post = (v: unknown) => unknown;

/** One method of our API. */
export interface ClientMethod {
  /** Builds the Python call from our arguments (throws TypeError/RangeError for bad ones). */
  call(args: unknown[]): PyCall;
  /** Post-processing of the reply's value. */
  post?: Post;
}

function sec(ms: number | undefined): number | null {
  return ms === undefined ? null : ms / 1000;
}

function waitTimeout(v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "number" || Number.isNaN(v) || v < 0) {
    throw new RangeError(
      `Cannot wait as the timeout must be a non-negative number of milliseconds: received ${
        String(v)
      }`,
    );
  }
  return v === Infinity ? null : v / 1000;
}

const direct = (method: string): ClientMethod => ({
  call: (a) => [method, a],
});

/** A Python dict (with str keys) from a plain object or a Map. */
export function toDict(v: unknown): Map<unknown, unknown> {
  if (v instanceof Map) return v;
  if (Array.isArray(v)) return new Map(v as [unknown, unknown][]);
  if (v === null || typeof v !== "object") {
    throw new TypeError(
      `Cannot use the value as a dict: received ${
        v === null ? "null" : typeof v
      }`,
    );
  }
  return new Map(Object.entries(v));
}

/** A plain object from a Python dict with str keys (other keys: String()). */
export function fromDict(v: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!(v instanceof Map)) return out;
  for (const [k, x] of v) {
    Object.defineProperty(out, String(k), {
      value: x,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

const QUEUE: Record<string, ClientMethod> = {
  put: {
    call: ([item, opts]) => {
      const { block, timeout } = readBlocking(opts);
      return ["put", [item, block, sec(timeout)]];
    },
  },
  get: {
    call: ([opts]) => {
      const { block, timeout } = readBlocking(opts);
      return ["get", [block, sec(timeout)]];
    },
  },
  putNowait: direct("put_nowait"),
  getNowait: direct("get_nowait"),
  qsize: direct("qsize"),
  empty: direct("empty"),
  full: direct("full"),
  taskDone: direct("task_done"),
  join: direct("join"),
  shutdown: {
    call: ([immediate]) => ["shutdown", [Boolean(immediate)]],
  },
};

const ACQUIRE: ClientMethod = {
  call: ([opts]) => {
    const { block, timeout } = readAcquire(opts);
    return [
      "acquire",
      timeout === undefined ? [block] : [block, timeout / 1000],
    ];
  },
};

const LOCK: Record<string, ClientMethod> = {
  acquire: ACQUIRE,
  release: direct("release"),
};

const CONDITION: Record<string, ClientMethod> = {
  acquire: ACQUIRE,
  release: direct("release"),
  wait: { call: ([t]) => ["wait", [waitTimeout(t)]] },
  notify: {
    call: ([n]) => ["notify", [n === undefined ? 1 : n]],
  },
  notifyAll: direct("notify_all"),
};

const EVENT: Record<string, ClientMethod> = {
  set: direct("set"),
  clear: direct("clear"),
  isSet: direct("is_set"),
  wait: { call: ([t]) => ["wait", [waitTimeout(t)]] },
};

const attr = (name: string): ClientMethod => ({
  call: () => ["__getattribute__", [name]],
});

const BARRIER: Record<string, ClientMethod> = {
  wait: { call: ([t]) => ["wait", [waitTimeout(t)]] },
  reset: direct("reset"),
  abort: direct("abort"),
  parties: attr("parties"),
  nWaiting: attr("n_waiting"),
  broken: attr("broken"),
};

const VALUE: Record<string, ClientMethod> = {
  get: direct("get"),
  set: direct("set"),
};

/** The items of an `array.array` `#GETVALUE` reply (decoded by the codec). */
export type ArrayDecoder = (v: unknown) => unknown[];

function arrayApi(decode: ArrayDecoder): Record<string, ClientMethod> {
  return {
    get: direct("__getitem__"),
    set: direct("__setitem__"),
    length: direct("__len__"),
    toArray: { call: () => ["#GETVALUE", []], post: decode },
  };
}

const LIST: Record<string, ClientMethod> = {
  length: direct("__len__"),
  get: direct("__getitem__"),
  set: direct("__setitem__"),
  append: direct("append"),
  extend: direct("extend"),
  insert: direct("insert"),
  pop: direct("pop"),
  remove: direct("remove"),
  index: direct("index"),
  count: direct("count"),
  reverse: direct("reverse"),
  sort: {
    call: ([opts]) => [
      "sort",
      [],
      new Map([["reverse", Boolean((opts as { reverse?: boolean })?.reverse)]]),
    ],
  },
  toArray: { call: () => ["#GETVALUE", []] },
};

/** `list.slice(start, end)`: needs the codec's slice value. */
export type SliceMaker = (start: unknown, stop: unknown) => unknown;

const DICT: Record<string, ClientMethod> = {
  get: {
    call: ([k, d]) => ["get", [k, d === undefined ? null : d]],
    post: (v) => v,
  },
  set: direct("__setitem__"),
  delete: direct("__delitem__"),
  has: direct("__contains__"),
  size: direct("__len__"),
  keys: direct("keys"),
  values: direct("values"),
  items: {
    call: () => ["items", []],
    post: (v) => Array.isArray(v) ? v.map((p) => [...(p as unknown[])]) : v,
  },
  update: { call: ([o]) => ["update", [toDict(o)]] },
  pop: direct("pop"),
  popitem: {
    call: () => ["popitem", []],
    post: (v) => Array.isArray(v) ? [...v] : v,
  },
  setdefault: {
    call: ([k, v]) => ["setdefault", [k, v === undefined ? null : v]],
  },
  clear: direct("clear"),
  toObject: { call: () => ["copy", []], post: fromDict },
};

/** The `#GETVALUE` of a Namespace: its attributes (decoded by the codec). */
export type NamespaceDecoder = (v: unknown) => Record<string, unknown>;

function namespaceApi(
  decode: NamespaceDecoder,
): Record<string, ClientMethod> {
  return {
    get: direct("__getattribute__"),
    set: direct("__setattr__"),
    delete: direct("__delattr__"),
    toObject: { call: () => ["#GETVALUE", []], post: decode },
  };
}

/** The CPython `exposed` lists of SyncManager's types (sorted, for matching). */
const EXPOSED: ReadonlyArray<[string, string]> = [
  ...Object.entries(CPYTHON_EXPOSED),
  ["Queue", [...QUEUE_EXPOSED, "shutdown"]] as const,
].map(([kind, names]) => [kind, [...names].sort().join(",")]);

/**
 * Our methods for an object of `typeid` exposing `exposed` on a CPython
 * server: SyncManager's tables when the exposed list is one of its types'
 * (so `register('get_queue', …)` of a `queue.Queue` gets the queue API);
 * otherwise each Python name camelCased (`put_nowait` → `putNowait`),
 * arguments passed as they are.
 */
export function clientMethods(
  typeid: string,
  exposed: readonly string[],
  hooks: ClientCodecHooks,
): Record<string, ClientMethod> {
  const key = [...new Set(exposed)].sort().join(",");
  if (typeid === "list" && exposed.includes("__getitem__")) {
    return {
      ...LIST,
      slice: {
        call: ([s, e]) => [
          "__getitem__",
          [hooks.slice(s ?? null, e ?? null)],
        ],
      },
    };
  }
  if (typeid === "dict" && exposed.includes("__getitem__")) return DICT;
  for (const [kind, names] of EXPOSED) {
    if (names !== key) continue;
    switch (kind) {
      case "Queue":
        return QUEUE;
      case "Event":
        return EVENT;
      case "Lock":
        return LOCK;
      case "Condition":
        return CONDITION;
      case "Barrier":
        return BARRIER;
      case "Value":
        return VALUE;
      case "Array":
        return arrayApi(hooks.decodeArray);
      case "Namespace":
        return namespaceApi(hooks.decodeNamespace);
    }
  }
  const out: Record<string, ClientMethod> = {};
  for (const name of exposed) out[camel(name)] = direct(name);
  return out;
}

/** `put_nowait` → `putNowait`; dunder and single-word names stay. */
export function camel(name: string): string {
  if (name.startsWith("__")) return name;
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * CPython's `create(typeid, *args, **kwds)` for the arguments of our
 * SyncManager factories (ms → seconds, options → keywords); other typeids
 * pass their arguments as they are.
 */
export function createCall(
  typeid: string,
  args: unknown[],
): [unknown[], Map<string, unknown>] {
  const none = new Map<string, unknown>();
  switch (typeid) {
    case "Barrier": {
      const [parties, opts] = args as [
        unknown,
        { timeout?: number } | undefined,
      ];
      const t = opts?.timeout;
      return [[parties, null, t === undefined ? null : waitTimeout(t)], none];
    }
    case "dict":
      return [args.length ? [toDict(args[0])] : [], none];
    case "Namespace":
      return [[], args.length ? toDict(args[0]) as Map<string, unknown> : none];
  }
  return [args, none];
}
