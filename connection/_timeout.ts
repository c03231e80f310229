// The timeout argument of poll() and wait(): milliseconds, `undefined` to
// wait forever, zero or less not to wait (CPython's semantics). Anything
// else (a string, `null` — Python's `None` is `undefined` here — or NaN) is
// refused rather than read as "do not wait".

/** The error for a `timeout` that is not a number of ms, else undefined. */
export function badTimeout(what: string, timeout: unknown): Error | undefined {
  if (timeout === undefined) return undefined;
  if (typeof timeout !== "number" || Number.isNaN(timeout)) {
    return new TypeError(
      `Cannot ${what} as the timeout must be a number of milliseconds (leave it out to wait forever): received ${
        timeout === null
          ? "null"
          : typeof timeout === "number"
          ? "NaN"
          : typeof timeout
      }`,
    );
  }
  return undefined;
}
