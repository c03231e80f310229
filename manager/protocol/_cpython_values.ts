// The Python objects of CPython's manager protocol, as inert TypeScript data
// (pickle-wire.md §2–§3). The reader builds them from a closed table of
// globals; the writer emits globals only for these classes, built from our
// own state, never from names a peer sent.

/** `multiprocessing.managers.Token(typeid, address, id)`. */
export class PyToken {
  /** The registry key (`'Queue'`, `'Iterator'`, `'get_queue'`). */
  readonly typeid: string;
  /** `(host, port)` for TCP, a path for AF_UNIX. */
  readonly address: unknown;
  /** The server-side id (a lowercase hex string). */
  readonly id: string;
  /** Creates a token. */
  constructor(typeid: string, address: unknown, id: string) {
    this.typeid = typeid;
    this.address = address;
    this.id = id;
  }
}

/** A proxy pickled inside a value: `RebuildProxy(func, token, serializer, kwds)`. */
export class PyProxyRef {
  /** The proxy class named by the peer (a name, never resolved). */
  readonly proxytype: string;
  /** The referent's token. */
  readonly token: PyToken;
  /** `kwds['exposed']` of AutoProxy-based proxies. */
  readonly exposed: readonly string[] | undefined;
  /** Creates a proxy reference. */
  constructor(
    proxytype: string,
    token: PyToken,
    exposed: readonly string[] | undefined,
  ) {
    this.proxytype = proxytype;
    this.token = token;
    this.exposed = exposed;
  }
}

/** `builtins.slice(start, stop, step)` (list and array subscripts). */
export class PySlice {
  /** Start bound (`null`: none). */
  readonly start: unknown;
  /** Stop bound (`null`: none). */
  readonly stop: unknown;
  /** Step (`null`: 1). */
  readonly step: unknown;
  /** Creates a slice. */
  constructor(start: unknown, stop: unknown, step: unknown) {
    this.start = start;
    this.stop = stop;
    this.step = step;
  }

  /**
   * The indices this slice selects in a sequence of `n` items (Python's
   * `slice.indices`), in order.
   *
   * @throws {PyException} ValueError for a zero step, TypeError for bad bounds.
   */
  indices(n: number): number[] {
    const int = (v: unknown, what: string): number | undefined => {
      if (v === null || v === undefined) return undefined;
      if (typeof v === "bigint") return Number(v);
      if (typeof v !== "number" || !Number.isInteger(v)) {
        throw new PyException("builtins.TypeError", [
          `slice ${what} must be integers or None`,
        ]);
      }
      return v;
    };
    const step = int(this.step, "indices") ?? 1;
    if (step === 0) {
      throw new PyException("builtins.ValueError", [
        "slice step cannot be zero",
      ]);
    }
    const clamp = (v: number | undefined, dflt: number): number => {
      if (v === undefined) return dflt;
      if (v < 0) v += n;
      if (step > 0) return Math.min(Math.max(v, 0), n);
      return Math.min(Math.max(v, -1), n - 1);
    };
    const start = clamp(int(this.start, "indices"), step > 0 ? 0 : n - 1);
    const stop = clamp(int(this.stop, "indices"), step > 0 ? n : -1);
    const out: number[] = [];
    if (step > 0) { for (let i = start; i < stop; i += step) out.push(i); }
    else for (let i = start; i > stop; i += step) out.push(i);
    return out;
  }
}

/**
 * A Python exception instance: `type` is `module.name` (`'_queue.Empty'`,
 * `'builtins.KeyError'`), `args` its arguments, `state` its `__dict__`.
 * Thrown by the server-side adapters (written as `#ERROR`), and read by the
 * client from `#ERROR` replies (then only data: never raised as a class).
 */
export class PyException extends Error {
  /** `module.name` of the Python class. */
  readonly type: string;
  /** The exception's args. */
  readonly args: readonly unknown[];
  /** Its `__dict__` when it had attributes (`BUILD` state). */
  readonly state: unknown;
  /** Creates an exception value. */
  constructor(type: string, args: readonly unknown[] = [], state?: unknown) {
    super(
      `${type.replace(/^builtins\./, "")}${
        args.length ? `: ${args.map((a) => String(a)).join(", ")}` : ""
      }`,
    );
    this.name = "PyException";
    this.type = type;
    this.args = args;
    this.state = state;
  }
}

/** `array.array(typecode, bytes)` (what `#GETVALUE` of an Array returns). */
export class PyArray {
  /** The array's typecode. */
  readonly typecode: string;
  /** Its items in the byte order of the writer's machine. */
  readonly bytes: Uint8Array;
  /** Creates an array value. */
  constructor(typecode: string, bytes: Uint8Array) {
    this.typecode = typecode;
    this.bytes = bytes;
  }
}

/**
 * An instance of `multiprocessing.managers.Value` or `.Namespace` (what
 * `#GETVALUE` of those returns): `NEWOBJ` then `BUILD` with `state`.
 */
export class PyObject {
  /** `'Value'` or `'Namespace'` (of `multiprocessing.managers`). */
  readonly cls: "Value" | "Namespace";
  /** The instance `__dict__`. */
  readonly state: Map<string, unknown>;
  /** Creates the instance value. */
  constructor(cls: "Value" | "Namespace", state: Map<string, unknown>) {
    this.cls = cls;
    this.state = state;
  }
}

/** CPython's proxy classes (`multiprocessing.managers.*`), the only ones a `RebuildProxy` may name. */
export const PROXY_CLASSES: ReadonlySet<string> = new Set([
  "AutoProxy",
  "IteratorProxy",
  "AcquirerProxy",
  "ConditionProxy",
  "EventProxy",
  "BarrierProxy",
  "NamespaceProxy",
  "ValueProxy",
  "ListProxy",
  "DictProxy",
  "ArrayProxy",
  "PoolProxy",
]);

/** The proxy class CPython's `SyncManager` registers per typeid (AutoProxy for the others). */
export const PROXY_CLASS_OF: Readonly<Record<string, string>> = {
  Event: "EventProxy",
  Lock: "AcquirerProxy",
  RLock: "AcquirerProxy",
  Semaphore: "AcquirerProxy",
  BoundedSemaphore: "AcquirerProxy",
  Condition: "ConditionProxy",
  Barrier: "BarrierProxy",
  list: "ListProxy",
  dict: "DictProxy",
  Value: "ValueProxy",
  Array: "ArrayProxy",
  Namespace: "NamespaceProxy",
  Iterator: "IteratorProxy",
};

/** `public_methods(queue.Queue())` of CPython 3.11/3.12 (3.13 adds `shutdown`). */
export const QUEUE_EXPOSED: readonly string[] = [
  "empty",
  "full",
  "get",
  "get_nowait",
  "join",
  "put",
  "put_nowait",
  "qsize",
  "task_done",
];

/** The `exposed` tuples of CPython's SyncManager proxies, by typeid (3.11–3.13). */
export const CPYTHON_EXPOSED: Readonly<Record<string, readonly string[]>> = {
  Queue: QUEUE_EXPOSED,
  Event: ["is_set", "set", "clear", "wait"],
  Lock: ["acquire", "release"],
  Condition: ["acquire", "release", "wait", "notify", "notify_all"],
  Barrier: ["__getattribute__", "wait", "abort", "reset"],
  Value: ["get", "set"],
  Array: ["__len__", "__getitem__", "__setitem__"],
  Namespace: ["__getattribute__", "__setattr__", "__delattr__"],
  Iterator: ["__next__", "send", "throw", "close"],
};

/** A Python `str`, or a TypeError naming what it had to be. */
export function pyStr(v: unknown, what: string): string {
  if (typeof v !== "string") {
    throw new PyException("builtins.TypeError", [
      `${what} must be str, not ${pyTypeName(v)}`,
    ]);
  }
  return v;
}

/** The Python type name of a decoded value (for error messages). */
export function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return "NoneType";
  switch (typeof v) {
    case "boolean":
      return "bool";
    case "number":
      return Number.isInteger(v) ? "int" : "float";
    case "bigint":
      return "int";
    case "string":
      return "str";
  }
  if (Array.isArray(v)) return Object.isFrozen(v) ? "tuple" : "list";
  if (v instanceof Map) return "dict";
  if (v instanceof Set) return "set";
  if (v instanceof Uint8Array) return "bytes";
  if (v instanceof PyProxyRef) return v.proxytype;
  if (v instanceof PyToken) return "Token";
  if (v instanceof PySlice) return "slice";
  return "object";
}
