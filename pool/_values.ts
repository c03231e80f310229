// Checks that values can cross postMessage (naming the offending path),
// and collects what to transfer.
// Shared by the host and the worker entry.

import { TRANSFER } from "../_transfer.ts";

const NOT_CLONEABLE = [
  [typeof WeakMap === "function" ? WeakMap : undefined, "a WeakMap"],
  [typeof WeakSet === "function" ? WeakSet : undefined, "a WeakSet"],
  [typeof WeakRef === "function" ? WeakRef : undefined, "a WeakRef"],
  [Promise, "a Promise"],
] as const;

/** What {@link inspectValue} found. */
export interface Inspection {
  /** True when the value holds a live handle (an object with `[TRANSFER]`). */
  handles: boolean;
}

/**
 * Walks `value` and throws a TypeError naming the first part that structured
 * clone cannot carry. When `transfer` is given, the ArrayBuffers met (also
 * those under typed arrays) are appended to it once each.
 */
export function inspectValue(
  value: unknown,
  path: string,
  transfer: Transferable[] | null,
  out: Inspection,
): void {
  const t = typeof value;
  if (t === "function") {
    throw new TypeError(`Cannot send ${path} as it is a function`);
  }
  if (t === "symbol") {
    throw new TypeError(`Cannot send ${path} as it is a symbol`);
  }
  if (value === null || t !== "object") return;
  walk(value as object, path, transfer, out, new Set(), 0);
}

/** The members of each transfer list being built (a list may get thousands). */
const members = new WeakMap<Transferable[], Set<Transferable>>();

/** Appends `b` to `transfer` unless it is there already (posting twice fails). */
function pushOnce(transfer: Transferable[], b: ArrayBuffer): void {
  let set = members.get(transfer);
  if (!set) members.set(transfer, set = new Set(transfer));
  if (set.size !== transfer.length) {
    // pushed to by someone else since: resync
    for (const t of transfer) set.add(t);
  }
  if (set.has(b)) return;
  set.add(b);
  transfer.push(b);
}

function walk(
  v: object,
  path: string,
  transfer: Transferable[] | null,
  out: Inspection,
  seen: Set<object>,
  depth: number,
): void {
  if (seen.has(v)) return;
  seen.add(v);
  if (typeof (v as Record<symbol, unknown>)[TRANSFER] === "function") {
    out.handles = true;
    return;
  }
  if (v instanceof ArrayBuffer) {
    if (transfer) pushOnce(transfer, v);
    return;
  }
  if (ArrayBuffer.isView(v)) {
    const b = v.buffer;
    if (transfer && b instanceof ArrayBuffer) pushOnce(transfer, b);
    return;
  }
  for (const [ctor, what] of NOT_CLONEABLE) {
    if (ctor && v instanceof ctor) {
      throw new TypeError(`Cannot send ${path} as it is ${what}`);
    }
  }
  if (depth > 256) return;
  const child = (x: unknown, p: () => string): void => {
    const t = typeof x;
    if (t === "function") {
      throw new TypeError(`Cannot send ${p()} as it is a function`);
    }
    if (t === "symbol") {
      throw new TypeError(`Cannot send ${p()} as it is a symbol`);
    }
    if (x !== null && t === "object") {
      walk(x as object, p(), transfer, out, seen, depth + 1);
    }
  };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (
        x === null ||
        (typeof x !== "object" && typeof x !== "function" &&
          typeof x !== "symbol")
      ) continue;
      child(x, () => `${path}[${i}]`);
    }
    return;
  }
  if (v instanceof Map) {
    for (const [k, x] of v) {
      child(k, () => `${path} (a Map key)`);
      child(x, () => `${path}.get(${String(k)})`);
    }
    return;
  }
  if (v instanceof Set) {
    for (const x of v) child(x, () => `${path} (a Set item)`);
    return;
  }
  if (v instanceof Date || v instanceof RegExp || v instanceof Error) return;
  if (typeof Blob === "function" && v instanceof Blob) return;
  if (typeof MessagePort === "function" && v instanceof MessagePort) return;
  for (const k of Object.keys(v)) {
    child((v as Record<string, unknown>)[k], () => `${path}.${k}`);
  }
}

/** True when every element is a number (so the array can travel as a Float64Array). */
export function allNumbers(
  a: ArrayLike<unknown>,
  start: number,
  end: number,
): boolean {
  for (let i = start; i < end; i++) if (typeof a[i] !== "number") return false;
  return true;
}

/** Copies `a[start..end)` (all numbers) into a new Float64Array. */
export function packNumbers(
  a: ArrayLike<unknown>,
  start: number,
  end: number,
): Float64Array<ArrayBuffer> {
  const f = new Float64Array(end - start);
  for (let i = start; i < end; i++) f[i - start] = a[i] as number;
  return f;
}

/** True for values structured clone rejects (functions, symbols) at top level. */
export function isDataCloneError(e: unknown): boolean {
  return e instanceof DOMException && e.name === "DataCloneError";
}
