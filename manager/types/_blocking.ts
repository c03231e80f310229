// Checks of blocking options and timeouts, run by the proxies (so a bad
// `{ block, timeout }` is refused before anything is sent) and again by the
// referents on the server. A leaf: it imports only the options' types.

import type { BlockingOptions } from "./options.ts";

/**
 * Validates a `timeout` in ms: `undefined`/`null` (and, when `minusOneIsForever`,
 * `-1`) mean forever; other negative or non-finite values are a RangeError.
 */
export function checkTimeout(
  timeout: unknown,
  minusOneIsForever = false,
): number | undefined {
  if (timeout === undefined || timeout === null) return undefined;
  if (typeof timeout !== "number" || Number.isNaN(timeout)) {
    throw new TypeError(
      `Cannot wait as the timeout must be a number of milliseconds: received ${
        String(timeout)
      }`,
    );
  }
  if (timeout === Infinity) return undefined;
  if (timeout < 0) {
    if (minusOneIsForever && timeout === -1) return undefined;
    throw new RangeError(
      `Cannot wait as the timeout must be a non-negative number: received ${timeout}`,
    );
  }
  return timeout;
}

const FOREVER: { block: boolean; timeout: number | undefined } = Object.freeze({
  block: true,
  timeout: undefined,
});

/** Reads `{ block, timeout }` from an options argument. */
export function readBlocking(
  opts: unknown,
  minusOneIsForever = false,
): { block: boolean; timeout: number | undefined } {
  if (opts === undefined || opts === null) return FOREVER;
  if (typeof opts !== "object") {
    throw new TypeError(
      `Cannot wait as the options must be an object like { block, timeout }: received ${typeof opts}`,
    );
  }
  const o = opts as BlockingOptions;
  const block = o.block === undefined ? true : Boolean(o.block);
  const timeout = checkTimeout(o.timeout, minusOneIsForever);
  return { block, timeout };
}

/**
 * The `acquire(opts)` options check shared by the lock types: as blocking
 * calls, plus `-1` meaning forever and no timeout on a non-blocking call
 * (CPython's `Lock.acquire`).
 */
export function readAcquire(
  opts: unknown,
): { block: boolean; timeout: number | undefined } {
  const r = readBlocking(opts, true);
  if (!r.block && r.timeout !== undefined) {
    throw new RangeError(
      "Cannot acquire as a timeout cannot be given for a non-blocking call",
    );
  }
  return r;
}
