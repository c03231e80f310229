/**
 * {@linkcode currentProcess}: the name and pid of this process.
 *
 * @module
 */

import { currentIdentity } from "./_current.ts";

/**
 * What {@linkcode currentProcess} returns.
 *
 * @example Usage
 * ```ts
 * import { type CurrentProcess, currentProcess } from "@mproc/multiprocessing/process";
 *
 * const me: CurrentProcess = currentProcess();
 * console.assert(me.name === "MainProcess" && me.pid === Deno.pid);
 * ```
 */
export interface CurrentProcess {
  /** "MainProcess", or the name of the {@linkcode Process} this child runs. */
  name: string;
  /** This process's pid. */
  pid: number;
}

/**
 * The process this code runs in, as CPython's `current_process()`: named
 * "MainProcess" in the program you started, and in a child started by a
 * {@linkcode Process} the name of that Process ("Process-1", or the `name`
 * option).
 *
 * @example Usage
 * ```ts
 * import { currentProcess } from "@mproc/multiprocessing/process";
 *
 * console.assert(currentProcess().name === "MainProcess");
 * console.assert(currentProcess().pid === Deno.pid);
 * ```
 *
 * @returns The name and pid.
 */
export function currentProcess(): CurrentProcess {
  return { name: currentIdentity().name, pid: Deno.pid };
}
