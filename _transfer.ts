// Shared encoding of values that cross a postMessage boundary (Pool task
// arguments and results, values posted to a Worker) while carrying live
// handles: Pipe() ends (a MessagePort), sharedmem objects (a
// SharedArrayBuffer), manager proxies (address + token + authkey).
//
// A class opts in by implementing `[TRANSFER]()`, returning a tag, the URL of
// the module that registers its reviver (so the receiving side can import it
// on demand), plain data and the transferables to move. `encodeForPost`
// replaces every such object with a marker; `decodeFromPost` on the other side
// turns markers back into live objects. Containers without handles are
// returned as they are (no copy).

/** The method a transferable handle implements. */
export const TRANSFER: unique symbol = Symbol.for(
  "@mproc/multiprocessing.transfer",
) as never;

/** What `[TRANSFER]()` returns. */
export interface TransferHandle {
  /** Identifies the reviver. */
  tag: string;
  /** URL of the module whose import registers the reviver for `tag`. */
  module: string;
  /** Structured-cloneable state. */
  data: unknown;
  /** Objects to move rather than copy (MessagePorts, ArrayBuffers). */
  transfer?: Transferable[];
}

/** An object that can travel as a live handle. */
export interface HasTransfer {
  [TRANSFER](): TransferHandle;
}

/** The key that marks an encoded handle. */
const MARK = "\u0000mproc";

interface Marker {
  [MARK]: string;
  m: string;
  d: unknown;
}

type Reviver = (data: unknown) => unknown;
const revivers = new Map<string, Reviver>();

/** Registers how to rebuild the objects whose handles carry `tag`. */
export function registerReviver(tag: string, reviver: Reviver): void {
  revivers.set(tag, reviver);
}

function hasTransfer(v: object): v is HasTransfer {
  return typeof (v as Partial<HasTransfer>)[TRANSFER] === "function";
}

function isPlainContainer(v: object): boolean {
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Replaces live handles inside `value` (arrays and plain objects are
 * searched) with markers, and collects what must be transferred.
 */
export function encodeForPost(
  value: unknown,
): { value: unknown; transfer: Transferable[] } {
  const transfer: Transferable[] = [];
  const out = encodeValue(value, transfer, 0);
  return { value: out, transfer };
}

function encodeValue(
  v: unknown,
  transfer: Transferable[],
  depth: number,
): unknown {
  if (v === null || typeof v !== "object") return v;
  if (hasTransfer(v)) {
    const h = v[TRANSFER]();
    if (h.transfer) transfer.push(...h.transfer);
    return { [MARK]: h.tag, m: h.module, d: h.data } satisfies Marker;
  }
  if (depth > 64 || !isPlainContainer(v)) return v;
  if (Array.isArray(v)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x === null || typeof x !== "object") continue;
      const y = encodeValue(x, transfer, depth + 1);
      if (y !== x) (copy ??= v.slice())[i] = y;
    }
    return copy ?? v;
  }
  let copy: Record<string, unknown> | undefined;
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const x = o[k];
    if (x === null || typeof x !== "object") continue;
    const y = encodeValue(x, transfer, depth + 1);
    if (y !== x) (copy ??= { ...o })[k] = y;
  }
  return copy ?? v;
}

function isMarker(v: object): v is Marker {
  return typeof (v as Record<string, unknown>)[MARK] === "string";
}

/** True when `value` holds at least one marker (cheap pre-check). */
function containsMarker(v: unknown, depth: number): boolean {
  if (v === null || typeof v !== "object") return false;
  if (isMarker(v)) return true;
  if (depth > 64 || !isPlainContainer(v)) return false;
  if (Array.isArray(v)) {
    for (const x of v) if (containsMarker(x, depth + 1)) return true;
    return false;
  }
  for (const k in v) {
    if (containsMarker((v as Record<string, unknown>)[k], depth + 1)) {
      return true;
    }
  }
  return false;
}

/**
 * Rebuilds live handles from markers. Synchronous when every needed reviver
 * is registered already; returns a Promise when a module must be imported
 * first. Use {@link decodeFromPost} unless the sync path matters.
 */
export function decodeFromPostSync(value: unknown): unknown {
  if (!containsMarker(value, 0)) return value;
  return decodeValue(value, 0);
}

/** Rebuilds live handles from markers, importing reviver modules as needed. */
export async function decodeFromPost(value: unknown): Promise<unknown> {
  if (!containsMarker(value, 0)) return value;
  const missing = new Set<string>();
  collectModules(value, missing, 0);
  for (const m of missing) await import(m);
  return decodeValue(value, 0);
}

function collectModules(v: unknown, out: Set<string>, depth: number): void {
  if (v === null || typeof v !== "object") return;
  if (isMarker(v)) {
    if (!revivers.has(v[MARK])) out.add(v.m);
    return;
  }
  if (depth > 64 || !isPlainContainer(v)) return;
  for (const x of Array.isArray(v) ? v : Object.values(v)) {
    collectModules(x, out, depth + 1);
  }
}

function decodeValue(v: unknown, depth: number): unknown {
  if (v === null || typeof v !== "object") return v;
  if (isMarker(v)) {
    const reviver = revivers.get(v[MARK]);
    if (!reviver) {
      throw new TypeError(
        `Cannot revive a handle as no reviver is registered for '${
          v[MARK]
        }': import ${v.m} first`,
      );
    }
    return reviver(v.d);
  }
  if (depth > 64 || !isPlainContainer(v)) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = decodeValue(v[i], depth + 1);
    return v;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) o[k] = decodeValue(o[k], depth + 1);
  return v;
}
