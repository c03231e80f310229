/**
 * The option and counter types of {@link Pool}: {@link PoolOptions},
 * {@link TaskOptions}, {@link PoolStats}.
 *
 * @module
 */

import type { AsyncResultCallbacks } from "./async_result.ts";

/**
 * Options of the {@link Pool} constructor.
 *
 * @example Usage
 * ```ts
 * import { Pool, type PoolOptions } from "@mproc/multiprocessing/pool";
 *
 * const options: PoolOptions = { processes: 2, maxtasksperchild: 100 };
 * await using pool = new Pool("data:text/javascript,export const f = () => 1;", options);
 * console.assert(pool.processes === 2);
 * ```
 */
export interface PoolOptions {
  /**
   * Number of workers.
   *
   * @default {navigator.hardwareConcurrency}
   */
  processes?: number;
  /** Name of an export of the task module run once in each new worker (awaited). */
  initializer?: string;
  /**
   * Arguments of the initializer.
   *
   * @default {[]}
   */
  initargs?: unknown[];
  /** Replace a worker after it ran this many tasks (chunks); unlimited when unset. */
  maxtasksperchild?: number;
  /** Aborting it terminates the pool. */
  signal?: AbortSignal;
  /**
   * Deno permissions of the workers (`Worker` `deno.permissions`): `"none"`,
   * `"inherit"`, or an object such as `{ net: false, write: false }` in which
   * the kinds left out are inherited from the main thread (unlike a bare
   * Worker, where they would be denied — the workers must at least read the
   * task module). Deno 2.9 needs `--unstable-worker-options` for it, except
   * with `runtime: "process"`, where they are real `deno run` flags of each
   * worker process (a worker never gets more than this process has).
   */
  permissions?: Deno.PermissionOptions;
  /**
   * What a worker is: a Deno Worker thread, or a child process (`deno run`
   * of `Deno.execPath()`, CPython's "spawn"): isolated, so an out-of-memory
   * or a crash loses only that worker's tasks (`WorkerLostError`), its heap
   * can be capped (`memoryLimitMb`) and `permissions` need no unstable flag.
   * Values cross a process boundary by V8 serialization (structured clone's
   * types); Pipe() ends and sharedmem objects cannot (a TypeError).
   *
   * @default {"worker"}
   */
  runtime?: "worker" | "process";
  /** V8 heap cap of each worker process in MiB (`--max-old-space-size`); `runtime: "process"` only. */
  memoryLimitMb?: number;
  /**
   * Milliseconds a running task gets after its `signal` aborted before its
   * worker is terminated and replaced; `Infinity` never terminates it.
   *
   * @default {1000}
   */
  abortGrace?: number;
  /**
   * Transfer (rather than copy) the ArrayBuffers found in task arguments and
   * results; the sender's buffers are detached.
   *
   * @default {false}
   */
  transfer?: boolean;
}

/**
 * Options of {@link Pool.applyAsync}, {@link Pool.mapAsync} and {@link Pool.starmapAsync}.
 *
 * @example Usage
 * ```ts
 * import { Pool, type TaskOptions } from "@mproc/multiprocessing/pool";
 *
 * await using pool = new Pool("data:text/javascript,export const sqr = (x) => x * x;", { processes: 1 });
 * const seen: number[] = [];
 * const options: TaskOptions<unknown> = { callback: (v) => seen.push(v as number) };
 * await pool.applyAsync("sqr", [3], options);
 * console.assert(seen[0] === 9);
 * ```
 */
export interface TaskOptions<R> extends AsyncResultCallbacks<R> {
  /**
   * Cancels the task: a queued task never runs; a running one sees the abort
   * through {@link taskSignal} in the worker and, if still running after
   * `abortGrace` ms, its worker is terminated. The result rejects with
   * `signal.reason`.
   */
  signal?: AbortSignal;
}

/**
 * Counters for progress and monitoring, from {@link Pool.stats}.
 *
 * @example Usage
 * ```ts
 * import { Pool, type PoolStats } from "@mproc/multiprocessing/pool";
 *
 * await using pool = new Pool("data:text/javascript,export const sqr = (x) => x * x;", { processes: 1 });
 * const results = pool.imap("sqr", [1, 2, 3, 4]);
 * for await (const _ of results) {
 *   const s: PoolStats = pool.stats();
 *   console.assert(s.completed >= 1 && s.failed === 0);
 * }
 * ```
 */
export interface PoolStats {
  /** Configured worker count. */
  processes: number;
  /**
   * The workers serving now, one entry each (starting or ready; one draining an
   * aborted task is not listed): `workers.length` is their count, and with
   * `runtime: "process"` each entry's `pid` is its child process id.
   */
  workers: PoolWorkerStats[];
  /** Items waiting to be sent to a worker (lazy `imap` input not read yet is not counted). */
  queued: number;
  /** Items sent to workers and not finished yet. */
  running: number;
  /** Items finished successfully. */
  completed: number;
  /** Items that failed (thrown, worker lost, aborted while running). */
  failed: number;
}

/**
 * One worker in {@linkcode PoolStats.workers}.
 *
 * @example One entry a worker (threads have no pid)
 * ```ts
 * import { Pool } from "@mproc/multiprocessing/pool";
 *
 * await using pool = new Pool("data:text/javascript,export const one = () => 1;", { processes: 1 });
 * await pool.apply("one");
 * const { workers } = pool.stats();
 * console.assert(workers.length === 1 && workers[0].pid === undefined);
 * ```
 */
export interface PoolWorkerStats {
  /** The child process id (`runtime: "process"`, once it has connected); `undefined` for threads. */
  pid: number | undefined;
  /** Items sent to this worker and not finished yet. */
  running: number;
}
