/**
 * {@link taskSignal}: the AbortSignal of the pool task running in this worker.
 *
 * @module
 */

import { SIGNAL_SLOT } from "./_protocol.ts";

const NEVER = new AbortController().signal;

/**
 * The AbortSignal of the pool task currently running in this worker: it
 * aborts when the `signal` given to `applyAsync`/`mapAsync` aborts in the
 * main thread. Read it synchronously at the start of the task function (an
 * async task keeps its own reference across awaits). Outside a pool worker,
 * or for tasks submitted without a signal, it never aborts.
 *
 * A task that does not stop is terminated with its worker after the pool's
 * `abortGrace` period.
 *
 * @returns The running task's signal.
 *
 * @example Usage (in a task module)
 * ```ts
 * import { taskSignal } from "@mproc/multiprocessing/pool";
 *
 * export async function slow(ms: number): Promise<string> {
 *   const signal = taskSignal();
 *   await new Promise((resolve, reject) => {
 *     const t = setTimeout(resolve, ms);
 *     signal.addEventListener("abort", () => {
 *       clearTimeout(t);
 *       reject(signal.reason);
 *     }, { once: true });
 *   });
 *   return "done";
 * }
 * console.assert(taskSignal().aborted === false);
 * ```
 */
export function taskSignal(): AbortSignal {
  return ((globalThis as Record<symbol, unknown>)[SIGNAL_SLOT] as
    | AbortSignal
    | undefined) ?? NEVER;
}
