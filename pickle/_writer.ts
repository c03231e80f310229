// The pickle writer: protocols 2–5, in the opcodes CPython itself uses for
// each type (FRAMEs of up to 64 KiB from protocol 4, a str/bytes of 64 KiB or
// more written after its frame, batches of 1000 for APPENDS/SETITEMS/
// ADDITEMS), without the memo: shared substructure is written twice and
// cycles are refused. On any unencodable value a TypeError names its path
// and nothing is returned.
//
// ## Globals (internal; the manager interop builds on this)
//
// The plain writer (`dumps()`) emits only the constructor globals of plain
// data (`builtins.set/frozenset/bytearray/bytes`, `_codecs.encode`, spelled
// `__builtin__` under protocol 2). Any other global comes from a writer
// value of this file, and only when the module.name is in
// `profile.globals`, the closed list of the caller (the manager's CPython
// names and its own registered proxy types). Create these values only from
// code, never from anything a peer sent (a peer's global written back to a
// CPython process would run there):
//
// - `new PyGlobalCall(module, name, args)`: `<global> <args tuple> REDUCE`,
//   e.g. `new PyGlobalCall("_queue", "Empty", [])` is `_queue.Empty()`, and
//   `new PyGlobalCall("multiprocessing.managers", "RebuildProxy",
//   [new PyGlobal("multiprocessing.managers", "AutoProxy"), token, "pickle",
//   kwds])`.
// - `new PyGlobalCall(module, name, args, { newobj: true, state })`:
//   `<global> <args tuple> NEWOBJ <state> BUILD`, e.g. a Token is
//   `new PyGlobalCall("multiprocessing.managers", "Token", [], { newobj: true,
//   state: tuple(typeid, address, id) })`. `state` also works with REDUCE.
// - `new PyGlobal(module, name)`: the global itself as a value (the proxy
//   class passed to `RebuildProxy`).
// - `profile.reduce(obj)`: called for an object of no plain type (a class
//   instance) before it is refused; return a `PyGlobalCall`/`PyGlobal` to
//   write instead, or undefined to refuse it. This is how a manager writes
//   its own tagged classes (its Token, its proxy references) without
//   converting them first.

import { bytearrayBranded, frozensetBranded, tupleBranded } from "./_brands.ts";
import * as op from "./_opcodes.ts";
import { encodeWtf8Into } from "./_utf8.ts";

/** Deeper nesting is refused (as the reader and the msgpack codec). */
const MAX_DEPTH = 512;
/** CPython's frame size target, and the size written outside frames. */
const FRAME_TARGET = 64 * 1024;
/** CPython batches APPENDS/SETITEMS/ADDITEMS by this many items. */
const BATCH = 1000;
const FRAME_HEADER = 9;

/** A global as a value (see the file comment). */
export class PyGlobal {
  /**
   * @param module The Python module (`"multiprocessing.managers"`).
   * @param name The name in it (`"AutoProxy"`).
   */
  constructor(readonly module: string, readonly name: string) {}
}

/** A call of a global, written as REDUCE or NEWOBJ (see the file comment). */
export class PyGlobalCall {
  /** Written with NEWOBJ instead of REDUCE. */
  readonly newobj: boolean;
  /** When not undefined, written after the call, then BUILD. */
  readonly state: unknown;

  /**
   * @param module The Python module.
   * @param name The callable in it.
   * @param args Its arguments (written as a tuple).
   * @param options `newobj` (NEWOBJ instead of REDUCE) and `state` (BUILD).
   */
  constructor(
    readonly module: string,
    readonly name: string,
    readonly args: readonly unknown[],
    options: { newobj?: boolean; state?: unknown } = {},
  ) {
    this.newobj = options.newobj === true;
    this.state = options.state;
  }
}

/** The globals a writer may emit, beyond plain data. */
export interface WriterProfile {
  /** `"module.name"` of every global this writer may emit. */
  readonly globals: ReadonlySet<string>;
  /** What to write for an object of no plain type, or undefined. */
  readonly reduce?: (value: object) => PyGlobalCall | PyGlobal | undefined;
}

/** Options of {@linkcode pickle}. */
export interface WriteOptions {
  /** 2 to 5; default 4. */
  protocol?: number;
  /** Every JS number written as a float (ints are bigints). */
  bigints?: boolean;
  /** Globals beyond plain data. */
  profile?: WriterProfile;
}

/** A refusal on its way up to the top, collecting the path. */
class Refusal {
  readonly path: string[] = [];
  constructor(readonly why: string) {}
}

function segment(k: unknown): string {
  if (typeof k === "number") return `[${k}]`;
  if (typeof k === "string") {
    return /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
  }
  if (typeof k === "bigint") return `[${k}n]`;
  return `[${String(k)}]`;
}

/** The output buffer reused by calls that do not overlap, and its view. */
const scratch: Uint8Array = new Uint8Array(16 * 1024);
const scratchView = new DataView(scratch.buffer);
let scratchBusy = false;

class Writer {
  buf: Uint8Array;
  dv: DataView;
  pos = 0;
  /** Where the open FRAME opcode is, or -1. */
  frameStart = -1;
  readonly ancestors: object[] = [];

  constructor(
    buf: Uint8Array,
    dv: DataView,
    readonly proto: number,
    readonly bigints: boolean,
    readonly profile: WriterProfile | undefined,
  ) {
    this.buf = buf;
    this.dv = dv;
  }

  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  grow(n: number): void {
    const size = Math.max(this.buf.length * 2, this.pos + n + 64);
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }

  byte(b: number): void {
    if (this.pos >= this.buf.length) this.grow(1);
    this.buf[this.pos++] = b;
  }

  u32(n: number): void {
    this.dv.setUint32(this.pos, n, true);
    this.pos += 4;
  }

  u64(n: number): void {
    this.dv.setUint32(this.pos, n >>> 0, true);
    this.dv.setUint32(this.pos + 4, Math.floor(n / 0x100000000), true);
    this.pos += 8;
  }

  openFrame(): void {
    this.ensure(FRAME_HEADER);
    this.frameStart = this.pos;
    this.pos += FRAME_HEADER;
  }

  /** Ends the open frame at the current position. */
  commitFrame(): void {
    const start = this.frameStart;
    this.frameStart = -1;
    const body = this.pos - start - FRAME_HEADER;
    if (body < 4) {
      // CPython leaves frames of under 4 bytes out.
      this.buf.copyWithin(start, start + FRAME_HEADER, this.pos);
      this.pos -= FRAME_HEADER;
      return;
    }
    this.buf[start] = op.FRAME;
    this.dv.setUint32(start + 1, body, true);
    this.dv.setUint32(start + 5, 0, true);
  }

  /** A payload of `n` bytes follows its header: outside frames if large. */
  large(n: number): boolean {
    if (this.frameStart < 0 || n < FRAME_TARGET) return false;
    this.commitFrame();
    return true;
  }

  value(v: unknown, depth: number): void {
    if (this.frameStart >= 0 && this.pos - this.frameStart > FRAME_TARGET) {
      this.commitFrame();
      this.openFrame();
    }
    switch (typeof v) {
      case "number":
        if (
          !this.bigints && Number.isInteger(v) && !(v === 0 && 1 / v < 0)
        ) {
          if (v >= -0x80000000 && v <= 0x7fffffff) this.int32(v);
          else this.long(BigInt(v));
        } else {
          this.ensure(9);
          this.buf[this.pos++] = op.BINFLOAT;
          this.dv.setFloat64(this.pos, v, false);
          this.pos += 8;
        }
        return;
      case "string":
        this.string(v);
        return;
      case "boolean":
        this.byte(v ? op.NEWTRUE : op.NEWFALSE);
        return;
      case "undefined":
        this.byte(op.NONE);
        return;
      case "bigint":
        if (v >= -0x80000000n && v <= 0x7fffffffn) this.int32(Number(v));
        else this.long(v);
        return;
      case "object":
        if (v === null) this.byte(op.NONE);
        else this.object(v, depth);
        return;
      case "function":
        throw new Refusal(
          `a function${
            v.name ? ` (${v.name})` : ""
          }, which pickle cannot carry`,
        );
      default:
        throw new Refusal(`a ${typeof v}, which pickle cannot carry`);
    }
  }

  int32(n: number): void {
    this.ensure(5);
    const b = this.buf;
    if (n >= 0 && n < 256) {
      b[this.pos] = op.BININT1;
      b[this.pos + 1] = n;
      this.pos += 2;
    } else if (n >= 0 && n < 65536) {
      b[this.pos] = op.BININT2;
      b[this.pos + 1] = n & 0xff;
      b[this.pos + 2] = n >> 8;
      this.pos += 3;
    } else {
      b[this.pos++] = op.BININT;
      this.dv.setInt32(this.pos, n, true);
      this.pos += 4;
    }
  }

  /** LONG1/LONG4: minimal two's-complement little-endian bytes. */
  long(x: bigint): void {
    const m = x < 0n ? -x - 1n : x;
    const mh = m.toString(16);
    const bits = (mh.length - 1) * 4 + (32 - Math.clz32(parseInt(mh[0]!, 16)));
    const n = (bits >> 3) + 1;
    const u = x < 0n ? (1n << BigInt(n * 8)) + x : x;
    const hex = u.toString(16).padStart(n * 2, "0");
    this.ensure(5 + n);
    if (n < 256) {
      this.buf[this.pos++] = op.LONG1;
      this.buf[this.pos++] = n;
    } else {
      this.buf[this.pos++] = op.LONG4;
      this.u32(n);
    }
    const b = this.buf;
    for (let i = 0; i < n; i++) {
      const j = hex.length - 2 * (i + 1);
      b[this.pos + i] = parseInt(hex.slice(j, j + 2), 16);
    }
    this.pos += n;
  }

  string(s: string): void {
    const n = s.length;
    // The UTF-8 length is at most 3 bytes per UTF-16 unit.
    this.ensure(5 + n * 3);
    const b = this.buf;
    const start = this.pos;
    if (n < 256 && this.proto >= 4) {
      const len = encodeWtf8Into(s, b, start + 2);
      if (len < 256) {
        b[start] = op.SHORT_BINUNICODE;
        b[start + 1] = len;
        this.pos = start + 2 + len;
        return;
      }
      b.copyWithin(start + 5, start + 2, start + 2 + len);
      this.header32(op.BINUNICODE, len, start);
      return;
    }
    const len = encodeWtf8Into(s, b, start + 5);
    this.header32(op.BINUNICODE, len, start);
  }

  /** Writes `code` + u32 `len` at `start`; the payload is already after it. */
  header32(code: number, len: number, start: number): void {
    this.buf[start] = code;
    this.dv.setUint32(start + 1, len, true);
    this.pos = start + 5;
    if (this.large(len)) {
      this.pos += len;
      this.openFrame();
    } else {
      this.pos += len;
    }
  }

  bytes(v: Uint8Array): void {
    const n = v.length;
    if (this.proto < 3) {
      this.protocol2Bytes(v);
      return;
    }
    this.ensure(9 + n);
    if (n < 256) {
      this.buf[this.pos++] = op.SHORT_BINBYTES;
      this.buf[this.pos++] = n;
    } else if (n <= 0xffffffff) {
      this.buf[this.pos++] = op.BINBYTES;
      this.u32(n);
    } else if (this.proto >= 4) {
      this.buf[this.pos++] = op.BINBYTES8;
      this.u64(n);
    } else {
      throw new Refusal(`a bytes of ${n} bytes, too large for protocol 3`);
    }
    this.payload(v);
  }

  payload(v: Uint8Array): void {
    const large = this.large(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
    if (large) this.openFrame();
  }

  /** Protocol 2 has no bytes opcode: `_codecs.encode(latin1, 'latin1')`. */
  protocol2Bytes(v: Uint8Array): void {
    if (v.length === 0) {
      this.global("builtins", "bytes");
      this.byte(op.EMPTY_TUPLE);
      this.byte(op.REDUCE);
      return;
    }
    this.global("_codecs", "encode");
    let text = "";
    for (let i = 0; i < v.length; i += 8192) {
      text += String.fromCharCode(...v.subarray(i, i + 8192));
    }
    this.string(text);
    this.string("latin1");
    this.byte(op.TUPLE2);
    this.byte(op.REDUCE);
  }

  bytearray(v: Uint8Array): void {
    if (this.proto >= 5) {
      this.ensure(9 + v.length);
      this.buf[this.pos++] = op.BYTEARRAY8;
      this.u64(v.length);
      this.payload(v);
      return;
    }
    this.global("builtins", "bytearray");
    if (v.length === 0) {
      this.byte(op.EMPTY_TUPLE);
    } else {
      this.bytes(v);
      this.byte(op.TUPLE1);
    }
    this.byte(op.REDUCE);
  }

  /** GLOBAL (protocols 2–3) or STACK_GLOBAL (4–5). */
  global(module: string, name: string): void {
    if (this.proto >= 4) {
      this.string(module);
      this.string(name);
      this.byte(op.STACK_GLOBAL);
      return;
    }
    if (this.proto < 3 && module === "builtins") module = "__builtin__";
    if (module.includes("\n") || name.includes("\n")) {
      throw new Refusal(`global ${module}.${name}, a name with a newline`);
    }
    this.byte(op.GLOBAL);
    for (const part of [module, name]) {
      this.ensure(part.length * 3 + 1);
      this.pos += encodeWtf8Into(part, this.buf, this.pos);
      this.buf[this.pos++] = 0x0a;
    }
  }

  object(o: object, depth: number): void {
    if (o instanceof Uint8Array) {
      if (bytearrayBranded(o)) this.bytearray(o);
      else this.bytes(o);
      return;
    }
    if (ArrayBuffer.isView(o)) {
      this.bytes(new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
      return;
    }
    if (o instanceof ArrayBuffer) {
      this.bytes(new Uint8Array(o));
      return;
    }
    if (depth >= MAX_DEPTH) {
      throw new Refusal(`nested deeper than ${MAX_DEPTH} levels`);
    }
    const ancestors = this.ancestors;
    for (let i = 0; i < ancestors.length; i++) {
      if (ancestors[i] === o) {
        throw new Refusal("a reference cycle (pickle here writes no memo)");
      }
    }
    ancestors.push(o);
    if (Array.isArray(o)) {
      if (tupleBranded(o)) this.tuple(o, depth);
      else this.list(o, depth);
    } else if (o instanceof Map) {
      this.dict(o, depth);
    } else if (o instanceof Set) {
      this.set(o, depth);
    } else if (o instanceof PyGlobalCall || o instanceof PyGlobal) {
      this.call(o, depth);
    } else {
      const proto = Object.getPrototypeOf(o);
      if (proto === Object.prototype || proto === null) {
        this.record(o as Record<string, unknown>, depth);
      } else {
        const instead = this.profile?.reduce?.(o);
        if (instead === undefined) {
          throw new Refusal(describe(o));
        }
        this.call(instead, depth);
      }
    }
    ancestors.pop();
  }

  /** Each item of `items`, the error path naming its index. */
  items(items: ArrayLike<unknown>, from: number, to: number, depth: number) {
    let i = from;
    try {
      for (; i < to; i++) this.value(items[i], depth);
    } catch (e) {
      if (e instanceof Refusal) e.path.push(`[${i}]`);
      throw e;
    }
  }

  tuple(t: readonly unknown[], depth: number): void {
    const n = t.length;
    if (n === 0) {
      this.byte(op.EMPTY_TUPLE);
      return;
    }
    if (n > 3) this.byte(op.MARK);
    this.items(t, 0, n, depth + 1);
    this.byte(n > 3 ? op.TUPLE : op.TUPLE1 + n - 1);
  }

  list(a: readonly unknown[], depth: number): void {
    this.byte(op.EMPTY_LIST);
    this.appends(a, depth);
  }

  /** `a`'s items as APPEND / MARK … APPENDS batches. */
  appends(a: readonly unknown[], depth: number): void {
    const n = a.length;
    for (let i = 0; i < n; i += BATCH) {
      const to = Math.min(n, i + BATCH);
      if (to - i === 1) {
        this.items(a, i, to, depth + 1);
        this.byte(op.APPEND);
      } else {
        this.byte(op.MARK);
        this.items(a, i, to, depth + 1);
        this.byte(op.APPENDS);
      }
    }
  }

  dict(m: ReadonlyMap<unknown, unknown>, depth: number): void {
    this.byte(op.EMPTY_DICT);
    let batch = 0;
    for (const [k, v] of m) {
      if (batch === 0) this.byte(op.MARK);
      try {
        this.key(k, depth + 1, "a dict key");
      } catch (e) {
        if (e instanceof Refusal) e.path.push(`(key ${describeKey(k)})`);
        throw e;
      }
      try {
        this.value(v, depth + 1);
      } catch (e) {
        if (e instanceof Refusal) e.path.push(segment(k));
        throw e;
      }
      if (++batch === BATCH) {
        this.byte(op.SETITEMS);
        batch = 0;
      }
    }
    if (batch > 0) this.byte(op.SETITEMS);
  }

  record(o: Record<string, unknown>, depth: number): void {
    this.byte(op.EMPTY_DICT);
    const keys = Object.keys(o);
    for (let i = 0; i < keys.length; i += BATCH) {
      const to = Math.min(keys.length, i + BATCH);
      this.byte(op.MARK);
      for (let j = i; j < to; j++) {
        const k = keys[j]!;
        this.string(k);
        try {
          this.value(o[k], depth + 1);
        } catch (e) {
          if (e instanceof Refusal) e.path.push(segment(k));
          throw e;
        }
      }
      this.byte(op.SETITEMS);
    }
  }

  set(s: ReadonlySet<unknown>, depth: number): void {
    const frozen = frozensetBranded(s);
    const what = frozen ? "a frozenset item" : "a set item";
    const all = [...s];
    /** MARK items `closer`, in batches (one batch for FROZENSET). */
    const batches = (closer: number, size: number) => {
      for (let i = 0; i < all.length; i += size) {
        this.byte(op.MARK);
        const to = Math.min(all.length, i + size);
        for (let j = i; j < to; j++) {
          try {
            this.key(all[j], depth + 1, what);
          } catch (e) {
            if (e instanceof Refusal) e.path.push(`(item ${j})`);
            throw e;
          }
        }
        this.byte(closer);
      }
    };
    if (this.proto < 4) {
      // builtins.set([items]) / builtins.frozenset([items])
      this.global("builtins", frozen ? "frozenset" : "set");
      this.byte(op.EMPTY_LIST);
      batches(op.APPENDS, BATCH);
      this.byte(op.TUPLE1);
      this.byte(op.REDUCE);
    } else if (frozen) {
      if (all.length === 0) this.byte(op.MARK);
      batches(op.FROZENSET, Math.max(1, all.length));
      if (all.length === 0) this.byte(op.FROZENSET);
    } else {
      this.byte(op.EMPTY_SET);
      batches(op.ADDITEMS, BATCH);
    }
  }

  /** A dict key or set item: a value Python can hash. */
  key(k: unknown, depth: number, what: string): void {
    const why = unhashable(k);
    if (why !== undefined) {
      throw new Refusal(`${why}, which cannot be ${what} in Python`);
    }
    this.value(k, depth);
  }

  call(g: PyGlobalCall | PyGlobal, depth: number): void {
    const qualname = `${g.module}.${g.name}`;
    if (this.profile?.globals.has(qualname) !== true) {
      throw new Refusal(
        `global ${qualname}, which this writer may not emit (plain data only)`,
      );
    }
    this.global(g.module, g.name);
    if (g instanceof PyGlobal) return;
    try {
      this.tuple(g.args, depth);
    } catch (e) {
      if (e instanceof Refusal) e.path.push(".args");
      throw e;
    }
    this.byte(g.newobj ? op.NEWOBJ : op.REDUCE);
    if (g.state !== undefined) {
      try {
        this.value(g.state, depth + 1);
      } catch (e) {
        if (e instanceof Refusal) e.path.push(".state");
        throw e;
      }
      this.byte(op.BUILD);
    }
  }
}

/** Why `k` cannot be a Python dict key / set item, or undefined. */
function unhashable(k: unknown): string | undefined {
  if (typeof k !== "object" || k === null) return undefined;
  if (Array.isArray(k)) {
    if (!tupleBranded(k)) return "an array (a Python list)";
    for (const x of k) {
      const why = unhashable(x);
      if (why !== undefined) return `a tuple holding ${why}`;
    }
    return undefined;
  }
  if (k instanceof Map) return "a Map (a Python dict)";
  if (k instanceof Set) {
    return frozensetBranded(k) ? undefined : "a Set (a Python set)";
  }
  if (k instanceof Uint8Array) {
    return bytearrayBranded(k) ? "a bytearray" : undefined;
  }
  const proto = Object.getPrototypeOf(k);
  if (proto === Object.prototype || proto === null) {
    return "a plain object (a Python dict)";
  }
  return undefined;
}

function describeKey(k: unknown): string {
  if (Array.isArray(k)) return tupleBranded(k) ? "tuple" : "array";
  if (typeof k === "object" && k !== null) {
    return k.constructor?.name ?? "object";
  }
  return typeof k === "string" ? JSON.stringify(k) : String(k);
}

function describe(o: object): string {
  if (o instanceof Date) {
    return "a Date, which pickle here does not carry (send getTime() or toISOString())";
  }
  const name = Object.getPrototypeOf(o)?.constructor?.name;
  return `an instance of ${
    name ?? "a class"
  }, which pickle here does not carry ` +
    "(send a plain object, array, tuple(), Map or Set)";
}

/**
 * Writes `value` as one pickle.
 *
 * @throws {TypeError} naming the path of a value pickle cannot carry.
 * @throws {RangeError} for a protocol other than 2–5.
 */
export function pickle(value: unknown, options: WriteOptions = {}): Uint8Array {
  const { protocol = 4, bigints = false, profile } = options;
  if (
    typeof protocol !== "number" || !Number.isInteger(protocol) ||
    protocol < 2 || protocol > 5
  ) {
    throw new RangeError(
      `Cannot pickle with protocol ${protocol}: use 2, 3, 4 or 5`,
    );
  }
  const own = !scratchBusy;
  scratchBusy = true;
  const buf = own ? scratch : new Uint8Array(256);
  const w = new Writer(
    buf,
    own ? scratchView : new DataView(buf.buffer),
    protocol,
    bigints,
    profile,
  );
  try {
    w.buf[0] = op.PROTO;
    w.buf[1] = protocol;
    w.pos = 2;
    if (protocol >= 4) w.openFrame();
    w.value(value, 0);
    w.byte(op.STOP);
    if (w.frameStart >= 0) w.commitFrame();
    // A buffer grown for this call is returned as it is (no second copy).
    return w.buf === buf ? w.buf.slice(0, w.pos) : w.buf.subarray(0, w.pos);
  } catch (e) {
    if (e instanceof Refusal) {
      throw new TypeError(
        `Cannot pickle the value as $${e.path.reverse().join("")} is ${e.why}`,
      );
    }
    throw e;
  } finally {
    if (own) scratchBusy = false;
  }
}
