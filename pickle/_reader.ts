// The pickle reader: protocols 2–5 as CPython 3.11–3.13 write them, with
// every limit checked before anything is allocated. Nothing read is executed
// or looked up by name: a global is only a key into a closed table of pure
// TypeScript reconstructors (the profile).
//
// ## Profiles (internal; the manager interop builds on this)
//
// `unpickle(bytes, { profile })` reads globals through `profile.globals`, a
// `ReadonlyMap<"module.name", GlobalEntry>`. The public `loads()` uses
// `PLAIN_PROFILE` (./_globals.ts): `builtins.set/frozenset/bytearray/bytes`
// and `_codecs.encode`, nothing else. A global outside the table is refused
// with `global <module>.<name> is not allowed`, unless `profile.unknownGlobal`
// returns an entry for it (an inert-data fallback, e.g. an opaque exception
// record; it must never resolve the name to code). Protocol 2/3 module names
// are mapped as CPython's `fix_imports` does (`__builtin__`/`exceptions` →
// `builtins`, `copy_reg` → `copyreg`, `Queue` → `queue`), so tables only list
// the Python 3 names.
//
// A `GlobalEntry` says what its global may do:
//
// - `reduce(args, ctx)`: `<global> <args tuple> REDUCE` calls it with the
//   args tuple (a frozen array); its return value replaces both on the
//   stack.
// - `newobj(args, ctx)`: the same for `<global> <args tuple> NEWOBJ`
//   (`cls.__new__(cls, *args)`).
// - `build(obj, state, ctx)`: `BUILD` is accepted only on an object that
//   this entry's `reduce`/`newobj` returned, once, before the object was
//   fetched from the memo; its return value replaces `obj`.
// - `value`: when present, the global may also appear as a plain value
//   (anywhere but as a callee); it is replaced by `value` (e.g. the proxy
//   class name passed to `RebuildProxy`). Without it, a global used as a
//   value is refused (`global X may only be called`).
//
// Every hook validates the shape of what it gets and throws through
// `ctx.fail(why)` (an `UnpicklingError` naming the global); any other error
// it throws is wrapped in an `UnpicklingError` too. `ctx.requireHashable(v,
// what)` refuses list/dict/set/bytearray (also inside tuples) as Python does
// for dict keys and set items. What a hook returns is data: a tagged object
// of the manager's own classes. It must never return a writer value
// (`PyGlobalCall`, ./_writer.ts): what a peer sent is never re-emitted as a
// global.
//
// Values a hook receives are as `loads()` gives them: a tuple is a frozen
// array (`tupleBranded`/`asTuple` in ./_brands.ts), a dict a `Map`, a
// frozenset a Set branded by `asFrozenset`; ints follow `options.bigints`.
// Example, a CPython Token (`Token EMPTY_TUPLE NEWOBJ (typeid, address, id)
// BUILD`):
//
//     ["multiprocessing.managers.Token", {
//       newobj: (args, ctx) => args.length === 0 ? new Pending() : ctx.fail("takes no arguments"),
//       build: (_obj, state, ctx) => tupleBranded(state) && state.length === 3
//         ? new PyToken(...state) : ctx.fail("state is not (typeid, address, id)"),
//     }]
//
// tests/pickle/profile_test.ts holds a complete test table that reads every
// frame of CPython 3.12's manager in ../shared/pickle/vectors-*.json.
//
// ## Limits (each refusal names what was refused and the byte offset)
//
// - PROTO 2–5 first; the protocol 0/1 text opcodes, INST, OBJ, PERSID,
//   BINPERSID, EXT1/2/4, NEWOBJ_EX, NEXT_BUFFER, READONLY_BUFFER and unknown
//   opcodes are refused by name.
// - Every length is checked against what remains (of the frame, when in
//   one) before any allocation (cpython#115952); the memo is dense with a
//   sparse overflow, so `LONG_BINPUT 0x7fffffff` costs one entry.
// - Nesting deeper than `MAX_DEPTH` (512) levels is refused.
// - At most `MAX_ITEMS` (10^6) values after memo expansion: every value read
//   counts 1, and every memo fetch counts the expanded size of what it
//   fetches (a str/bytes of n bytes counts 1 + n/1024), so the 500-byte
//   "billion laughs" is refused after a few fetches.
// - Cycles: an object fetched from the memo (BINGET) or duplicated (DUP) is
//   sealed and may not be modified any more. CPython only writes a fetch of
//   a finished object, except for self-references, so this refuses exactly
//   the cycles (and a change of shared structure).
// - Exactly one value at STOP, no open MARK, no byte after STOP, no BINGET
//   of an unset slot, no unhashable dict key or set item.

import { UnpicklingError } from "./errors.ts";
import {
  asBytearray,
  asFrozenset,
  asTuple,
  bytearrayBranded,
  frozensetBranded,
  tupleBranded,
} from "./_brands.ts";
import { REFUSED } from "./_opcodes.ts";
import { decodeWtf8 } from "./_utf8.ts";

/** Deeper nesting is refused (as the msgpack codec). */
export const MAX_DEPTH = 512;
/** More values than this, after memo expansion, are refused. */
export const MAX_ITEMS = 1_000_000;

/** What a reconstructor may ask of the reader. */
export interface ReduceContext {
  /** Throws an UnpicklingError naming the global being reconstructed. */
  fail(why: string): never;
  /** Throws unless `v` could be a Python dict key / set item. */
  requireHashable(v: unknown, what: string): void;
}

/** What one global may do (see the file comment). */
export interface GlobalEntry {
  /** `<global> <args> REDUCE`. */
  reduce?(args: readonly unknown[], ctx: ReduceContext): unknown;
  /** `<global> <args> NEWOBJ`. */
  newobj?(args: readonly unknown[], ctx: ReduceContext): unknown;
  /** `BUILD` on an object this entry just made. */
  build?(obj: object, state: unknown, ctx: ReduceContext): unknown;
  /** Present when the global may be a value: what it becomes. */
  value?: unknown;
}

/** A closed table of globals (see the file comment). */
export interface ReaderProfile {
  /** `"module.name"` → what it may do. */
  readonly globals: ReadonlyMap<string, GlobalEntry>;
  /** An inert-data entry for a global outside the table, or undefined. */
  readonly unknownGlobal?: (
    module: string,
    name: string,
  ) => GlobalEntry | undefined;
}

/** Options of {@linkcode unpickle}. */
export interface ReadOptions {
  /** Every int as a bigint. */
  bigints?: boolean;
  /** The globals the pickle may use; default: none at all. */
  profile?: ReaderProfile;
}

/** A global on the stack: only a reference into the profile's table. */
class GlobalRef {
  constructor(readonly qualname: string, readonly entry: GlobalEntry) {}
}

const NO_GLOBALS: ReaderProfile = { globals: new Map() };
const EMPTY_TUPLE: readonly unknown[] = asTuple([]);
/** CPython's fix_imports for the modules a plain-data table could name. */
const PY2_MODULES: ReadonlyMap<string, string> = new Map([
  ["__builtin__", "builtins"],
  ["exceptions", "builtins"],
  ["copy_reg", "copyreg"],
  ["Queue", "queue"],
]);
const MAX_GLOBAL_NAME = 1024;

function fail(why: string, at: number): never {
  throw new UnpicklingError(
    `Cannot unpickle the data as ${why} (at byte ${at})`,
  );
}

/** Python's name for the type of a value we could have read. */
function typeName(v: unknown): string {
  if (v === null || v === undefined) return "NoneType";
  switch (typeof v) {
    case "string":
      return "str";
    case "number":
      return Number.isInteger(v) ? "int" : "float";
    case "bigint":
      return "int";
    case "boolean":
      return "bool";
  }
  if (Array.isArray(v)) return tupleBranded(v) ? "tuple" : "list";
  if (v instanceof Map) return "dict";
  if (v instanceof Set) return frozensetBranded(v) ? "frozenset" : "set";
  if (v instanceof Uint8Array) {
    return bytearrayBranded(v) ? "bytearray" : "bytes";
  }
  if (v instanceof GlobalRef) return `global ${v.qualname}`;
  return (v as object).constructor?.name ?? "object";
}

/** The state of one `unpickle` call that is only needed off the fast path. */
class State implements ReduceContext {
  at = 0;
  qualname = "";
  /** Objects fetched from the memo or duplicated: no longer modifiable. */
  sealed: Set<object> | null = null;
  /** Nesting depth of containers deeper than 1. */
  depths: Map<object, number> | null = null;
  /** Expanded size of objects, as counted for memo fetches. */
  sizes: Map<object, number> | null = null;
  /** Objects a reconstructor just made (BUILD targets) and their entry. */
  fresh: Map<object, GlobalEntry> | null = null;
  /** Tuples known to be hashable. */
  hashable: Set<object> | null = null;
  /** Memo slots not in the dense array. */
  sparse: Map<number, unknown> | null = null;
  /**
   * Whether nesting depth is tracked: a DAG is at most as deep as it has
   * containers, and each container takes an opcode byte, so a pickle of at
   * most MAX_DEPTH bytes cannot be too deep.
   */
  constructor(readonly track: boolean) {}

  /** SETITEM(S): `d[k] = v`. */
  setItem(
    d: Map<unknown, unknown>,
    key: unknown,
    value: unknown,
    at: number,
    anyGlobal: boolean,
  ): void {
    const k = anyGlobal ? this.place(key, at) : key;
    const v = anyGlobal ? this.place(value, at) : value;
    if (typeof k === "object" && k !== null) {
      this.at = at;
      this.requireHashable(k, "a dict key");
      this.nest(d, k, at);
    }
    if (typeof v === "object" && v !== null) this.nest(d, v, at);
    d.set(k, v);
  }

  /** APPEND(S): `list.append(item)`. */
  append(list: unknown[], item: unknown, at: number, anyGlobal: boolean): void {
    const x = anyGlobal ? this.place(item, at) : item;
    if (typeof x === "object" && x !== null) this.nest(list, x, at);
    list.push(x);
  }

  /** ADDITEMS / FROZENSET: `stack[from…]` into `set`. */
  addAll(
    set: Set<unknown>,
    stack: unknown[],
    from: number,
    at: number,
    anyGlobal: boolean,
    what: string,
  ): void {
    const n = stack.length;
    for (let i = from; i < n; i++) {
      const x = anyGlobal ? this.place(stack[i], at) : stack[i];
      if (typeof x === "object" && x !== null) {
        this.at = at;
        this.requireHashable(x, what);
        this.nest(set, x, at);
      }
      set.add(x);
    }
  }

  fail(why: string): never {
    fail(`${this.qualname}: ${why}`, this.at);
  }

  requireHashable(v: unknown, what: string): void {
    if (typeof v === "object" && v !== null && !this.isHashable(v)) {
      fail(`unhashable type '${typeName(v)}' is used as ${what}`, this.at);
    }
  }

  isHashable(v: object): boolean {
    if (Array.isArray(v)) {
      if (!tupleBranded(v)) return false;
      if (this.hashable?.has(v)) return true;
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (typeof x === "object" && x !== null && !this.isHashable(x)) {
          return false;
        }
      }
      (this.hashable ??= new Set()).add(v);
      return true;
    }
    if (v instanceof Map || v instanceof GlobalRef) return false;
    if (v instanceof Set) return frozensetBranded(v);
    if (v instanceof Uint8Array) return !bytearrayBranded(v);
    return true; // a reconstructed object: hashable by identity
  }

  seal(v: object): void {
    (this.sealed ??= new Set()).add(v);
  }

  /** Refuses to modify `target` when it was fetched from the memo. */
  modifiable(target: object, at: number): void {
    if (this.sealed !== null && this.sealed.has(target)) {
      fail(
        `a ${typeName(target)} fetched from the memo would be modified ` +
          "(cycles and changes to shared objects are refused)",
        at,
      );
    }
  }

  depthOf(v: object): number {
    const d = this.depths?.get(v);
    if (d !== undefined) return d;
    return v instanceof Uint8Array ? 0 : 1;
  }

  /** `parent` now holds `item` (an object). */
  nest(parent: object, item: object, at: number): void {
    if (!this.track) return;
    const d = this.depthOf(item) + 1;
    if (d > this.depthOf(parent)) {
      if (d > MAX_DEPTH) {
        fail(`the data is nested deeper than ${MAX_DEPTH} levels`, at);
      }
      (this.depths ??= new Map()).set(parent, d);
    }
  }

  /** A new container of `items`: its depth. */
  nestAll(parent: object, items: readonly unknown[], at: number): void {
    if (!this.track) return;
    for (let i = 0; i < items.length; i++) {
      const x = items[i];
      if (typeof x === "object" && x !== null) this.nest(parent, x, at);
    }
  }

  /** The expanded size of `v`, cached (each container is walked once). */
  sizeOf(v: unknown): number {
    if (typeof v === "string") return 1 + (v.length >> 10);
    if (typeof v !== "object" || v === null) return 1;
    if (v instanceof Uint8Array) return 1 + (v.length >> 10);
    const cached = this.sizes?.get(v);
    if (cached !== undefined) return cached;
    let n = 1;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length && n <= MAX_ITEMS; i++) {
        n += this.sizeOf(v[i]);
      }
    } else if (v instanceof Map) {
      for (const [k, x] of v) {
        n += this.sizeOf(k) + this.sizeOf(x);
        if (n > MAX_ITEMS) break;
      }
    } else if (v instanceof Set) {
      for (const x of v) {
        n += this.sizeOf(x);
        if (n > MAX_ITEMS) break;
      }
    }
    (this.sizes ??= new Map()).set(v, n);
    return n;
  }

  /** A value placed into a container or returned: no bare globals. */
  place(v: unknown, at: number): unknown {
    if (v instanceof GlobalRef) {
      if (!Object.hasOwn(v.entry, "value")) {
        fail(
          `global ${v.qualname} may only be called (REDUCE/NEWOBJ), not used as a value`,
          at,
        );
      }
      return v.entry.value;
    }
    return v;
  }

  placeAll(items: unknown[], at: number): void {
    for (let i = 0; i < items.length; i++) {
      const x = items[i];
      if (x instanceof GlobalRef) items[i] = this.place(x, at);
    }
  }

  lookup(module: string, name: string, proto: number, profile: ReaderProfile) {
    if (proto < 3) module = PY2_MODULES.get(module) ?? module;
    const qualname = `${module}.${name}`;
    const entry = profile.globals.get(qualname) ??
      profile.unknownGlobal?.(module, name);
    if (entry === undefined) {
      fail(`global ${printable(qualname)} is not allowed`, this.at);
    }
    return new GlobalRef(qualname, entry);
  }

  /** REDUCE / NEWOBJ: `callee(args)` through the table. */
  call(
    callee: unknown,
    args: unknown,
    kind: "reduce" | "newobj",
    at: number,
  ): unknown {
    const opname = kind === "reduce" ? "REDUCE" : "NEWOBJ";
    if (!(callee instanceof GlobalRef)) {
      fail(`${opname} calls a ${typeName(callee)}, not a global`, at);
    }
    if (!Array.isArray(args) || !tupleBranded(args)) {
      fail(`${opname} arguments are a ${typeName(args)}, not a tuple`, at);
    }
    const hook = callee.entry[kind];
    if (hook === undefined) {
      fail(`global ${callee.qualname} may not be called by ${opname}`, at);
    }
    this.at = at;
    this.qualname = callee.qualname;
    const result = hook.call(callee.entry, args, this);
    if (typeof result === "object" && result !== null) {
      const d = this.depthOf(args);
      if (d > this.depthOf(result)) (this.depths ??= new Map()).set(result, d);
      if (
        !Array.isArray(result) && !(result instanceof Map) &&
        !(result instanceof Set) && !(result instanceof Uint8Array)
      ) {
        (this.sizes ??= new Map()).set(result, this.sizeOf(args));
      }
      if (callee.entry.build !== undefined) {
        (this.fresh ??= new Map()).set(result, callee.entry);
      }
    }
    return result;
  }

  build(obj: unknown, state: unknown, at: number): unknown {
    const entry = typeof obj === "object" && obj !== null
      ? this.fresh?.get(obj)
      : undefined;
    if (entry === undefined || entry.build === undefined) {
      fail(
        `BUILD on a ${typeName(obj)} that no reconstructor just made`,
        at,
      );
    }
    const target = obj as object;
    this.modifiable(target, at);
    this.fresh!.delete(target);
    this.at = at;
    const result = entry.build(target, state, this);
    if (typeof result === "object" && result !== null) {
      if (typeof state === "object" && state !== null) {
        this.nest(result, state, at);
      }
      this.sizes?.delete(target);
      (this.sizes ??= new Map()).set(result, this.sizeOf(state) + 1);
    }
    return result;
  }
}

function printable(s: string): string {
  const t = s.length > 200 ? `${s.slice(0, 200)}…` : s;
  return JSON.stringify(t).slice(1, -1);
}

/**
 * Reads one pickle (protocols 2–5).
 *
 * @throws {UnpicklingError} when the pickle is malformed or refused.
 */
export function unpickle(b: Uint8Array, options: ReadOptions = {}): unknown {
  try {
    return run(b, options.bigints === true, options.profile ?? NO_GLOBALS);
  } catch (e) {
    if (e instanceof UnpicklingError) throw e;
    throw new UnpicklingError(
      `Cannot unpickle the data as ${(e as Error)?.message ?? String(e)}`,
      { cause: e },
    );
  }
}

function run(b: Uint8Array, bigints: boolean, profile: ReaderProfile): unknown {
  const end = b.length;
  if (end < 2 || b[0] !== 0x80) {
    fail(
      "it does not start with PROTO (protocols 0 and 1 are not read)",
      0,
    );
  }
  const proto = b[1]!;
  if (proto < 2 || proto > 5) {
    fail(`protocol ${proto} is not supported (2 to 5 are)`, 1);
  }
  const st = new State(end > MAX_DEPTH + 3);
  let dv: DataView | null = null;
  let pos = 2;
  let limit = end;
  let frameEnd = -1;
  const stack: unknown[] = [];
  const marks: number[] = [];
  let fence = 0;
  const memo: unknown[] = [];
  let items = 0;
  let anyGlobal = false;

  for (;;) {
    if (pos >= limit) {
      if (frameEnd >= 0 && pos === frameEnd) {
        frameEnd = -1;
        limit = end;
      }
      if (pos >= limit) fail("the data ends before STOP", pos);
    }
    const at = pos;
    const code = b[pos++]!;
    switch (code) {
      case 0x4e: // NONE
        stack.push(null);
        items++;
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        items++;
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        items++;
        break;
      case 0x4b: // BININT1
        if (limit - pos < 1) truncated(at, 1, limit - pos);
        stack.push(bigints ? BigInt(b[pos]!) : b[pos]!);
        pos += 1;
        items++;
        break;
      case 0x4d: { // BININT2
        if (limit - pos < 2) truncated(at, 2, limit - pos);
        const n = b[pos]! | (b[pos + 1]! << 8);
        stack.push(bigints ? BigInt(n) : n);
        pos += 2;
        items++;
        break;
      }
      case 0x4a: { // BININT
        if (limit - pos < 4) truncated(at, 4, limit - pos);
        const n = b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) |
          (b[pos + 3]! << 24);
        stack.push(bigints ? BigInt(n) : n);
        pos += 4;
        items++;
        break;
      }
      case 0x8a: // LONG1
      case 0x8b: { // LONG4
        const w = code === 0x8a ? 1 : 4;
        if (limit - pos < w) truncated(at, w, limit - pos);
        const n = w === 1 ? b[pos]! : u32(b, pos);
        if (w === 4 && b[pos + 3]! >= 0x80) {
          fail("LONG4 has a negative length", at);
        }
        pos += w;
        if (n > limit - pos) {
          if (frameEnd === pos) {
            frameEnd = -1;
            limit = end;
          }
          if (n > limit - pos) tooLong(at, "LONG", n, limit - pos);
        }
        stack.push(decodeLong(b, pos, n, bigints));
        pos += n;
        items++;
        break;
      }
      case 0x47: // BINFLOAT
        if (limit - pos < 8) truncated(at, 8, limit - pos);
        dv ??= new DataView(b.buffer, b.byteOffset, b.byteLength);
        stack.push(dv.getFloat64(pos, false));
        pos += 8;
        items++;
        break;
      case 0x8c: // SHORT_BINUNICODE
      case 0x58: // BINUNICODE
      case 0x8d: // BINUNICODE8
      case 0x43: // SHORT_BINBYTES
      case 0x42: // BINBYTES
      case 0x8e: // BINBYTES8
      case 0x96: { // BYTEARRAY8
        const w = code === 0x8c || code === 0x43
          ? 1
          : code === 0x58 || code === 0x42
          ? 4
          : 8;
        if (limit - pos < w) truncated(at, w, limit - pos);
        const n = w === 1 ? b[pos]! : w === 4 ? u32(b, pos) : u64(b, pos);
        pos += w;
        if (n > limit - pos) {
          if (frameEnd === pos) {
            frameEnd = -1;
            limit = end;
          }
          if (n > limit - pos) {
            tooLong(
              at,
              code === 0x8c || code === 0x58 || code === 0x8d
                ? "str"
                : code === 0x96
                ? "bytearray"
                : "bytes",
              n,
              limit - pos,
            );
          }
        }
        if (code === 0x8c || code === 0x58 || code === 0x8d) {
          const s = decodeWtf8(b, pos, n);
          if (s === undefined) fail("a str is not valid UTF-8", at);
          stack.push(s);
        } else if (code === 0x96) {
          stack.push(asBytearray(b.slice(pos, pos + n)));
        } else {
          stack.push(b.slice(pos, pos + n));
        }
        pos += n;
        items++;
        break;
      }
      case 0x29: // EMPTY_TUPLE
        stack.push(EMPTY_TUPLE);
        items++;
        break;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: { // TUPLE3
        const n = code - 0x84;
        if (stack.length - fence < n) underflow(at, "TUPLE" + n);
        const t = stack.slice(stack.length - n);
        stack.length -= n;
        if (anyGlobal) st.placeAll(t, at);
        st.nestAll(t, t, at);
        stack.push(asTuple(t));
        items++;
        break;
      }
      case 0x74: { // TUPLE
        const m = popMark(marks, at, "TUPLE");
        fence = topMark(marks);
        const t = stack.slice(m);
        stack.length = m;
        if (anyGlobal) st.placeAll(t, at);
        st.nestAll(t, t, at);
        stack.push(asTuple(t));
        items++;
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        items++;
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        items++;
        break;
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        items++;
        break;
      case 0x61: { // APPEND
        if (stack.length - fence < 2) underflow(at, "APPEND");
        const x = stack.pop();
        const list = stack[stack.length - 1];
        if (!Array.isArray(list) || Object.isFrozen(list)) {
          fail(`APPEND to a ${typeName(list)}`, at);
        }
        st.modifiable(list, at);
        st.append(list, x, at, anyGlobal);
        break;
      }
      case 0x65: { // APPENDS
        const m = popMark(marks, at, "APPENDS");
        fence = topMark(marks);
        if (m - fence < 1) underflow(at, "APPENDS");
        const list = stack[m - 1];
        if (!Array.isArray(list) || Object.isFrozen(list)) {
          fail(`APPENDS to a ${typeName(list)}`, at);
        }
        st.modifiable(list, at);
        const n = stack.length;
        for (let i = m; i < n; i++) st.append(list, stack[i], at, anyGlobal);
        stack.length = m;
        break;
      }
      case 0x73: { // SETITEM
        if (stack.length - fence < 3) underflow(at, "SETITEM");
        const v = stack.pop();
        const k = stack.pop();
        const d = stack[stack.length - 1];
        if (!(d instanceof Map)) fail(`SETITEM on a ${typeName(d)}`, at);
        st.modifiable(d, at);
        st.setItem(d, k, v, at, anyGlobal);
        break;
      }
      case 0x75: { // SETITEMS
        const m = popMark(marks, at, "SETITEMS");
        fence = topMark(marks);
        if (m - fence < 1) underflow(at, "SETITEMS");
        const d = stack[m - 1];
        if (!(d instanceof Map)) fail(`SETITEMS on a ${typeName(d)}`, at);
        const n = stack.length;
        if ((n - m) % 2 !== 0) fail("SETITEMS has a key without a value", at);
        st.modifiable(d, at);
        for (let i = m; i < n; i += 2) {
          st.setItem(d, stack[i], stack[i + 1], at, anyGlobal);
        }
        stack.length = m;
        break;
      }
      case 0x90: { // ADDITEMS
        const m = popMark(marks, at, "ADDITEMS");
        fence = topMark(marks);
        if (m - fence < 1) underflow(at, "ADDITEMS");
        const set = stack[m - 1];
        if (!(set instanceof Set) || frozensetBranded(set)) {
          fail(`ADDITEMS on a ${typeName(set)}`, at);
        }
        st.modifiable(set, at);
        st.addAll(set, stack, m, at, anyGlobal, "a set item");
        stack.length = m;
        break;
      }
      case 0x91: { // FROZENSET
        const m = popMark(marks, at, "FROZENSET");
        fence = topMark(marks);
        const set = new Set<unknown>();
        st.addAll(set, stack, m, at, anyGlobal, "a frozenset item");
        stack.length = m;
        stack.push(asFrozenset(set));
        items++;
        break;
      }
      case 0x28: // MARK
        marks.push(stack.length);
        fence = stack.length;
        break;
      case 0x30: // POP
        if (stack.length - fence < 1) underflow(at, "POP");
        stack.pop();
        break;
      case 0x31: // POP_MARK
        stack.length = popMark(marks, at, "POP_MARK");
        fence = topMark(marks);
        break;
      case 0x32: { // DUP
        if (stack.length - fence < 1) underflow(at, "DUP");
        const x = stack[stack.length - 1];
        if (typeof x === "object" && x !== null) st.seal(x);
        stack.push(x);
        items += st.sizeOf(x);
        if (items > MAX_ITEMS) tooMany(at);
        break;
      }
      case 0x94: // MEMOIZE
      case 0x71: // BINPUT
      case 0x72: { // LONG_BINPUT
        if (stack.length - fence < 1) underflow(at, "MEMOIZE");
        let i: number;
        if (code === 0x94) {
          i = memo.length + (st.sparse?.size ?? 0);
        } else {
          const w = code === 0x71 ? 1 : 4;
          if (limit - pos < w) truncated(at, w, limit - pos);
          i = w === 1 ? b[pos]! : u32(b, pos);
          pos += w;
        }
        const x = stack[stack.length - 1];
        if (i === memo.length) {
          memo.push(x);
          if (st.sparse !== null) st.sparse.delete(i);
        } else if (i < memo.length) {
          memo[i] = x;
        } else {
          (st.sparse ??= new Map()).set(i, x);
        }
        break;
      }
      case 0x68: // BINGET
      case 0x6a: { // LONG_BINGET
        const w = code === 0x68 ? 1 : 4;
        if (limit - pos < w) truncated(at, w, limit - pos);
        const i = w === 1 ? b[pos]! : u32(b, pos);
        pos += w;
        let x: unknown;
        if (i < memo.length) {
          x = memo[i];
        } else if (st.sparse !== null && st.sparse.has(i)) {
          x = st.sparse.get(i);
        } else {
          fail(`BINGET of memo slot ${i}, which was never set`, at);
        }
        if (typeof x === "object" && x !== null) st.seal(x);
        stack.push(x);
        items += st.sizeOf(x);
        if (items > MAX_ITEMS) tooMany(at);
        break;
      }
      case 0x95: { // FRAME
        if (frameEnd >= 0) fail("a FRAME starts inside another frame", at);
        if (limit - pos < 8) truncated(at, 8, limit - pos);
        const n = u64(b, pos);
        pos += 8;
        if (n > end - pos) tooLong(at, "FRAME", n, end - pos);
        frameEnd = pos + n;
        limit = frameEnd;
        break;
      }
      case 0x63: { // GLOBAL
        const module = line(b, pos, limit, at);
        pos += module.length + 1;
        const name = line(b, pos, limit, at);
        pos += name.length + 1;
        st.at = at;
        stack.push(
          st.lookup(decodeName(b, module), decodeName(b, name), proto, profile),
        );
        anyGlobal = true;
        items++;
        break;
      }
      case 0x93: { // STACK_GLOBAL
        if (stack.length - fence < 2) underflow(at, "STACK_GLOBAL");
        const name = stack.pop();
        const module = stack.pop();
        if (typeof name !== "string" || typeof module !== "string") {
          fail(
            `STACK_GLOBAL needs two str, got ${typeName(module)} and ${
              typeName(name)
            }`,
            at,
          );
        }
        st.at = at;
        stack.push(st.lookup(module, name, proto, profile));
        anyGlobal = true;
        break;
      }
      case 0x52: // REDUCE
      case 0x81: { // NEWOBJ
        const opname = code === 0x52 ? "REDUCE" : "NEWOBJ";
        if (stack.length - fence < 2) underflow(at, opname);
        const args = stack.pop();
        const callee = stack.pop();
        stack.push(
          st.call(callee, args, code === 0x52 ? "reduce" : "newobj", at),
        );
        break;
      }
      case 0x62: { // BUILD
        if (stack.length - fence < 2) underflow(at, "BUILD");
        let state = stack.pop();
        if (anyGlobal) state = st.place(state, at);
        stack[stack.length - 1] = st.build(stack[stack.length - 1], state, at);
        break;
      }
      case 0x80: // PROTO
        fail("PROTO appears again", at);
        break;
      case 0x2e: { // STOP
        if (marks.length > 0) fail("a MARK is still open at STOP", at);
        if (stack.length !== 1) {
          fail(
            stack.length === 0
              ? "the stack is empty at STOP"
              : `${stack.length} values are left at STOP (one is expected)`,
            at,
          );
        }
        if (pos !== end) {
          fail(`${end - pos} bytes follow STOP`, pos);
        }
        if (items > MAX_ITEMS) tooMany(at);
        return anyGlobal ? st.place(stack[0], at) : stack[0];
      }
      default: {
        const name = REFUSED.get(code);
        fail(
          name === undefined
            ? `opcode 0x${hex2(code)} is unknown`
            : `opcode ${name} (0x${hex2(code)}) is not allowed`,
          at,
        );
      }
    }
  }
}

/** Pops the last MARK: the stack index where its items start. */
function popMark(marks: number[], at: number, opname: string): number {
  const m = marks.pop();
  if (m === undefined) fail(`${opname} without a MARK`, at);
  return m;
}

function topMark(marks: number[]): number {
  return marks.length > 0 ? marks[marks.length - 1]! : 0;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

function truncated(at: number, need: number, have: number): never {
  fail(
    `an operand of ${need} bytes is cut off (${have} bytes remain in the data or frame)`,
    at,
  );
}

function tooLong(at: number, what: string, n: number, have: number): never {
  fail(
    `a ${what} of ${n} bytes is longer than the ${have} bytes that remain of the data or frame`,
    at,
  );
}

function underflow(at: number, opname: string): never {
  fail(`${opname} finds too few values on the stack (or above its MARK)`, at);
}

function tooMany(at: number): never {
  fail(
    `it holds more than ${MAX_ITEMS} values after memo expansion`,
    at,
  );
}

function u32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) +
    b[p + 3]! * 0x1000000;
}

function u64(b: Uint8Array, p: number): number {
  const hi = u32(b, p + 4);
  // Anything from 2^53 up is larger than any input anyway.
  return hi >= 0x200000
    ? Number.MAX_SAFE_INTEGER
    : hi * 0x100000000 + u32(b, p);
}

/** A GLOBAL operand line (without its newline), as byte offsets. */
function line(
  b: Uint8Array,
  pos: number,
  limit: number,
  at: number,
): Uint8Array {
  const stop = Math.min(limit, pos + MAX_GLOBAL_NAME + 1);
  for (let i = pos; i < stop; i++) {
    if (b[i] === 0x0a) return b.subarray(pos, i);
  }
  return fail(
    limit - pos > MAX_GLOBAL_NAME
      ? `a GLOBAL name is longer than ${MAX_GLOBAL_NAME} bytes`
      : "a GLOBAL name is cut off",
    at,
  );
}

function decodeName(_b: Uint8Array, part: Uint8Array): string {
  return decodeWtf8(part, 0, part.length) ?? "\ufffd";
}

/** n bytes of two's-complement little-endian. */
function decodeLong(
  b: Uint8Array,
  p: number,
  n: number,
  bigints: boolean,
): number | bigint {
  if (n === 0) return bigints ? 0n : 0;
  if (n <= 6) {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < n; i++) {
      v += b[p + i]! * scale;
      scale *= 256;
    }
    if (b[p + n - 1]! >= 0x80) v -= scale;
    return bigints ? BigInt(v) : v;
  }
  let hex = "";
  for (let i = n - 1; i >= 0; i--) {
    const c = b[p + i]!;
    hex += (c < 16 ? "0" : "") + c.toString(16);
  }
  let v = BigInt("0x" + hex);
  if (b[p + n - 1]! >= 0x80) v -= 1n << BigInt(8 * n);
  if (
    !bigints && v >= -9007199254740991n && v <= 9007199254740991n
  ) return Number(v);
  return v;
}
