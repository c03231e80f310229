/**
 * A pool of Deno module Workers with CPython's `multiprocessing.Pool` API in
 * async form: `apply`, `applyAsync`, `map`, `mapAsync`, `starmap`,
 * `starmapAsync`, `imap`, `imapUnordered`, `close`, `terminate`, `join`.
 *
 * ```ts
 * import { Pool } from "@mproc/multiprocessing/pool";
 *
 * const tasks = "data:text/javascript,export const sqr = (x) => x * x;";
 * await using pool = new Pool(tasks, { processes: 2 });
 * console.assert((await pool.map("sqr", [1, 2, 3])).join() === "1,4,9");
 * ```
 *
 * @module
 */

export { Pool } from "./pool.ts";
export type {
  PoolOptions,
  PoolStats,
  PoolWorkerStats,
  TaskOptions,
} from "./options.ts";
export type {
  AnyFn,
  ApplyArgs,
  ApplyAsyncArgs,
  Fn,
  TaskArgs,
  TaskFn,
  TaskName,
  TaskResult,
} from "./task_types.ts";
export { AsyncResult } from "./async_result.ts";
export type { AsyncResultCallbacks } from "./async_result.ts";
export { PoolTerminatedError, WorkerLostError } from "./errors.ts";
export { taskSignal } from "./task_signal.ts";
export { RemoteError, TimeoutError } from "../errors.ts";
