// CPython's methods on our referents: for every built-in referent class, the
// names and `exposed` list a CPython proxy expects (3.13's), its `(args,
// kwds)` parameters and defaults, seconds → ms, CPython's return values and
// exception classes, and the `#GETVALUE` / `__repr__` fallbacks. Chosen by
// the referent's class, so a custom typeid returning a `SharedQueue` (the
// docs' `register('get_queue', …)`) behaves as a Python queue too.

import { BrokenBarrierError, Empty, Full } from "../../errors.ts";
import { checkTypecode, viewOf } from "../../sharedmem/_typecodes.ts";
import { currentCaller } from "../types/_caller.ts";
import { SharedArray } from "../types/array.ts";
import { SharedBarrier } from "../types/barrier.ts";
import { SharedCondition } from "../types/condition.ts";
import { SharedDict } from "../types/dict.ts";
import { SharedEvent } from "../types/event.ts";
import { SharedList } from "../types/list.ts";
import { SharedLock } from "../types/lock.ts";
import { SharedNamespace } from "../types/namespace.ts";
import { SharedQueue } from "../types/queue.ts";
import { SharedRLock } from "../types/rlock.ts";
import { SharedBoundedSemaphore, SharedSemaphore } from "../types/semaphore.ts";
import { SharedValue } from "../types/value.ts";
import {
  bind,
  type Kwds,
  noKwds,
  pyInt,
  runtimeError,
  seconds,
  truthy,
  typeError,
  valueError,
} from "./_cpython_args.ts";
import { isTup, mint, tup } from "../protocol/_cpython_codec.ts";
import {
  CPYTHON_EXPOSED,
  PyArray,
  PyException,
  PyObject,
  PySlice,
  pyStr,
  QUEUE_EXPOSED,
} from "../protocol/_cpython_values.ts";

/** One method as CPython calls it. */
export type PyMethod = (
  obj: never,
  args: readonly unknown[],
  kwds: Kwds,
) => unknown;

/** The CPython face of one referent class. */
export interface PyType {
  /** The `exposed` tuple sent in `create` replies, in CPython's order. */
  readonly exposed: readonly string[];
  /** The methods, by Python name. */
  readonly methods: Readonly<Record<string, PyMethod>>;
  /** Methods whose result is shared as a new object of this typeid (`#PROXY`). */
  readonly proxies?: Readonly<Record<string, string>>;
  /** What `_getvalue()` returns (absent: the referent cannot be pickled). */
  readonly getvalue?: (obj: never) => unknown;
  /** `repr(obj)`. */
  readonly repr?: (obj: never) => string;
}

/** Maps a referent's failure to CPython's exception, keeping PyExceptions. */
export function toPyException(e: unknown): PyException {
  return mint(pyException(e));
}

function pyException(e: unknown): PyException {
  if (e instanceof PyException) return e;
  if (e instanceof Empty) return new PyException("_queue.Empty");
  if (e instanceof Full) return new PyException("queue.Full");
  if (e instanceof BrokenBarrierError) {
    return new PyException("threading.BrokenBarrierError");
  }
  const err = e instanceof Error ? e : new Error(String(e));
  switch (err.name) {
    case "ShutDown":
      return new PyException("queue.ShutDown");
    case "KeyError":
    case "IndexError":
    case "ValueError":
    case "AttributeError":
    case "TypeError":
    case "StopIteration":
    case "ZeroDivisionError":
    case "NotImplementedError":
      return new PyException(`builtins.${err.name}`, [err.message]);
    case "RangeError":
      return new PyException("builtins.ValueError", [err.message]);
    case "Error":
      return new PyException("builtins.RuntimeError", [err.message]);
  }
  return new PyException("builtins.Exception", [
    `${err.name}: ${err.message}`,
  ]);
}

/** Runs `fn`, turning a plain `Error` (sync or async) into a RuntimeError with `message`. */
function asRuntime(message: string, fn: () => unknown): unknown {
  const convert = (e: unknown): never => {
    if (e instanceof Error && e.name === "Error") throw runtimeError(message);
    throw e;
  };
  let r: unknown;
  try {
    r = fn();
  } catch (e) {
    convert(e);
  }
  return r instanceof Promise ? r.catch(convert) : r;
}

// ---- Queue / JoinableQueue (queue.Queue) -------------------------------

function queueTimeout(block: unknown, timeout: unknown): number | undefined {
  const ms = seconds(timeout);
  if (truthy(block) && ms !== undefined && ms < 0) {
    throw valueError("'timeout' must be a non-negative number");
  }
  return ms;
}

const QUEUE: PyType = {
  // 3.13's list (with `shutdown`); 3.11/3.12 clients just get one more method.
  exposed: [
    ...QUEUE_EXPOSED.slice(0, 8),
    "shutdown",
    ...QUEUE_EXPOSED.slice(8),
  ],
  methods: {
    empty: (q: SharedQueue, a, k) => (bind("empty", a, k, []), q.empty()),
    full: (q: SharedQueue, a, k) => (bind("full", a, k, []), q.full()),
    qsize: (q: SharedQueue, a, k) => (bind("qsize", a, k, []), q.qsize()),
    get: (q: SharedQueue, a, k) => {
      const [block, timeout] = bind("get", a, k, [
        ["block", true],
        ["timeout", null],
      ]);
      const ms = queueTimeout(block, timeout);
      return q.get({
        block: truthy(block),
        ...(ms !== undefined ? { timeout: Math.max(0, ms) } : {}),
      });
    },
    get_nowait: (
      q: SharedQueue,
      a,
      k,
    ) => (bind("get_nowait", a, k, []), q.getNowait()),
    put: (q: SharedQueue, a, k) => {
      const [item, block, timeout] = bind("put", a, k, [
        ["item"],
        ["block", true],
        ["timeout", null],
      ]);
      const ms = queueTimeout(block, timeout);
      return q.put(item, {
        block: truthy(block),
        ...(ms !== undefined ? { timeout: Math.max(0, ms) } : {}),
      });
    },
    put_nowait: (q: SharedQueue, a, k) => {
      const [item] = bind("put_nowait", a, k, [["item"]]);
      return q.putNowait(item);
    },
    task_done: (q: SharedQueue, a, k) => {
      bind("task_done", a, k, []);
      try {
        return q.taskDone();
      } catch {
        throw valueError("task_done() called too many times");
      }
    },
    join: (q: SharedQueue, a, k) => (bind("join", a, k, []), q.join()),
    shutdown: (q: SharedQueue, a, k) => {
      const [immediate] = bind("shutdown", a, k, [["immediate", false]]);
      return q.shutdown(truthy(immediate));
    },
  },
  repr: () => "<queue.Queue object>",
};

// ---- Event --------------------------------------------------------------

const EVENT: PyType = {
  exposed: CPYTHON_EXPOSED.Event,
  methods: {
    is_set: (e: SharedEvent, a, k) => (bind("is_set", a, k, []), e.isSet()),
    set: (e: SharedEvent, a, k) => (bind("set", a, k, []), e.set()),
    clear: (e: SharedEvent, a, k) => (bind("clear", a, k, []), e.clear()),
    wait: (e: SharedEvent, a, k) => {
      const [timeout] = bind("wait", a, k, [["timeout", null]]);
      const ms = seconds(timeout);
      return e.wait(ms === undefined ? undefined : Math.max(0, ms));
    },
  },
  repr: (e: SharedEvent) => `<threading.Event: ${e.isSet() ? "set" : "unset"}>`,
};

// ---- Lock / RLock (threading.Lock.acquire(blocking=True, timeout=-1)) ----

function lockAcquireOptions(
  a: readonly unknown[],
  k: Kwds,
): { block: boolean; timeout?: number } {
  const [blocking, timeout] = bind("acquire", a, k, [
    ["blocking", true],
    ["timeout", -1],
  ]);
  const block = truthy(blocking);
  const s = timeout === null ? -1 : timeout;
  const ms = seconds(s);
  if (!block && s !== -1) {
    throw valueError("can't specify a timeout for a non-blocking call");
  }
  if (ms !== undefined && ms < 0 && s !== -1) {
    throw valueError("timeout value must be a non-negative number");
  }
  return s === -1 || ms === undefined ? { block } : { block, timeout: ms };
}

const LOCK: PyType = {
  exposed: CPYTHON_EXPOSED.Lock,
  methods: {
    acquire: (l: SharedLock, a, k) => l.acquire(lockAcquireOptions(a, k)),
    release: (l: SharedLock, a, k) => {
      bind("release", a, k, []);
      if (!l.locked()) throw runtimeError("release unlocked lock");
      return l.release();
    },
  },
  repr: (l: SharedLock) =>
    `<unlocked _thread.lock object>`.replace(
      "unlocked",
      l.locked() ? "locked" : "unlocked",
    ),
};

const RLOCK: PyType = {
  exposed: CPYTHON_EXPOSED.Lock,
  methods: {
    acquire: (l: SharedRLock, a, k) => l.acquire(lockAcquireOptions(a, k)),
    release: (l: SharedRLock, a, k) => {
      bind("release", a, k, []);
      if (!l.isOwnedBy(currentCaller())) {
        throw runtimeError("cannot release un-acquired lock");
      }
      return l.release();
    },
  },
  repr: () => "<_thread.RLock object>",
};

// ---- Semaphore / BoundedSemaphore ---------------------------------------

const SEMAPHORE: PyType = {
  exposed: CPYTHON_EXPOSED.Lock,
  methods: {
    acquire: (s: SharedSemaphore, a, k) => {
      const [blocking, timeout] = bind("acquire", a, k, [
        ["blocking", true],
        ["timeout", null],
      ]);
      const block = truthy(blocking);
      if (!block && timeout !== null) {
        throw valueError("can't specify timeout for non-blocking acquire");
      }
      const ms = seconds(timeout);
      return s.acquire(
        ms === undefined ? { block } : { block, timeout: Math.max(0, ms) },
      );
    },
    release: (s: SharedSemaphore, a, k) => {
      const [n] = bind("release", a, k, [["n", 1]]);
      const count = pyInt(n, "n");
      if (count < 1) throw valueError("n must be one or more");
      try {
        return s.release(count);
      } catch (e) {
        if (e instanceof RangeError && s instanceof SharedBoundedSemaphore) {
          throw valueError("Semaphore released too many times");
        }
        throw e;
      }
    },
  },
  repr: (s: SharedSemaphore) =>
    `<threading.Semaphore at 0: value=${s.getValue()}>`,
};

// ---- Condition ----------------------------------------------------------

const CONDITION: PyType = {
  exposed: CPYTHON_EXPOSED.Condition,
  methods: {
    acquire: (c: SharedCondition, a, k) => {
      const [blocking, timeout] = bind("acquire", a, k, [
        ["blocking", true],
        ["timeout", -1],
      ]);
      return c.acquire(lockAcquireOptions([blocking, timeout], new Map()));
    },
    release: (
      c: SharedCondition,
      a,
      k,
    ) => (bind("release", a, k, []),
      asRuntime("cannot release un-acquired lock", () => c.release())),
    wait: (c: SharedCondition, a, k) => {
      const [timeout] = bind("wait", a, k, [["timeout", null]]);
      const ms = seconds(timeout);
      return asRuntime(
        "cannot wait on un-acquired lock",
        () => c.wait(ms === undefined ? undefined : Math.max(0, ms)),
      );
    },
    notify: (c: SharedCondition, a, k) => {
      const [n] = bind("notify", a, k, [["n", 1]]);
      const count = pyInt(n, "n");
      return asRuntime(
        "cannot notify on un-acquired lock",
        () => c.notify(Math.max(0, count)),
      );
    },
    notify_all: (
      c: SharedCondition,
      a,
      k,
    ) => (bind("notify_all", a, k, []),
      asRuntime("cannot notify on un-acquired lock", () => c.notifyAll())),
  },
  repr: () => "<Condition>",
};

// ---- Barrier ------------------------------------------------------------

const BARRIER: PyType = {
  exposed: CPYTHON_EXPOSED.Barrier,
  methods: {
    __getattribute__: (b: SharedBarrier, a, k) => {
      const [name] = bind("__getattribute__", a, k, [["name"]]);
      switch (pyStr(name, "attribute name")) {
        case "parties":
          return b.parties();
        case "n_waiting":
          return b.nWaiting();
        case "broken":
          return b.broken();
      }
      throw new PyException("builtins.AttributeError", [
        `'Barrier' object has no attribute '${String(name)}'`,
      ]);
    },
    wait: (b: SharedBarrier, a, k) => {
      const [timeout] = bind("wait", a, k, [["timeout", null]]);
      const ms = seconds(timeout);
      return b.wait(ms === undefined ? undefined : Math.max(0, ms));
    },
    abort: (b: SharedBarrier, a, k) => (bind("abort", a, k, []), b.abort()),
    reset: (b: SharedBarrier, a, k) => (bind("reset", a, k, []), b.reset()),
  },
  repr: (b: SharedBarrier) =>
    `<threading.Barrier: waiters=${b.nWaiting()}/${b.parties()}>`,
};

// ---- Value --------------------------------------------------------------

const VALUE: PyType = {
  exposed: CPYTHON_EXPOSED.Value,
  methods: {
    get: (v: SharedValue, a, k) => (bind("get", a, k, []), v.get()),
    set: (v: SharedValue, a, k) => {
      const [value] = bind("set", a, k, [["value"]]);
      return v.set(value);
    },
  },
  getvalue: (v: SharedValue) =>
    mintObject(
      "Value",
      new Map<string, unknown>([["_typecode", v.typecode()], [
        "_value",
        v.get(),
      ]]),
    ),
  repr: (v: SharedValue) => `Value('${v.typecode()}', ${pyRepr(v.get())})`,
};

// ---- Array (array.array) ------------------------------------------------

/** The items of a typed array as `array.array` bytes (this machine's byte order). */
export function packArray(typecode: string, items: unknown[]): PyArray {
  const code = checkTypecode(typecode);
  const view = viewOf(code, items.length);
  for (let i = 0; i < items.length; i++) {
    (view as unknown as unknown[])[i] = view instanceof BigInt64Array ||
        view instanceof BigUint64Array
      ? BigInt(items[i] as number)
      : items[i];
  }
  return mint(
    new PyArray(
      code,
      new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice(),
    ),
  );
}

/**
 * Python's index into a sequence of `n` items (negative counts from the end),
 * or CPython's TypeError / IndexError naming `what` ("array", "list").
 */
function seqIndex(n: number, i: unknown, what: "array" | "list"): number {
  const k = pyInt(i, `${what} indices`);
  const j = k < 0 ? k + n : k;
  if (j < 0 || j >= n) {
    throw new PyException("builtins.IndexError", [
      `${what} index out of range`,
    ]);
  }
  return j;
}

function arrayIndex(a: SharedArray, i: unknown): number {
  return seqIndex(a.length(), i, "array");
}

const ARRAY: PyType = {
  exposed: CPYTHON_EXPOSED.Array,
  methods: {
    __len__: (x: SharedArray, a, k) => (bind("__len__", a, k, []), x.length()),
    __getitem__: (x: SharedArray, a, k) => {
      const [i] = bind("__getitem__", a, k, [["index"]]);
      if (i instanceof PySlice) {
        const items = x.toArray();
        return packArray(
          x.typecode(),
          i.indices(items.length).map((j) => items[j]),
        );
      }
      return x.get(arrayIndex(x, i));
    },
    __setitem__: (x: SharedArray, a, k) => {
      const [i, v] = bind("__setitem__", a, k, [["index"], ["value"]]);
      if (i instanceof PySlice) {
        const idx = i.indices(x.length());
        const vals = sequence(v, "can only assign array to array slice");
        if (vals.length !== idx.length) {
          throw valueError(
            "array slice assignment cannot change the size of a managed Array",
          );
        }
        idx.forEach((j, n) => x.set(j, vals[n] as number));
        return null;
      }
      return x.set(arrayIndex(x, i), v as number);
    },
  },
  getvalue: (x: SharedArray) => packArray(x.typecode(), x.toArray()),
  repr: (x: SharedArray) =>
    `array('${x.typecode()}', [${x.toArray().join(", ")}])`,
};

/** The items of a Python sequence argument (list, tuple, set…), or a TypeError. */
function sequence(v: unknown, message: string): unknown[] {
  if (Array.isArray(v)) return v;
  if (v instanceof Set) return [...v];
  if (v instanceof Map) return [...v.keys()];
  if (typeof v === "string") return [...v];
  throw typeError(message);
}

// ---- list ---------------------------------------------------------------

function listIndex(l: SharedList, i: unknown): number {
  return seqIndex(l.length(), i, "list");
}

function repeat(items: unknown[], n: unknown): unknown[] {
  const times = pyInt(n, "can't multiply sequence by non-int");
  const out: unknown[] = [];
  for (let i = 0; i < times; i++) out.push(...items);
  return out;
}

const LIST: PyType = {
  exposed: [
    "__add__",
    "__contains__",
    "__delitem__",
    "__getitem__",
    "__len__",
    "__mul__",
    "__reversed__",
    "__rmul__",
    "__setitem__",
    "append",
    "count",
    "extend",
    "index",
    "insert",
    "pop",
    "remove",
    "reverse",
    "sort",
    "__imul__",
  ],
  methods: {
    __add__: (l: SharedList, a, k) => {
      const [other] = bind("__add__", a, k, [["value"]]);
      if (!Array.isArray(other) || isTup(other)) {
        throw typeError('can only concatenate list (not "tuple") to list');
      }
      return [...l.toArray(), ...other];
    },
    __contains__: (l: SharedList, a, k) => {
      const [v] = bind("__contains__", a, k, [["key"]]);
      return l.count(v) > 0;
    },
    __delitem__: (l: SharedList, a, k) => {
      const [i] = bind("__delitem__", a, k, [["key"]]);
      if (i instanceof PySlice) {
        const idx = i.indices(l.length()).sort((x, y) => y - x);
        for (const j of idx) l.pop(j);
        return null;
      }
      l.pop(listIndex(l, i));
      return null;
    },
    __getitem__: (l: SharedList, a, k) => {
      const [i] = bind("__getitem__", a, k, [["index"]]);
      if (i instanceof PySlice) {
        const items = l.toArray();
        return i.indices(items.length).map((j) => items[j]);
      }
      return l.get(listIndex(l, i));
    },
    __len__: (l: SharedList, a, k) => (bind("__len__", a, k, []), l.length()),
    __mul__: (l: SharedList, a, k) => {
      const [n] = bind("__mul__", a, k, [["value"]]);
      return repeat(l.toArray(), n);
    },
    __rmul__: (l: SharedList, a, k) => {
      const [n] = bind("__rmul__", a, k, [["value"]]);
      return repeat(l.toArray(), n);
    },
    __imul__: (l: SharedList, a, k) => {
      const [n] = bind("__imul__", a, k, [["value"]]);
      const items = l.toArray();
      const times = pyInt(n, "can't multiply sequence by non-int");
      if (times <= 0) {
        for (let i = items.length - 1; i >= 0; i--) l.pop(i);
      } else {
        for (let i = 1; i < times; i++) l.extend(items);
      }
      return null;
    },
    __reversed__: (
      l: SharedList,
      a,
      k,
    ) => (bind("__reversed__", a, k, []), l.toArray().reverse()),
    __setitem__: (l: SharedList, a, k) => {
      const [i, v] = bind("__setitem__", a, k, [["key"], ["value"]]);
      if (!(i instanceof PySlice)) return l.set(listIndex(l, i), v);
      const vals = sequence(v, "must assign iterable to extended slice");
      const step = i.step === null || i.step === undefined
        ? 1
        : pyInt(i.step, "slice step");
      const idx = i.indices(l.length());
      if (step !== 1) {
        if (vals.length !== idx.length) {
          throw valueError(
            `attempt to assign sequence of size ${vals.length} to extended slice of size ${idx.length}`,
          );
        }
        idx.forEach((j, n) => l.set(j, vals[n]));
        return null;
      }
      const n = l.length();
      const start = idx.length > 0
        ? idx[0]
        : new PySlice(i.start, i.start, null).indices(n)[0] ??
          clampStart(i.start, n);
      for (let j = idx.length - 1; j >= 0; j--) l.pop(idx[j]);
      vals.forEach((x, m) => l.insert(start + m, x));
      return null;
    },
    append: (l: SharedList, a, k) => {
      const [v] = bind("append", a, k, [["object"]]);
      return l.append(v);
    },
    count: (l: SharedList, a, k) => {
      const [v] = bind("count", a, k, [["value"]]);
      return l.count(v);
    },
    extend: (l: SharedList, a, k) => {
      const [v] = bind("extend", a, k, [["iterable"]]);
      return l.extend(sequence(v, `'${typeof v}' object is not iterable`));
    },
    index: (l: SharedList, a, k) => {
      const [v, start, stop] = bind("index", a, k, [
        ["value"],
        ["start", 0],
        ["stop", Number.MAX_SAFE_INTEGER],
      ]);
      try {
        return l.index(v, pyInt(start, "start"), pyInt(stop, "stop"));
      } catch (e) {
        if (e instanceof Error && e.name === "ValueError") {
          throw valueError(`${pyRepr(v)} is not in list`);
        }
        throw e;
      }
    },
    insert: (l: SharedList, a, k) => {
      const [i, v] = bind("insert", a, k, [["index"], ["object"]]);
      return l.insert(pyInt(i, "index"), v);
    },
    pop: (l: SharedList, a, k) => {
      const [i] = bind("pop", a, k, [["index", -1]]);
      if (l.length() === 0) {
        throw new PyException("builtins.IndexError", ["pop from empty list"]);
      }
      return l.pop(listIndex(l, i));
    },
    remove: (l: SharedList, a, k) => {
      const [v] = bind("remove", a, k, [["value"]]);
      try {
        return l.remove(v);
      } catch (e) {
        if (e instanceof Error && e.name === "ValueError") {
          throw valueError("list.remove(x): x not in list");
        }
        throw e;
      }
    },
    reverse: (l: SharedList, a, k) => (bind("reverse", a, k, []), l.reverse()),
    sort: (l: SharedList, a, k) => {
      if (a.length > 0) {
        throw typeError("sort() takes no positional arguments");
      }
      const [key, reverse] = bind("sort", [], k, [
        ["key", null],
        ["reverse", false],
      ]);
      if (key !== null) {
        throw typeError(
          "sort() key functions cannot cross the wire to a Deno manager",
        );
      }
      return l.sort({ reverse: truthy(reverse) });
    },
  },
  getvalue: (l: SharedList) => l.toArray(),
  repr: (l: SharedList) => pyRepr(l.toArray()),
};

function clampStart(v: unknown, n: number): number {
  if (v === null || v === undefined) return 0;
  const k = pyInt(v, "slice indices");
  return k < 0 ? Math.max(0, k + n) : Math.min(k, n);
}

// ---- dict ---------------------------------------------------------------

type DictKey = Parameters<SharedDict["get"]>[0];

function dictKey(k: unknown): DictKey {
  if (
    k === null || typeof k === "string" || typeof k === "number" ||
    typeof k === "bigint" || typeof k === "boolean"
  ) return k;
  throw typeError(
    "a managed dict of a Deno manager takes str, int, float, bool or None keys",
  );
}

/** The items of `dict(*args, **kwds)` / `d.update(*args, **kwds)`, keys checked. */
function dictPairs(
  fname: string,
  args: readonly unknown[],
  kwds: Kwds,
): [unknown, unknown][] {
  if (args.length > 1) {
    throw typeError(`${fname} expected at most 1 argument, got ${args.length}`);
  }
  const pairs: [unknown, unknown][] = [];
  const init = args[0];
  if (init instanceof Map) pairs.push(...init);
  else if (Array.isArray(init)) {
    for (const p of init) {
      if (!Array.isArray(p) || p.length !== 2) {
        throw valueError(
          "dictionary update sequence element has the wrong length; 2 is required",
        );
      }
      pairs.push([p[0], p[1]]);
    }
  } else if (init !== undefined) {
    throw typeError(`${fname}() needs a dict or a sequence of pairs`);
  }
  pairs.push(...kwds);
  for (const [x] of pairs) dictKey(x);
  return pairs;
}

function keyError(k: unknown): PyException {
  return new PyException("builtins.KeyError", [k]);
}

/** An iterator over a snapshot (the referent of typeid `Iterator`). */
export class PyIterator {
  #items: unknown[];
  #i = 0;
  /** Creates an iterator over `items`. */
  constructor(items: unknown[]) {
    this.#items = items;
  }
  /** The next item, or StopIteration. */
  next(): unknown {
    if (this.#i >= this.#items.length) {
      this.#items = [];
      throw new PyException("builtins.StopIteration");
    }
    return this.#items[this.#i++];
  }
  /** Ends the iteration. */
  close(): void {
    this.#items = [];
    this.#i = 0;
  }
}

const ITERATOR: PyType = {
  exposed: CPYTHON_EXPOSED.Iterator,
  methods: {
    __next__: (it: PyIterator, a) => {
      if (a.length > 0) throw typeError("expected 0 arguments");
      return it.next();
    },
    send: (
      it: PyIterator,
      a,
      k,
    ) => (bind("send", a, k, [["value"]]), it.next()),
    throw: (it: PyIterator) => {
      it.close();
      throw typeError(
        "throw() of a managed iterator needs an exception class, which cannot cross the wire",
      );
    },
    close: (it: PyIterator, a, k) => (bind("close", a, k, []), it.close()),
  },
  repr: () => "<iterator>",
};

const DICT: PyType = {
  exposed: [
    "__contains__",
    "__delitem__",
    "__getitem__",
    "__iter__",
    "__len__",
    "__setitem__",
    "clear",
    "copy",
    "get",
    "items",
    "keys",
    "pop",
    "popitem",
    "setdefault",
    "update",
    "values",
    "__iter__",
  ],
  proxies: { __iter__: "Iterator" },
  methods: {
    __contains__: (d: SharedDict, a, k) => {
      const [key] = bind("__contains__", a, k, [["key"]]);
      return d.has(dictKey(key));
    },
    __delitem__: (d: SharedDict, a, k) => {
      const [key] = bind("__delitem__", a, k, [["key"]]);
      if (!d.has(dictKey(key))) throw keyError(key);
      return d.delete(dictKey(key));
    },
    __getitem__: (d: SharedDict, a, k) => {
      const [key] = bind("__getitem__", a, k, [["key"]]);
      if (!d.has(dictKey(key))) throw keyError(key);
      return d.get(dictKey(key));
    },
    __iter__: (
      d: SharedDict,
      a,
      k,
    ) => (bind("__iter__", a, k, []), new PyIterator(d.keys())),
    __len__: (d: SharedDict, a, k) => (bind("__len__", a, k, []), d.size()),
    __setitem__: (d: SharedDict, a, k) => {
      const [key, v] = bind("__setitem__", a, k, [["key"], ["value"]]);
      return d.set(dictKey(key), v);
    },
    clear: (d: SharedDict, a, k) => (bind("clear", a, k, []), d.clear()),
    copy: (d: SharedDict, a, k) => (bind("copy", a, k, []), new Map(d.items())),
    get: (d: SharedDict, a, k) => {
      const [key, dflt] = bind("get", a, k, [["key"], ["default", null]]);
      return d.has(dictKey(key)) ? d.get(dictKey(key)) : dflt;
    },
    items: (
      d: SharedDict,
      a,
      k,
    ) => (bind("items", a, k, []), d.items().map(([x, y]) => tup(x, y))),
    keys: (d: SharedDict, a, k) => (bind("keys", a, k, []), d.keys()),
    values: (d: SharedDict, a, k) => (bind("values", a, k, []), d.values()),
    pop: (d: SharedDict, a, k) => {
      noKwds("pop", k);
      if (a.length < 1 || a.length > 2) {
        throw typeError(`pop expected at least 1 argument, got ${a.length}`);
      }
      const key = dictKey(a[0]);
      if (!d.has(key)) {
        if (a.length === 2) return a[1];
        throw keyError(a[0]);
      }
      return d.pop(key);
    },
    popitem: (d: SharedDict, a, k) => {
      bind("popitem", a, k, []);
      if (d.size() === 0) {
        throw new PyException("builtins.KeyError", [
          "popitem(): dictionary is empty",
        ]);
      }
      return tup(...d.popitem());
    },
    setdefault: (d: SharedDict, a, k) => {
      const [key, dflt] = bind("setdefault", a, k, [
        ["key"],
        ["default", null],
      ]);
      return d.setdefault(dictKey(key), dflt);
    },
    update: (d: SharedDict, a, k) =>
      d.update(dictPairs("update", a, k) as [unknown, unknown][]),
  },
  getvalue: (d: SharedDict) => new Map(d.items()),
  repr: (d: SharedDict) => pyRepr(new Map(d.items())),
};

// ---- Namespace ----------------------------------------------------------

const NAMESPACE: PyType = {
  exposed: CPYTHON_EXPOSED.Namespace,
  methods: {
    __getattribute__: (n: SharedNamespace, a, k) => {
      const [name] = bind("__getattribute__", a, k, [["name"]]);
      return n.get(pyStr(name, "attribute name"));
    },
    __setattr__: (n: SharedNamespace, a, k) => {
      const [name, v] = bind("__setattr__", a, k, [["name"], ["value"]]);
      return n.set(pyStr(name, "attribute name"), v);
    },
    __delattr__: (n: SharedNamespace, a, k) => {
      const [name] = bind("__delattr__", a, k, [["name"]]);
      return n.delete(pyStr(name, "attribute name"));
    },
  },
  getvalue: (n: SharedNamespace) =>
    mintObject("Namespace", new Map(Object.entries(n.toObject()))),
  repr: (n: SharedNamespace) =>
    `Namespace(${
      Object.entries(n.toObject()).map(([k, v]) => `${k}=${pyRepr(v)}`).join(
        ", ",
      )
    })`,
};

/** A short Python-like `repr` of a value (diagnostics only). */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "string") return `'${v}'`;
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (Array.isArray(v)) {
    const inner = v.map(pyRepr).join(", ");
    return isTup(v) ? `(${inner}${v.length === 1 ? "," : ""})` : `[${inner}]`;
  }
  if (v instanceof Map) {
    return `{${
      [...v].map(([a, b]) => `${pyRepr(a)}: ${pyRepr(b)}`).join(", ")
    }}`;
  }
  if (v instanceof Set) return `{${[...v].map(pyRepr).join(", ")}}`;
  if (v instanceof Uint8Array) return `b'…${v.length} bytes'`;
  if (typeof v === "object") {
    return `{${
      Object.entries(v).map(([a, b]) => `'${a}': ${pyRepr(b)}`).join(", ")
    }}`;
  }
  return String(v);
}

function mintObject(
  cls: "Value" | "Namespace",
  state: Map<string, unknown>,
): PyObject {
  return mint(new PyObject(cls, state));
}

/** The CPython face of a referent, chosen by its class; undefined for custom types. */
export function pyTypeOf(obj: object): PyType | undefined {
  if (obj instanceof SharedQueue) return QUEUE;
  if (obj instanceof SharedEvent) return EVENT;
  if (obj instanceof SharedLock) return LOCK;
  if (obj instanceof SharedRLock) return RLOCK;
  if (obj instanceof SharedSemaphore) return SEMAPHORE;
  if (obj instanceof SharedCondition) return CONDITION;
  if (obj instanceof SharedBarrier) return BARRIER;
  if (obj instanceof SharedValue) return VALUE;
  if (obj instanceof SharedArray) return ARRAY;
  if (obj instanceof SharedList) return LIST;
  if (obj instanceof SharedDict) return DICT;
  if (obj instanceof SharedNamespace) return NAMESPACE;
  if (obj instanceof PyIterator) return ITERATOR;
  return undefined;
}

/** The exposed list of `Iterator` (CPython's IteratorProxy). */
export const ITERATOR_EXPOSED: readonly string[] = ITERATOR.exposed;

/**
 * Translates CPython's `create(typeid, *args, **kwds)` for a built-in typeid
 * into the arguments of our callable (seconds → ms, Python defaults).
 * Custom typeids get their positional args, and no keywords.
 */
export function createArgs(
  typeid: string,
  args: readonly unknown[],
  kwds: Kwds,
  builtin: boolean,
): unknown[] {
  if (!builtin) {
    noKwds(typeid, kwds);
    return [...args];
  }
  switch (typeid) {
    case "Queue":
    case "JoinableQueue": {
      const [maxsize] = bind(typeid, args, kwds, [["maxsize", 0]]);
      return [pyInt(maxsize, "maxsize")];
    }
    case "Event":
    case "Lock":
    case "RLock":
      bind(typeid, args, kwds, []);
      return [];
    case "Semaphore":
    case "BoundedSemaphore": {
      const [value] = bind(typeid, args, kwds, [["value", 1]]);
      const n = pyInt(value, "value");
      if (n < 0) throw valueError("semaphore initial value must be >= 0");
      return [n];
    }
    case "Condition": {
      const [lock] = bind(typeid, args, kwds, [["lock", null]]);
      if (
        lock !== null && !(lock instanceof SharedLock) &&
        !(lock instanceof SharedRLock)
      ) {
        throw typeError(
          "Condition(lock) takes a Lock or RLock proxy of this manager",
        );
      }
      return [lock];
    }
    case "Barrier": {
      const [parties, action, timeout] = bind(typeid, args, kwds, [
        ["parties"],
        ["action", null],
        ["timeout", null],
      ]);
      if (action !== null) {
        throw typeError(
          "Barrier(action=…) needs a function, which cannot cross the wire",
        );
      }
      const n = pyInt(parties, "parties");
      if (n < 1) throw valueError("parties must be > 0");
      const ms = seconds(timeout);
      return [n, ms === undefined ? {} : { timeout: Math.max(0, ms) }];
    }
    case "Value": {
      const [typecode, value] = bind(typeid, args, kwds, [
        ["typecode"],
        ["value"],
        ["lock", true],
      ]);
      return [pyStr(typecode, "typecode"), value];
    }
    case "Array": {
      const [typecode, seq] = bind(typeid, args, kwds, [
        ["typecode"],
        ["sequence"],
        ["lock", true],
      ]);
      const items = typeof seq === "number" || typeof seq === "bigint"
        ? pyInt(seq, "size")
        : sequence(seq, "Array() needs a sequence of numbers");
      return [pyStr(typecode, "typecode"), items];
    }
    case "dict":
      return [dictPairs("dict", args, kwds)];
    case "list": {
      noKwds("list", kwds);
      if (args.length > 1) {
        throw typeError(`list expected at most 1 argument, got ${args.length}`);
      }
      return [
        args.length === 0 ? [] : sequence(args[0], "list() needs an iterable"),
      ];
    }
    case "Namespace": {
      if (args.length > 0) {
        throw typeError("Namespace() takes keyword arguments only");
      }
      const init: Record<string, unknown> = {};
      for (const [key, v] of kwds) {
        Object.defineProperty(init, pyStr(key, "keyword"), {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return [init];
    }
  }
  noKwds(typeid, kwds);
  return [...args];
}
