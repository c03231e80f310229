// The manager profiles of the pickle codec (pickle-wire.md §3): which
// globals each side reads (closed tables of pure reconstructors returning
// the inert values of ./_values.ts), and the only globals each side writes,
// built from our own objects (minted here), never from what a peer sent.

import { asTuple, tupleBranded } from "../../pickle/_brands.ts";
import { PLAIN_GLOBALS } from "../../pickle/_globals.ts";
import {
  type GlobalEntry,
  type ReaderProfile,
  type ReduceContext,
  unpickle,
} from "../../pickle/_reader.ts";
import {
  pickle,
  PyGlobal,
  PyGlobalCall,
  type WriterProfile,
} from "../../pickle/_writer.ts";
import { UnpicklingError } from "../../pickle/errors.ts";
import { STORABLE } from "../types/_errors.ts";
import {
  PROXY_CLASS_OF,
  PROXY_CLASSES,
  PyArray,
  PyException,
  PyObject,
  PyProxyRef,
  PySlice,
  PyToken,
} from "./_cpython_values.ts";

export { UnpicklingError };

/** A Python tuple. */
export function tup<T extends unknown[]>(...items: T): Readonly<T> {
  return asTuple(items);
}

/** True for a Python tuple. */
export function isTup(v: unknown): v is readonly unknown[] {
  return tupleBranded(v);
}

/**
 * A copy of a Python container (list, tuple, dict values) with `fn` applied
 * to each item; the container itself when nothing changed; other values as
 * they are.
 */
export function mapItems(v: unknown, fn: (x: unknown) => unknown): unknown {
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    v.forEach((x, i) => {
      const y = fn(x);
      if (y !== x) (out ??= [...v])[i] = y;
    });
    return out ? (isTup(v) ? tup(...out) : out) : v;
  }
  if (v instanceof Map) {
    let changed = false;
    const out = new Map();
    for (const [k, x] of v) {
      const y = fn(x);
      if (y !== x) changed = true;
      out.set(k, y);
    }
    return changed ? out : v;
  }
  return v;
}

/** A proxy of the server's own, stored inside a value (written as `RebuildProxy`). */
export class OwnRef {
  /** Its typeid. */
  readonly typeid: string;
  /** Its ident (hex). */
  readonly ident: string;
  /** Its CPython exposed list. */
  readonly exposed: readonly string[];
  /** Creates the reference (the caller holds a server reference for it). */
  constructor(typeid: string, ident: string, exposed: readonly string[]) {
    this.typeid = typeid;
    this.ident = ident;
    this.exposed = exposed;
  }

  /** Our token of this object at `address`. */
  token(address: unknown): PyToken {
    return mint(new PyToken(this.typeid, address, this.ident));
  }
}

STORABLE.add(OwnRef.prototype);

// ---- reading --------------------------------------------------------------

/** The class name a `RebuildProxy` names (only ever a name). */
class ProxyClassName {
  constructor(readonly name: string) {}
}

class Shell {
  constructor(readonly cls: string) {}
}

const token: GlobalEntry = {
  newobj: (args, ctx) => {
    if (args.length !== 0) ctx.fail("Token.__new__ takes no arguments");
    return new Shell("Token");
  },
  build: (_obj, state, ctx) => {
    if (!Array.isArray(state) || state.length !== 3) {
      ctx.fail("the state must be (typeid, address, id)");
    }
    const [typeid, address, id] = state as unknown[];
    if (typeof typeid !== "string" || typeof id !== "string") {
      ctx.fail("typeid and id must be str");
    }
    if (
      !(typeof address === "string" || address instanceof Uint8Array ||
        (Array.isArray(address) && address.length === 2 &&
          typeof address[0] === "string" && typeof address[1] === "number"))
    ) {
      ctx.fail("the address must be (host, port) or a path");
    }
    return new PyToken(typeid as string, address, id as string);
  },
};

const rebuildProxy: GlobalEntry = {
  reduce: (args, ctx) => {
    const [func, tok, serializer, kwds] = args;
    if (args.length !== 4 || !(func instanceof ProxyClassName)) {
      ctx.fail("expects (ProxyClass, Token, serializer, kwds)");
    }
    if (!(tok instanceof PyToken)) ctx.fail("the token must be a Token");
    if (serializer !== "pickle") ctx.fail("only the 'pickle' serializer");
    let exposed: readonly string[] | undefined;
    if (kwds !== undefined && kwds !== null) {
      if (!(kwds instanceof Map)) ctx.fail("kwds must be a dict");
      for (const [k, v] of kwds as Map<unknown, unknown>) {
        if (k === "exposed") {
          if (!Array.isArray(v) || v.some((m) => typeof m !== "string")) {
            ctx.fail("exposed must be a tuple of str");
          }
          exposed = [...(v as string[])];
        } else if (k !== "incref" && k !== "manager_owned") {
          ctx.fail(`the keyword ${JSON.stringify(String(k))} is not read`);
        }
      }
    }
    return new PyProxyRef(
      (func as ProxyClassName).name,
      tok as PyToken,
      exposed,
    );
  },
};

const slice: GlobalEntry = {
  reduce: (args, ctx) => {
    if (args.length < 1 || args.length > 3) {
      ctx.fail("expects 1 to 3 arguments");
    }
    for (const a of args) {
      if (
        a !== null && typeof a !== "number" && typeof a !== "bigint"
      ) ctx.fail("bounds must be int or None");
    }
    const [a, b, c] = args;
    return args.length === 1
      ? new PySlice(null, a, null)
      : new PySlice(a, b ?? null, c ?? null);
  },
};

function exception(qualname: string): GlobalEntry {
  return {
    reduce: (args) => new PyException(qualname, [...args]),
    build: (obj, state) =>
      new PyException(qualname, [...(obj as PyException).args], state),
  };
}

function managerObject(cls: "Value" | "Namespace"): GlobalEntry {
  return {
    newobj: (args, ctx) => {
      if (args.length !== 0) ctx.fail("takes no arguments");
      return new Shell(cls);
    },
    build: (_obj, state, ctx) => {
      if (!(state instanceof Map)) ctx.fail("the state must be a dict");
      return new PyObject(cls, state as Map<string, unknown>);
    },
  };
}

function arrayOf(args: readonly unknown[], ctx: ReduceContext): PyArray {
  const [code, bytes] = args;
  if (
    args.length !== 2 || typeof code !== "string" ||
    !(bytes instanceof Uint8Array)
  ) ctx.fail("expects (typecode, bytes)");
  return new PyArray(code, bytes.slice());
}

const BUILTIN_EXCEPTIONS = [
  "ArithmeticError",
  "AssertionError",
  "AttributeError",
  "BufferError",
  "EOFError",
  "Exception",
  "FileExistsError",
  "FileNotFoundError",
  "IndexError",
  "KeyError",
  "LookupError",
  "MemoryError",
  "NameError",
  "NotImplementedError",
  "OSError",
  "OverflowError",
  "PermissionError",
  "RecursionError",
  "RuntimeError",
  "StopIteration",
  "TimeoutError",
  "TypeError",
  "UnicodeDecodeError",
  "UnicodeEncodeError",
  "ValueError",
  "ZeroDivisionError",
];

const proxyClasses: [string, GlobalEntry][] = [...PROXY_CLASSES].map((
  n,
) => [`multiprocessing.managers.${n}`, { value: new ProxyClassName(n) }]);

/** What both sides read: plain values, tokens and proxies. */
const PROXY_GLOBALS: [string, GlobalEntry][] = [
  ...PLAIN_GLOBALS,
  ["multiprocessing.managers.Token", token],
  ["multiprocessing.managers.RebuildProxy", rebuildProxy],
  ...proxyClasses,
];

/** What a Deno server reads from CPython clients. */
const SERVER_PROFILE: ReaderProfile = {
  globals: new Map<string, GlobalEntry>([
    ...PROXY_GLOBALS,
    ["builtins.slice", slice],
  ]),
};

/** An exception of a class outside the table: inert data naming it. */
function opaque(module: string, name: string): GlobalEntry {
  return exception(`${module}.${name}`);
}

/** What a Deno client reads from CPython servers. */
const CLIENT_PROFILE: ReaderProfile = {
  globals: new Map<string, GlobalEntry>([
    ...PROXY_GLOBALS,
    ["multiprocessing.managers.Value", managerObject("Value")],
    ["multiprocessing.managers.Namespace", managerObject("Namespace")],
    ["builtins.list", {
      reduce: (args, ctx) => {
        if (args.length !== 1 || !Array.isArray(args[0])) {
          ctx.fail("expects one list");
        }
        return [...(args[0] as unknown[])];
      },
    }],
    ["array.array", { reduce: arrayOf }],
    ...BUILTIN_EXCEPTIONS.map((
      n,
    ): [string, GlobalEntry] => [`builtins.${n}`, exception(`builtins.${n}`)]),
    ["_queue.Empty", exception("_queue.Empty")],
    ["queue.Full", exception("queue.Full")],
    ["queue.ShutDown", exception("queue.ShutDown")],
    ["threading.BrokenBarrierError", exception("threading.BrokenBarrierError")],
    [
      "multiprocessing.context.TimeoutError",
      exception("multiprocessing.context.TimeoutError"),
    ],
  ]),
  // A server-side exception of another class (`__main__.MyError`) arrives
  // as inert data naming it; nothing is looked up.
  unknownGlobal: opaque,
};

// ---- writing --------------------------------------------------------------

/** Values of ./_values.ts that this side made itself (the only ones written). */
const minted = new WeakSet<object>();

/** Marks a value of ours as writable; returns it. */
export function mint<T extends object>(v: T): T {
  minted.add(v);
  return v;
}

const MM = "multiprocessing.managers";

/** The globals a side may write, built from our own values only. */
function writerValue(
  v: unknown,
  advertised: unknown,
): PyGlobalCall | undefined {
  if (v instanceof OwnRef) {
    const cls = PROXY_CLASS_OF[v.typeid] ?? "AutoProxy";
    return proxyCall(
      new PyProxyRef(
        cls,
        v.token(advertised),
        cls === "AutoProxy" ? v.exposed : undefined,
      ),
    );
  }
  if (
    v instanceof PyToken || v instanceof PyProxyRef || v instanceof PySlice ||
    v instanceof PyException || v instanceof PyArray || v instanceof PyObject
  ) {
    if (!minted.has(v)) {
      throw new TypeError(
        "Cannot write a value received from a peer as a Python object: it is data, never a class",
      );
    }
  }
  if (v instanceof PyToken) return tokenCall(v);
  if (v instanceof PyProxyRef) return proxyCall(v);
  if (v instanceof PySlice) {
    return new PyGlobalCall("builtins", "slice", [v.start, v.stop, v.step]);
  }
  if (v instanceof PyException) {
    const dot = v.type.lastIndexOf(".");
    return new PyGlobalCall(
      v.type.slice(0, dot),
      v.type.slice(dot + 1),
      [...v.args],
    );
  }
  if (v instanceof PyArray) {
    return new PyGlobalCall("array", "array", [v.typecode, v.bytes]);
  }
  if (v instanceof PyObject) {
    return new PyGlobalCall(MM, v.cls, [], { newobj: true, state: v.state });
  }
  return undefined;
}

function tokenCall(t: PyToken): PyGlobalCall {
  return new PyGlobalCall(MM, "Token", [], {
    newobj: true,
    state: tup(t.typeid, t.address, t.id),
  });
}

function proxyCall(ref: PyProxyRef): PyGlobalCall {
  if (!PROXY_CLASSES.has(ref.proxytype)) {
    throw new TypeError(`Cannot write the proxy class ${ref.proxytype}`);
  }
  return new PyGlobalCall(MM, "RebuildProxy", [
    new PyGlobal(MM, ref.proxytype),
    tokenCall(ref.token),
    "pickle",
    ref.exposed ? new Map([["exposed", tup(...ref.exposed)]]) : new Map(),
  ]);
}

/** What a Deno server writes: replies, CPython's exception classes, its proxies. */
const SERVER_WRITES = new Set([
  `${MM}.Token`,
  `${MM}.RebuildProxy`,
  ...[...PROXY_CLASSES].map((n) => `${MM}.${n}`),
  `${MM}.Value`,
  `${MM}.Namespace`,
  "array.array",
  "_queue.Empty",
  "queue.Full",
  "queue.ShutDown",
  "threading.BrokenBarrierError",
  ...BUILTIN_EXCEPTIONS.map((n) => `builtins.${n}`),
]);

/** What a Deno client writes: requests, tokens, its proxies, slices. */
const CLIENT_WRITES = new Set([
  `${MM}.Token`,
  `${MM}.RebuildProxy`,
  ...[...PROXY_CLASSES].map((n) => `${MM}.${n}`),
  "builtins.slice",
]);

function writerProfile(
  globals: ReadonlySet<string>,
  advertised: unknown,
): WriterProfile {
  return {
    globals,
    reduce: (v) => writerValue(v, advertised) as PyGlobalCall | undefined,
  };
}

const CLIENT_WRITER = writerProfile(CLIENT_WRITES, undefined);

/** Reads one request from a CPython client (server profile). */
export function loadsMessage(bytes: Uint8Array): unknown {
  return unpickle(bytes, { profile: SERVER_PROFILE });
}

/** The reply writer of a server whose tokens carry `advertised` as address. */
export function serverDumps(
  advertised: unknown,
): (value: unknown) => Uint8Array {
  const profile = writerProfile(SERVER_WRITES, advertised);
  return (value) => pickle(value, { protocol: 4, profile });
}

/** What the client's method tables need from the codec. */
export interface ClientCodecHooks {
  /** Items of an `array.array`. */
  decodeArray: (v: unknown) => unknown[];
  /** Attributes of a `Namespace` `#GETVALUE`. */
  decodeNamespace: (v: unknown) => Record<string, unknown>;
  /** A `builtins.slice`. */
  slice: (start: unknown, stop: unknown) => unknown;
}

/** The client side: reads replies of CPython servers, writes requests. */
export const clientCodec: {
  loads(bytes: Uint8Array): unknown;
  dumps(value: unknown): Uint8Array;
  mint<T extends object>(v: T): T;
  hooks: ClientCodecHooks;
} = {
  loads: (bytes) => unpickle(bytes, { profile: CLIENT_PROFILE }),
  dumps: (value) => pickle(value, { protocol: 4, profile: CLIENT_WRITER }),
  mint,
  hooks: {
    decodeArray: (v) => {
      if (!(v instanceof PyArray)) return Array.isArray(v) ? v : [];
      return decodeArray(v);
    },
    decodeNamespace: (v) => {
      const out: Record<string, unknown> = {};
      if (v instanceof PyObject) {
        for (const [k, x] of v.state) {
          Object.defineProperty(out, k, {
            value: x,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
      }
      return out;
    },
    slice: (start, stop) => mint(new PySlice(start, stop, null)),
  },
};

const ARRAY_VIEWS: Record<
  string,
  [number, (dv: DataView, o: number) => number | bigint]
> = {
  b: [1, (d, o) => d.getInt8(o)],
  B: [1, (d, o) => d.getUint8(o)],
  h: [2, (d, o) => d.getInt16(o, true)],
  H: [2, (d, o) => d.getUint16(o, true)],
  i: [4, (d, o) => d.getInt32(o, true)],
  I: [4, (d, o) => d.getUint32(o, true)],
  l: [8, (d, o) => d.getBigInt64(o, true)],
  L: [8, (d, o) => d.getBigUint64(o, true)],
  q: [8, (d, o) => d.getBigInt64(o, true)],
  Q: [8, (d, o) => d.getBigUint64(o, true)],
  f: [4, (d, o) => d.getFloat32(o, true)],
  d: [8, (d, o) => d.getFloat64(o, true)],
};

/** The items of an `array.array` written by a little-endian 64-bit CPython. */
function decodeArray(a: PyArray): (number | bigint)[] {
  const spec = ARRAY_VIEWS[a.typecode];
  if (!spec) {
    throw new TypeError(`Cannot read an array of typecode '${a.typecode}'`);
  }
  const [size, get] = spec;
  const dv = new DataView(a.bytes.buffer, a.bytes.byteOffset, a.bytes.length);
  const out: (number | bigint)[] = [];
  for (let o = 0; o + size <= a.bytes.length; o += size) out.push(get(dv, o));
  return out;
}
