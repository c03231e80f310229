// One wire shape for an error thrown on the other side of a boundary (a Pool
// task in a worker thread or child process, a manager's referent), shared by
// every area: `errorToWire` on the side that caught it, `errorFromWire` on
// the side that re-raises it as a `RemoteError`.
//
// A wire is plain data (strings, numbers, plain objects and the values its
// fields hold), so it travels by structured clone (postMessage) and by
// msgpack alike. What is kept of a thrown `Error`: its name (a subclass's
// own, e.g. "QuotaError"), message, stack, its own enumerable fields whose
// values can be cloned (`code`, `errno`, …), and its `cause` (as a wire
// itself, so a chain of errors survives). A thrown non-Error value travels as
// itself when it can be cloned.

import { RemoteError } from "./errors.ts";

/** An error as it crosses a boundary. */
export interface ErrorWire {
  /** The error's `name` (`"RangeError"`, a subclass's own name, …). */
  name: string;
  /** The error's message (`String(value)` for a thrown non-Error). */
  message: string;
  /** The stack on the side that threw, when there was one. */
  stack?: string;
  /** The error's own enumerable fields that can be cloned (`code`, …). */
  fields?: Record<string, unknown>;
  /** The error's `cause`, when it had one that can be carried. */
  cause?: ErrorWire;
  /** Set when a non-Error value was thrown: the value itself (when cloneable). */
  thrown?: { value?: unknown };
}

/** Keys never copied from a wire's `fields` onto the rebuilt errors. */
const RESERVED = new Set([
  "name",
  "message",
  "stack",
  "cause",
  "remoteName",
  "remoteMessage",
  "remoteStack",
  "__proto__",
  "constructor",
]);
/** A chain of causes deeper than this is cut. */
const MAX_DEPTH = 8;

function cloneable(v: unknown): boolean {
  const t = typeof v;
  if (v === null || t === "string" || t === "number" || t === "boolean") {
    return true;
  }
  if (t === "undefined" || t === "function" || t === "symbol") return false;
  if (t === "bigint") return true;
  try {
    structuredClone(v);
    return true;
  } catch {
    return false;
  }
}

function describe(v: unknown): string {
  try {
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/**
 * Converts a thrown value to its wire form. Never throws; the result can be
 * structured-cloned and msgpacked.
 */
export function errorToWire(err: unknown): ErrorWire {
  return toWire(err, 0);
}

function toWire(err: unknown, depth: number): ErrorWire {
  if (!(err instanceof Error)) {
    const wire: ErrorWire = {
      name: typeof err === "object" && err !== null ? "Error" : typeof err,
      message: describe(err),
      thrown: {},
    };
    if (cloneable(err)) wire.thrown!.value = err;
    return wire;
  }
  let name: string;
  let message: string;
  try {
    name = String(err.name);
    message = String(err.message);
  } catch {
    name = "Error";
    message = describe(err);
  }
  const wire: ErrorWire = { name, message };
  try {
    if (typeof err.stack === "string") wire.stack = err.stack;
    for (const k of Object.keys(err)) {
      if (RESERVED.has(k)) continue;
      const v = (err as unknown as Record<string, unknown>)[k];
      if (!cloneable(v)) continue;
      (wire.fields ??= {})[k] = v;
    }
    if ("cause" in err && err.cause !== undefined && depth < MAX_DEPTH) {
      wire.cause = toWire(err.cause, depth + 1);
    }
  } catch {
    // a getter that throws: keep what we have
  }
  return wire;
}

/** True when `v` has the shape of an {@link ErrorWire} (for data from a peer). */
export function isErrorWire(v: unknown): v is ErrorWire {
  if (typeof v !== "object" || v === null) return false;
  const w = v as ErrorWire;
  return typeof w.name === "string" && typeof w.message === "string" &&
    (w.stack === undefined || typeof w.stack === "string") &&
    (w.fields === undefined ||
      (typeof w.fields === "object" && w.fields !== null)) &&
    (w.thrown === undefined ||
      (typeof w.thrown === "object" && w.thrown !== null));
}

function copyFields(target: object, fields: Record<string, unknown>): void {
  for (const k of Object.keys(fields)) {
    if (RESERVED.has(k)) continue;
    Object.defineProperty(target, k, {
      value: fields[k],
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
}

/** The original thrown value, rebuilt (an Error with its name, fields and cause). */
function original(wire: ErrorWire, depth: number): unknown {
  if (wire.thrown) return wire.thrown.value;
  const e = new Error(wire.message);
  Object.defineProperty(e, "name", {
    value: wire.name,
    writable: true,
    configurable: true,
  });
  if (wire.stack !== undefined) e.stack = wire.stack;
  if (wire.fields) copyFields(e, wire.fields);
  if (isErrorWire(wire.cause) && depth < MAX_DEPTH) {
    Object.defineProperty(e, "cause", {
      value: original(wire.cause, depth + 1),
      writable: true,
      configurable: true,
    });
  }
  return e;
}

/**
 * Rebuilds the error a peer reported: a `RemoteError` with the remote name,
 * message and stack, the error's own fields (e.g. `code`) as its own fields,
 * and `cause` holding the original (rebuilt as an Error with its name,
 * fields and cause; or the thrown non-Error value). A malformed wire gives a
 * `RemoteError` named `ProtocolError`.
 */
export function errorFromWire(wire: unknown): RemoteError {
  if (!isErrorWire(wire)) {
    return new RemoteError({
      name: "ProtocolError",
      message: "The peer sent a malformed error",
    });
  }
  const cause = original(wire, 0);
  const err = new RemoteError(
    { name: wire.name, message: wire.message, stack: wire.stack },
    cause !== undefined ? { cause } : undefined,
  );
  if (wire.fields) copyFields(err, wire.fields);
  return err;
}
