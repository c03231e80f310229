/**
 * {@linkcode activeChildren}: the children of this process still running.
 *
 * @module
 */

import { active } from "./_active.ts";
import type { Process } from "./process.ts";

/**
 * The {@linkcode Process}es started by this process that have not ended yet,
 * in start order (CPython's `active_children()`).
 *
 * @example Usage
 * ```ts
 * import { activeChildren } from "@mproc/multiprocessing/process";
 *
 * console.assert(Array.isArray(activeChildren()));
 * ```
 *
 * @returns The running children.
 */
export function activeChildren(): Process[] {
  return [...active] as Process[]; // only process.ts adds, only Processes
}
