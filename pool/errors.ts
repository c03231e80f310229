/**
 * Errors raised by {@link Pool} results.
 *
 * @module
 */

/**
 * The worker running a task died (an uncaught error or unhandled rejection,
 * `self.close()`, `Deno.exit()`, termination after an abort's grace period)
 * before the task finished. Only the tasks that worker held fail this way;
 * the pool replaces the worker and keeps serving.
 *
 * @example Usage
 * ```ts
 * import { WorkerLostError } from "@mproc/multiprocessing/pool";
 *
 * const err = new WorkerLostError("Cannot finish the task as its worker exited with code 3");
 * console.assert(err.name === "WorkerLostError");
 * ```
 */
export class WorkerLostError extends Error {
  /**
   * Creates the error.
   *
   * @param message How the worker was lost.
   * @param options Standard error options (`cause`: what killed the worker, when known).
   */
  constructor(
    message = "Cannot finish the task as its worker was lost",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "WorkerLostError";
  }
}

/**
 * The pool was terminated (`terminate()`, its `signal` aborted, or a worker
 * failed to start) while the task was pending.
 *
 * @example Usage
 * ```ts
 * import { PoolTerminatedError } from "@mproc/multiprocessing/pool";
 *
 * const err = new PoolTerminatedError();
 * console.assert(err.name === "PoolTerminatedError");
 * ```
 */
export class PoolTerminatedError extends Error {
  /**
   * Creates the error.
   *
   * @param message Why the task will not finish.
   * @param options Standard error options (`cause`).
   */
  constructor(
    message = "Cannot finish the task as the pool was terminated",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "PoolTerminatedError";
  }
}
