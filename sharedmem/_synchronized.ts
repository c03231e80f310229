// The `lock` option of Value and Array, and how their lock travels.

import { decodeFromPostSync, encodeForPost } from "../_transfer.ts";
import { Lock } from "./lock.ts";
import { RLock } from "./rlock.ts";

/** Resolves the `lock` option: `true` (default) makes a new RLock, as CPython. */
export function lockFrom(
  lock: unknown,
  what: string,
): Lock | RLock | undefined {
  if (lock === undefined || lock === true) return new RLock();
  if (lock === false) return undefined;
  if (lock instanceof Lock || lock instanceof RLock) return lock;
  throw new TypeError(
    `Cannot create the ${what} as its lock option is not a boolean, Lock or RLock`,
  );
}

/** The transferable form of a lock (or undefined). */
export function packLock(lock: Lock | RLock | undefined): unknown {
  return lock === undefined ? undefined : encodeForPost(lock).value;
}

/** Rebuilds a lock from `packLock`. */
export function unpackLock(packed: unknown): Lock | RLock | undefined {
  return packed === undefined
    ? undefined
    : decodeFromPostSync(packed) as Lock | RLock;
}

/** The error of `getLock()` on a value made with `lock: false`. */
export function noLock(what: string): Error {
  return new Error(
    `Cannot get the lock as this ${what} was created with lock: false`,
  );
}
