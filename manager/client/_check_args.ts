// What a client refuses to send before anything is written: values that
// would reach the server as something else without an error. A function or
// a symbol would not encode at all; a live handle — a Pipe() end, a
// sharedmem object, a manager proxy nested in a value — or an object whose
// state is all private would arrive as `{}`. Each refusal is a TypeError
// naming the user's argument (`args[1]`, `args[0].conn`).

import { TRANSFER } from "../../_transfer.ts";

/** Deeper than this the codec's own checks take over. */
const MAX_DEPTH = 64;

function describe(o: object): string {
  const name = (o as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name !== "" ? name : "object";
}

function member(path: string, k: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(k)
    ? `${path}.${k}`
    : `${path}[${JSON.stringify(k)}]`;
}

function walk(v: unknown, path: string, depth: number, what: string): void {
  const t = typeof v;
  if (t === "function" || t === "symbol") {
    throw new TypeError(
      `Cannot ${what} as ${path} is a ${t}: only data crosses to the manager's server`,
    );
  }
  if (t !== "object" || v === null || depth > MAX_DEPTH) return;
  const o = v as object;
  if (typeof (o as Record<symbol, unknown>)[TRANSFER] === "function") {
    throw new TypeError(
      `Cannot ${what} as ${path} is a live handle (a ${
        describe(o)
      }) that the manager's server cannot hold: store plain data (for a proxy, pass it as an argument of its own or store its token)`,
    );
  }
  if (o instanceof Promise) {
    throw new TypeError(
      `Cannot ${what} as ${path} is a Promise: await it first`,
    );
  }
  if (ArrayBuffer.isView(o) || o instanceof ArrayBuffer || o instanceof Date) {
    return;
  }
  if (Array.isArray(o)) {
    for (let i = 0; i < o.length; i++) {
      walk(o[i], `${path}[${i}]`, depth + 1, what);
    }
    return;
  }
  if (o instanceof Map) {
    for (const [k, x] of o) {
      walk(x, `${path}.get(${String(k)})`, depth + 1, what);
    }
    return;
  }
  if (o instanceof Set) {
    let i = 0;
    for (const x of o) walk(x, `${path}[${i++}]`, depth + 1, what);
    return;
  }
  const proto = Object.getPrototypeOf(o);
  if (
    proto !== Object.prototype && proto !== null && !(o instanceof Error) &&
    Object.keys(o).length === 0
  ) {
    throw new TypeError(
      `Cannot ${what} as ${path} is a ${
        describe(o)
      } with no enumerable fields: it would arrive as {} (send plain data)`,
    );
  }
  for (const k in o) {
    walk((o as Record<string, unknown>)[k], member(path, k), depth + 1, what);
  }
}

/**
 * Refuses arguments that cannot reach the server as they are.
 *
 * @param what What the call does, for the message (`call put()`).
 * @throws {TypeError} naming the argument (`args[0].conn`).
 */
export function checkArgs(what: string, args: unknown[]): void {
  for (let i = 0; i < args.length; i++) walk(args[i], `args[${i}]`, 0, what);
}
