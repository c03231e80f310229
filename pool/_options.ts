// Validation of the Pool's options (PoolOptions, see options.ts) and of the
// function argument of its task methods.

import type { PoolOptions } from "./options.ts";
import { missingFlagError, workerOptionsEnabled } from "./_permissions.ts";
import { inspectValue } from "./_values.ts";

/** The checked options of a Pool, defaults filled in. */
export interface PoolSettings {
  /** The task module's URL (resolved). */
  module: string;
  processes: number;
  initializer: string | undefined;
  initargs: unknown[];
  maxtasksperchild: number | undefined;
  signal: AbortSignal | undefined;
  /** Kinds left out of an object are inherited. */
  permissions: Deno.PermissionOptions | undefined;
  abortGrace: number;
  transfer: boolean;
  runtime: "worker" | "process";
  memoryLimitMb: number | undefined;
}

const INHERIT_ALL = {
  env: "inherit",
  ffi: "inherit",
  import: "inherit",
  net: "inherit",
  read: "inherit",
  run: "inherit",
  sys: "inherit",
  write: "inherit",
} as Deno.PermissionOptionsObject;
/** The longest delay setTimeout accepts (ms). */
export const MAX_DELAY = 2 ** 31 - 1;
/** The URL of a task module given as a URL, an absolute URL or a path (relative to the cwd). */
export function resolveModule(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== "string" || module === "") {
    throw new TypeError(
      "Cannot create a pool as the module is not a URL or a non-empty string",
    );
  }
  if (/^[a-zA-Z][a-zA-Z\d+.-]+:/.test(module)) return new URL(module).href;
  if (module.startsWith("/")) return new URL(`file://${module}`).href;
  return new URL(module, `file://${Deno.cwd()}/`).href;
}

/** The export name a task method is given (a name or the function); throws a TypeError. */
export function fnName(fn: unknown): string {
  if (typeof fn === "string") {
    if (fn === "") {
      throw new TypeError("Cannot run a task as the function name is empty");
    }
    return fn;
  }
  if (typeof fn === "function") {
    if (!fn.name) {
      throw new TypeError(
        "Cannot run an anonymous function: pass an export of the task module or its name",
      );
    }
    return fn.name;
  }
  throw new TypeError(
    `Cannot run a task as fn is not a function or a name: received ${typeof fn}`,
  );
}

/**
 * Checks the Pool constructor's arguments; throws a TypeError or RangeError
 * naming the bad option.
 */
export function checkPoolOptions(
  module: string | URL,
  options: PoolOptions,
): PoolSettings {
  const {
    processes = navigator.hardwareConcurrency || 1,
    initializer,
    initargs = [],
    maxtasksperchild,
    signal,
    permissions,
    abortGrace = 1000,
    transfer = false,
    runtime = "worker",
    memoryLimitMb,
  } = options;
  if (runtime !== "worker" && runtime !== "process") {
    throw new TypeError(
      `Cannot use runtime ${String(runtime)}: it must be "worker" or "process"`,
    );
  }
  if (memoryLimitMb !== undefined) {
    if (runtime !== "process") {
      throw new TypeError(
        'Cannot cap the heap of Worker threads: use runtime: "process" with memoryLimitMb',
      );
    }
    if (!Number.isInteger(memoryLimitMb) || memoryLimitMb < 1) {
      throw new RangeError(
        `Cannot use memoryLimitMb ${
          String(memoryLimitMb)
        }: it must be a positive integer`,
      );
    }
  }
  if (!Number.isInteger(processes) || processes < 1) {
    throw new RangeError(
      `Cannot create a pool of ${
        String(processes)
      } processes: it must be a positive integer`,
    );
  }
  if (
    maxtasksperchild !== undefined &&
    (typeof maxtasksperchild !== "number" ||
      !Number.isInteger(maxtasksperchild) || maxtasksperchild < 1)
  ) {
    throw new RangeError(
      `Cannot use maxtasksperchild ${
        String(maxtasksperchild)
      }: it must be a positive integer`,
    );
  }
  if (
    initializer !== undefined &&
    (typeof initializer !== "string" || initializer === "")
  ) {
    throw new TypeError(
      "Cannot use the initializer as it is not the name of an export of the task module",
    );
  }
  if (!Array.isArray(initargs)) {
    throw new TypeError("Cannot use initargs as it is not an array");
  }
  if (
    typeof abortGrace !== "number" || !(abortGrace >= 0) ||
    (abortGrace > MAX_DELAY && abortGrace !== Infinity)
  ) {
    throw new RangeError(
      `Cannot use abortGrace ${
        String(abortGrace)
      }: it must be a number of ms from 0 to ${MAX_DELAY}, or Infinity`,
    );
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError("Cannot use the signal as it is not an AbortSignal");
  }
  initargs.forEach((a, i) =>
    inspectValue(a, `initargs[${i}]`, null, { handles: false })
  );
  if (
    permissions !== undefined && runtime === "worker" &&
    workerOptionsEnabled() === false
  ) {
    throw missingFlagError();
  }
  signal?.throwIfAborted();
  return {
    module: resolveModule(module),
    processes,
    initializer,
    initargs,
    maxtasksperchild,
    signal,
    permissions: permissions === undefined || typeof permissions === "string"
      ? permissions
      : { ...INHERIT_ALL, ...permissions },
    abortGrace,
    transfer,
    runtime,
    memoryLimitMb,
  };
}
