// Python calling conventions for the CPython door: binding `(args, kwds)` to
// a method's parameters with Python's TypeErrors, and seconds → ms.

import { PyException, pyTypeName } from "../protocol/_cpython_values.ts";

/** A parameter: its name, and its default when optional. */
export type Param = readonly [name: string, dflt?: unknown];

const REQUIRED: unique symbol = Symbol("required");

/** The keyword arguments of a request (a decoded Python dict). */
export type Kwds = ReadonlyMap<unknown, unknown>;

/** No keyword arguments. */
export const NO_KWDS: Kwds = new Map();

/**
 * Binds `args` and `kwds` to `params` as Python does for
 * `def fname(p1, p2=d2, …)`; throws Python's TypeError otherwise.
 */
export function bind(
  fname: string,
  args: readonly unknown[],
  kwds: Kwds,
  params: readonly Param[],
): unknown[] {
  if (args.length > params.length) {
    throw typeError(
      `${fname}() takes ${params.length} positional argument${
        params.length === 1 ? "" : "s"
      } but ${args.length} were given`,
    );
  }
  const out: unknown[] = params.map((p, i) =>
    i < args.length ? args[i] : p.length > 1 ? p[1] : REQUIRED
  );
  for (const [k, v] of kwds) {
    const i = params.findIndex((p) => p[0] === k);
    if (i < 0) {
      throw typeError(
        `${fname}() got an unexpected keyword argument ${
          typeof k === "string" ? `'${k}'` : String(k)
        }`,
      );
    }
    if (i < args.length) {
      throw typeError(`${fname}() got multiple values for argument '${k}'`);
    }
    out[i] = v;
  }
  const missing = params.filter((_, i) => out[i] === REQUIRED);
  if (missing.length > 0) {
    throw typeError(
      `${fname}() missing ${missing.length} required positional argument${
        missing.length === 1 ? "" : "s"
      }: ${missing.map((p) => `'${p[0]}'`).join(" and ")}`,
    );
  }
  return out;
}

/** Refuses keyword arguments (methods of types without named parameters). */
export function noKwds(fname: string, kwds: Kwds): void {
  if (kwds.size > 0) {
    throw typeError(`${fname}() takes no keyword arguments`);
  }
}

/** A Python TypeError. */
export function typeError(message: string): PyException {
  return new PyException("builtins.TypeError", [message]);
}

/** A Python ValueError. */
export function valueError(message: string): PyException {
  return new PyException("builtins.ValueError", [message]);
}

/** A Python RuntimeError. */
export function runtimeError(message: string): PyException {
  return new PyException("builtins.RuntimeError", [message]);
}

/** A Python int as a JS number (a TypeError naming `what` otherwise). */
export function pyInt(v: unknown, what: string): number {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "bigint") return Number(v);
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw typeError(
      `${what} must be an integer, not ${pyTypeName(v)}`,
    );
  }
  return v;
}

/** A Python truth value. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === 0n) {
    return false;
  }
  if (v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map || v instanceof Set) return v.size > 0;
  if (v instanceof Uint8Array) return v.length > 0;
  return true;
}

/**
 * A timeout in seconds (`None`: forever) as ms for the referents; a
 * TypeError for a value that is not a number.
 */
export function seconds(v: unknown, what = "timeout"): number | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === "bigint") v = Number(v);
  if (typeof v === "boolean") v = v ? 1 : 0;
  if (typeof v !== "number" || Number.isNaN(v)) {
    throw typeError(
      `'${what}' must be a number, not ${pyTypeName(v)}`,
    );
  }
  return v * 1000;
}
