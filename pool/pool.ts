/**
 * {@link Pool}: a pool of Deno module Workers running exported functions of
 * a task module, with CPython's `multiprocessing.Pool` API in async form.
 *
 * @module
 */

import { assertNotImporting } from "../_import_guard.ts";
import { AsyncResult, settle } from "./async_result.ts";
import { checkChunksize, defaultChunksize } from "./_chunks.ts";
import { ApplyJob, IMapJob, type Job, MapJob } from "./_jobs.ts";
import {
  ApplySource,
  ArraySource,
  AsyncIterSource,
  checkItems,
  IterSource,
  type Source,
} from "./_sources.ts";
import { MODE_MAP, MODE_STAR, type RunMode } from "./_protocol.ts";
import { type Inspection, inspectValue } from "./_values.ts";
import { checkPoolOptions, fnName } from "./_options.ts";
import type { PoolOptions, PoolStats, TaskOptions } from "./options.ts";
import { PoolTerminatedError } from "./errors.ts";
import { Scheduler } from "./_scheduler.ts";
import { threadRuntime } from "./_thread_runtime.ts";
import { processRuntime } from "./_process_runtime.ts";
import type {
  AnyFn,
  ApplyArgs,
  ApplyAsyncArgs,
  Fn,
  TaskArgs,
  TaskResult,
} from "./task_types.ts";

function isSyncIterable(v: unknown): v is Iterable<unknown> {
  return v != null &&
    typeof (v as Iterable<unknown>)[Symbol.iterator] === "function";
}
function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return v != null &&
    typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
}

/**
 * A pool of Deno module Workers that run the exported functions of one task
 * module: CPython's `multiprocessing.Pool` with Promises, milliseconds and
 * `AbortSignal`.
 *
 * Functions are named by export name or given as the exported function
 * itself (checked: a function that is not the module's export of its name is
 * refused with a `TypeError`, never run in its stead); typing the pool with
 * the module (`Pool<typeof import("./tasks.ts")>`) checks arguments and
 * results. Async task functions are awaited in the
 * worker. A task that throws rejects its own result with a `RemoteError`; a
 * worker that dies (uncaught error, unhandled rejection, `self.close()`,
 * `Deno.exit()`) fails only the tasks it held with {@link WorkerLostError}
 * and is replaced.
 *
 * Tasks travel in batches: idle workers take runs of chunks from one shared
 * queue, several per message, sized so that one batch is about 2 ms of work;
 * results come back several per message too.
 *
 * `[Symbol.asyncDispose]` is `close()` + `join()` — it waits for queued and
 * running work to finish (CPython's `with Pool()` terminates instead); call
 * `terminate()` first to stop at once. An idle pool (nothing queued or
 * running) never keeps the program alive, so a script that forgets
 * `close()` still exits.
 *
 * Every worker imports the task module. A module that is both the script
 * and the task module must start its pool under `if (import.meta.main)`:
 * a Pool started while a worker imports the module throws (instead of every
 * worker starting a pool of its own).
 *
 * Promise-returning methods (and those returning an {@link AsyncResult})
 * reject, they never throw.
 *
 * @typeParam M The task module's type, e.g. `typeof import("./tasks.ts")`.
 *
 * @example Usage
 * ```ts
 * import { Pool } from "@mproc/multiprocessing/pool";
 *
 * const tasks = "data:text/javascript,export function sqr(x) { return x * x; }";
 * await using pool = new Pool(tasks, { processes: 2 });
 * console.assert((await pool.apply("sqr", [5])) === 25);
 * const squares = await pool.map("sqr", [1, 2, 3]);
 * console.assert(squares.join() === "1,4,9");
 * for await (const sq of pool.imap("sqr", [4, 5])) console.assert((sq as number) > 9);
 * ```
 *
 * @example Typed task module
 * ```ts ignore
 * import { Pool } from "@mproc/multiprocessing/pool";
 *
 * type Tasks = typeof import("./tasks.ts"); // export function sqr(x: number): number
 * await using pool = new Pool<Tasks>(new URL("./tasks.ts", import.meta.url));
 * const n: number = await pool.apply("sqr", [5]);
 * ```
 *
 * @example One module: the script and its tasks
 * ```ts ignore
 * import { Pool } from "@mproc/multiprocessing/pool";
 *
 * export function sqr(x: number): number {
 *   return x * x;
 * }
 *
 * if (import.meta.main) { // the workers import this module too
 *   await using pool = new Pool<typeof import("./main.ts")>(import.meta.url);
 *   console.log(await pool.map(sqr, [1, 2, 3]));
 * }
 * ```
 *
 * @example Restricted permissions (run with `--unstable-worker-options`)
 * ```ts ignore
 * import { Pool } from "@mproc/multiprocessing/pool";
 *
 * await using pool = new Pool(new URL("./tasks.ts", import.meta.url), {
 *   permissions: { net: false, write: false, run: false },
 * });
 * ```
 */
export class Pool<M = Record<string, AnyFn>> implements AsyncDisposable {
  #processes: number;
  #module: string;
  #s: Scheduler;
  /** Functions known to be exports of the task module. */
  #checked = new WeakSet<object>();
  /** The task module imported here (to check functions passed by reference). */
  #exports: Promise<Record<string, unknown>> | undefined;

  /**
   * Starts `processes` workers that import `module`.
   *
   * @param module URL of the task module (a `URL`, an absolute URL, or a
   * path; relative paths resolve against the working directory).
   * @param options Pool options.
   * @throws {TypeError} When an option has the wrong type.
   * @throws {RangeError} When `processes` or `maxtasksperchild` is not a positive integer.
   * @throws {Error} When `permissions` is given and `--unstable-worker-options` is missing,
   * or when called while a pool worker imports its task module (a module
   * that starts a Pool of itself at top level: put it under `if (import.meta.main)`).
   */
  constructor(module: string | URL, options: PoolOptions = {}) {
    assertNotImporting("Pool");
    const settings = checkPoolOptions(module, options);
    this.#processes = settings.processes;
    this.#module = settings.module;
    this.#s = new Scheduler(
      settings,
      settings.runtime === "process" ? processRuntime : threadRuntime,
    );
  }

  /**
   * Number of workers the pool keeps.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@mproc/multiprocessing/pool";
   *
   * await using pool = new Pool("data:text/javascript,export const f = () => 1;", { processes: 2 });
   * console.assert(pool.processes === 2);
   * ```
   */
  get processes(): number {
    return this.#processes;
  }

  // --------------------------------------------------------------- public

  #checkRunning(): void {
    if (this.#s.state !== "run") {
      throw new Error(
        `Cannot submit a task as the pool is not running: its state is '${this.#s.state}'`,
      );
    }
  }

  /**
   * Submits `src` once `fn` is known to name an export of the task module:
   * at once for a name or a function checked before; after the check for a
   * function met for the first time (meanwhile close() + join() waits).
   */
  #submit(
    fn: unknown,
    job: Job,
    src: Source,
    signal: AbortSignal | undefined,
  ): void {
    const check = this.#checkFn(fn);
    if (!check) return this.#s.submit(job, src, signal);
    const release = this.#s.hold();
    check.then(() => {
      if (job.settled) return src.cancel();
      if (signal?.aborted) {
        src.cancel();
        return job.fail(signal.reason);
      }
      if (this.#s.state === "terminate") {
        src.cancel();
        return job.fail(new PoolTerminatedError());
      }
      this.#s.submit(job, src, signal);
    }, (err) => {
      src.cancel();
      job.fail(err);
    }).finally(release);
  }

  /**
   * A function passed by reference must be the task module's export of its
   * name: the worker runs that export, so anything else (a local function of
   * the same name) would run the wrong code. The module is imported here,
   * once, to compare identities; undefined when nothing needs checking.
   * Not the main module: while its top-level await runs (the README's
   * one-file pool), importing it would wait for that very await, so there
   * the name is trusted (a look-alike would have to shadow an export).
   */
  #checkFn(fn: unknown): Promise<void> | undefined {
    if (typeof fn !== "function" || this.#checked.has(fn)) return undefined;
    if (this.#module === Deno.mainModule) return undefined;
    const name = fn.name;
    this.#exports ??= import(this.#module) as Promise<Record<string, unknown>>;
    return this.#exports.then((mod) => {
      if (mod[name] !== fn) {
        throw new TypeError(
          `Cannot run the function ${name} as it is not the export '${name}' of the task module ${this.#module}: pass that export (imported from the module) or its name`,
        );
      }
      this.#checked.add(fn);
    }, (err) => {
      throw new TypeError(
        `Cannot check that the function ${name} is an export of the task module ${this.#module} as the module cannot be imported here: pass its name instead`,
        { cause: err },
      );
    });
  }

  /**
   * Runs `fn(...args)` in a worker (CPython's `apply`).
   *
   * @typeParam F The task function (name or export).
   * @param fn An export of the task module, by name or the function itself.
   * @param args The arguments (structured-cloneable; live handles such as
   * `Pipe()` ends arrive working).
   * @returns A promise of the task's result; it rejects with a `RemoteError`
   * when the task throws, {@link WorkerLostError} when its worker dies, a
   * `TypeError` when an argument cannot be sent (the message names it) or
   * `fn` is not an export of the task module, an `Error` when the pool is
   * not running. It never throws.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@mproc/multiprocessing/pool";
   *
   * await using pool = new Pool("data:text/javascript,export const mul = (a, b) => a * b;", { processes: 1 });
   * console.assert((await pool.apply("mul", [6, 7])) === 42);
   * ```
   */
  apply<F extends Fn<M>>(
    fn: F,
    ...args: ApplyArgs<M, F>
  ): Promise<TaskResult<M, F>> {
    return this.#applyAsync(fn, args[0], undefined).get() as Promise<
      TaskResult<M, F>
    >;
  }

  /**
   * Submits `fn(...args)` and returns its {@link AsyncResult} at once
   * (CPython's `apply_async`).
   *
   * @typeParam F The task function (name or export).
   * @param fn An export of the task module, by name or the function itself.
   * @param args The argument array, then the options (`callback`,
   * `errorCallback`, `signal`).
   * @returns The pending result; it rejects (never throws) as {@link Pool.apply}'s promise.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@mproc/multiprocessing/pool";
   *
   * await using pool = new Pool("data:text/javascript,export const sqr = (x) => x * x;", { processes: 2 });
   * const results = [1, 2, 3].map((x) => pool.applyAsync("sqr", [x]));
   * console.assert((await Promise.all(results)).join() === "1,4,9");
   * ```
   */
  applyAsync<F extends Fn<M>>(
    fn: F,
    ...args: ApplyAsyncArgs<M, F>
  ): AsyncResult<TaskResult<M, F>> {
    return this.#applyAsync(
      fn,
      args[0],
      args[1] as TaskOptions<unknown> | undefined,
    ) as AsyncResult<TaskResult<M, F>>;
  }

  #applyAsync(
    fn: unknown,
    args: unknown[] | undefined,
    options: TaskOptions<unknown> | undefined,
  ): AsyncResult<unknown> {
    const result = new AsyncResult<unknown>(options);
    let name: string;
    let a: unknown[];
    const ins: Inspection = { handles: false };
    try {
      name = fnName(fn);
      a = args === undefined ? [] : args;
      if (!Array.isArray(a)) {
        throw new TypeError("Cannot run the task as args is not an array");
      }
      this.#checkRunning();
      for (let i = 0; i < a.length; i++) {
        const v = a[i];
        if (
          v !== null && typeof v !== "number" && typeof v !== "string" &&
          typeof v !== "boolean" && v !== undefined
        ) {
          inspectValue(v, `args[${i}]`, null, ins);
        }
      }
    } catch (err) {
      // Promise-returning methods reject, never throw (API.md §9).
      settle(result, false, err);
      return result;
    }
    const signal = options?.signal;
    const job = new ApplyJob(this.#s.nextJobId(), name, result);
    if (signal?.aborted) {
      job.fail(signal.reason);
      return result;
    }
    this.#submit(
      fn,
      job,
      new ApplySource(job, this.#s.host, a, ins.handles),
      signal,
    );
    return result;
  }

  /**
   * Applies `fn` to every item and resolves with the results in input order
   * (CPython's `map`). The input is read at once; the default chunksize is
   * CPython's `ceil(length / (4 × processes))`. The first failing chunk
   * rejects the whole map; as in CPython, the map's other chunks still run
   * (their results are dropped), and `close()` + `join()` waits for them.
   *
   * @typeParam F The task function (name or export).
   * @param fn An export of the task module, by name or the function itself.
   * @param iterable The items (sync or async iterable).
   * @param chunksize Items per task.
   * @returns A promise of the results. It rejects (never throws) with the
   * first failure, a `TypeError` when an item cannot be sent (the message
   * names it), a `RangeError` for a bad `chunksize`, an `Error` when the pool
   * is not running.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@mproc/multiprocessing/pool";
   *
   * await using pool = new Pool("data:text/javascript,export const sqr = (x) => x * x;", { processes: 2 });
   * const out = await pool.map("sqr", [0, 1, 2, 3], 2);
   * console.assert(out.join() === "0,1,4,9");
   * ```
   */
  map<F extends Fn<M>>(
    fn: F,
    iterable: Iterable<TaskArgs<M, F>[0]> | AsyncIterable<TaskArgs<M, F>[0]>,
    chunksize?: number,
  ): Promise<TaskResult<M, F>[]> {
    return this.#mapAsync(fn, iterable, chunksize, undefined, MODE_MAP)
      .get() as Promise<TaskResult<M, F>[]>;
  }

  /**
   * {@link Pool.map} returning an {@link AsyncResult} (CPython's `map_async`).
   *
   * @typeParam F The task function (name or export).
   * @param fn An export of the task module, by name or the function itself.
   * @param iterable The items (sync or async iterable).
   * @param chunksize Items per task.
   * @param options `callback`, `errorCallback`, `signal`.
   * @returns The pending result; it rejects (never throws) as {@link Pool.map}'s promise.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@mproc/multiprocessing/pool";
   *
   * await using pool = new Pool("data:text/javascript,export const sqr = (x) => x * x;", { processes: 2 });
   * const res = pool.mapAsync("sqr", [1, 2, 3]);
   * console.assert((await res.get(10_000)).join() === "1,4,9");
   * ```
   */
  mapAsync<F extends Fn<M>>(
    fn: F,
    iterable: Iterable<TaskArgs<M, F>[0]> | AsyncIterable<TaskArgs<M, F>[0]>,
    chunksize?: number,
    options?: TaskOptions<TaskResult<M, F>[]>,
  ): AsyncResult<TaskResult<M, F>[]> {
    return this.#mapAsync(
      fn,
      iterable,
      chunksize,
      options as TaskOptions<unknown[]> | undefined,
      MODE_MAP,
    ) as AsyncResult<TaskResult<M, F>[]>;
  }

  /**
   * Like {@link Pool.map} but each item is an argument array:
   * `fn(...item)` (CPython's `starmap`).
   *
   * @typeParam F The task function (name or export).
   * @param fn An export of the task module, by name or the function itself.
   * @param iterable Argument arrays (sync or async iterable).
   * @param chunksize Items per task.
   * @returns A promise of the results; it rejects (never throws) as
   * {@link Pool.map}'s, and with a `TypeError` when an item is not an array.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@mproc/multiprocessing/pool";
   *
   * await using pool = new Pool("data:text/javascript,export const mul = (a, b) => a * b;", { processes: 2 });
   * const out = await pool.starmap("mul", [[1, 2], [3, 4]]);
   * console.assert(out.join() === "2,12");
   * ```
   */
  starmap<F extends Fn<M>>(
    fn: F,
    iterable: Iterable<TaskArgs<M, F>> | AsyncIterable<TaskArgs<M, F>>,
    chunksize?: number,
  ): Promise<TaskResult<M, F>[]> {
    return this.#mapAsync(fn, iterable, chunksize, undefined, MODE_STAR)
      .get() as Promise<TaskResult<M, F>[]>;
  }

  /**
   * {@link Pool.starmap} returning an {@link AsyncResult} (CPython's `starmap_async`).
   *
   * @typeParam F The task function (name or export).
   * @param fn An export of the task module, by name or the function itself.
   * @param iterable Argument arrays (sync or async iterable).
   * @param chunksize Items per task.
   * @param options `callback`, `errorCallback`, `signal`.
   * @returns The pending result; it rejects (never throws) as {@link Pool.starmap}'s promise.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@mproc/multiprocessing/pool";
   *
   * await using pool = new Pool("data:text/javascript,export const mul = (a, b) => a * b;", { processes: 2 });
   * console.assert((await pool.starmapAsync("mul", [[2, 3]])).join() === "6");
   * ```
   */
  starmapAsync<F extends Fn<M>>(
    fn: F,
    iterable: Iterable<TaskArgs<M, F>> | AsyncIterable<TaskArgs<M, F>>,
    chunksize?: number,
    options?: TaskOptions<TaskResult<M, F>[]>,
  ): AsyncResult<TaskResult<M, F>[]> {
    return this.#mapAsync(
      fn,
      iterable,
      chunksize,
      options as TaskOptions<unknown[]> | undefined,
      MODE_STAR,
    ) as AsyncResult<TaskResult<M, F>[]>;
  }

  #mapAsync(
    fn: unknown,
    iterable: unknown,
    chunksize: number | undefined,
    options: TaskOptions<unknown[]> | undefined,
    mode: RunMode,
  ): AsyncResult<unknown[]> {
    const result = new AsyncResult<unknown[]>(options);
    const fail = (err: unknown): AsyncResult<unknown[]> => {
      settle(result as AsyncResult<unknown>, false, err);
      return result;
    };
    let name: string;
    let cs: number | undefined;
    try {
      name = fnName(fn);
      cs = checkChunksize(chunksize);
      this.#checkRunning();
    } catch (err) {
      // Promise-returning methods reject, never throw (API.md §9).
      return fail(err);
    }
    const signal = options?.signal;
    const start = (items: ArrayLike<unknown>): void => {
      const { numbers, handles } = checkItems(items, mode);
      const c = cs ?? defaultChunksize(items.length, this.#processes);
      const job = new MapJob(
        this.#s.nextJobId(),
        name,
        mode,
        c,
        items.length,
        result,
      );
      if (job.settled) return;
      if (signal?.aborted) return job.fail(signal.reason);
      this.#submit(
        fn,
        job,
        new ArraySource(job, this.#s.host, items, numbers, handles),
        signal,
      );
    };
    try {
      if (Array.isArray(iterable)) {
        start(iterable);
      } else if (isSyncIterable(iterable)) {
        start(Array.from(iterable));
      } else if (isAsyncIterable(iterable)) {
        // close() + join() waits for the input to be read and the map run
        const release = this.#s.hold();
        (async () => {
          const items: unknown[] = [];
          for await (const x of iterable) items.push(x);
          return items;
        })().then((items) => {
          if (this.#s.state === "terminate") {
            throw new PoolTerminatedError(
              "Cannot run the map as the pool was terminated while its input was read",
            );
          }
          start(items);
        }).catch(fail).finally(release);
      } else {
        throw new TypeError("Cannot map over the input as it is not iterable");
      }
    } catch (err) {
      return fail(err);
    }
    return result;
  }

  /**
   * Applies `fn` to every item, yielding results in input order as they
   * become available (CPython's `imap`). The input is read lazily: at most
   * `max(8 × processes × chunksize, 8192)` items ahead of the consumer, so an
   * infinite generator works. A failing chunk makes `next()` reject once;
   * iteration may continue after it. Breaking out of the loop stops reading
   * the input.
   *
   * @typeParam F The task function (name or export).
   * @param fn An export of the task module, by name or the function itself.
   * @param iterable The items (sync or async iterable, possibly infinite).
   * @param chunksize Items per task (default 1).
   * @returns An async iterator of the results (`next()` rejects when `fn`
   * is not an export of the task module).
   * @throws {TypeError} When `fn` is not a name or a named function, or the input is not iterable.
   * @throws {RangeError} When `chunksize` is not a positive integer.
   * @throws {Error} When the pool is not running.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@mproc/multiprocessing/pool";
   *
   * await using pool = new Pool("data:text/javascript,export const sqr = (x) => x * x;", { processes: 2 });
   * function* naturals() { for (let i = 0; ; i++) yield i; }
   * const out: number[] = [];
   * for await (const sq of pool.imap("sqr", naturals(), 10)) {
   *   if (out.push(sq as number) === 5) break;
   * }
   * console.assert(out.join() === "0,1,4,9,16");
   * ```
   */
  imap<F extends Fn<M>>(
    fn: F,
    iterable: Iterable<TaskArgs<M, F>[0]> | AsyncIterable<TaskArgs<M, F>[0]>,
    chunksize?: number,
  ): AsyncIterableIterator<TaskResult<M, F>> {
    return this.#imap(fn, iterable, chunksize, true) as AsyncIterableIterator<
      TaskResult<M, F>
    >;
  }

  /**
   * Like {@link Pool.imap} but yields results in completion order (CPython's
   * `imap_unordered`).
   *
   * @typeParam F The task function (name or export).
   * @param fn An export of the task module, by name or the function itself.
   * @param iterable The items (sync or async iterable, possibly infinite).
   * @param chunksize Items per task (default 1).
   * @returns An async iterator of the results (`next()` rejects when `fn`
   * is not an export of the task module).
   * @throws {TypeError} When `fn` is not a name or a named function, or the input is not iterable.
   * @throws {RangeError} When `chunksize` is not a positive integer.
   * @throws {Error} When the pool is not running.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@mproc/multiprocessing/pool";
   *
   * await using pool = new Pool("data:text/javascript,export const sqr = (x) => x * x;", { processes: 2 });
   * const out: number[] = [];
   * for await (const sq of pool.imapUnordered("sqr", [1, 2, 3])) out.push(sq as number);
   * console.assert(out.sort().join() === "1,4,9");
   * ```
   */
  imapUnordered<F extends Fn<M>>(
    fn: F,
    iterable: Iterable<TaskArgs<M, F>[0]> | AsyncIterable<TaskArgs<M, F>[0]>,
    chunksize?: number,
  ): AsyncIterableIterator<TaskResult<M, F>> {
    return this.#imap(fn, iterable, chunksize, false) as AsyncIterableIterator<
      TaskResult<M, F>
    >;
  }

  #imap(
    fn: unknown,
    iterable: unknown,
    chunksize: number | undefined,
    ordered: boolean,
  ): IMapJob {
    const name = fnName(fn);
    const c = checkChunksize(chunksize) ?? 1;
    this.#checkRunning();
    const job = new IMapJob(
      this.#s.nextJobId(),
      name,
      c,
      ordered,
      this.#s.host,
    );
    let src: Source;
    if (isSyncIterable(iterable)) {
      let it: Iterator<unknown>;
      try {
        it = iterable[Symbol.iterator]();
      } catch (err) {
        job.err(0, 1, err);
        job.setTotal(1);
        return job;
      }
      src = new IterSource(job, this.#s.host, it);
    } else if (isAsyncIterable(iterable)) {
      src = new AsyncIterSource(
        job,
        this.#s.host,
        iterable[Symbol.asyncIterator](),
      );
    } else {
      throw new TypeError("Cannot map over the input as it is not iterable");
    }
    job.source = src;
    this.#submit(fn, job, src, undefined);
    return job;
  }

  /**
   * Counters for progress and monitoring. To show the progress of a long
   * `imap`, count what the loop consumed, or poll `stats()` from a timer
   * (`completed` grows as results arrive, `queued + running` is what is left
   * of known work).
   *
   * @returns A snapshot of the counters.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@mproc/multiprocessing/pool";
   *
   * await using pool = new Pool("data:text/javascript,export const sqr = (x) => x * x;", { processes: 2 });
   * await pool.map("sqr", [1, 2, 3]);
   * const { completed, failed } = pool.stats();
   * console.assert(completed === 3 && failed === 0);
   * ```
   */
  stats(): PoolStats {
    return this.#s.stats();
  }

  /**
   * Stops accepting tasks; queued and running tasks still finish, then the
   * workers exit (CPython's `close`). Idempotent.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@mproc/multiprocessing/pool";
   *
   * const pool = new Pool("data:text/javascript,export const sqr = (x) => x * x;", { processes: 1 });
   * const res = pool.applyAsync("sqr", [3]);
   * pool.close();
   * await pool.join();
   * console.assert((await res) === 9);
   * ```
   */
  close(): void {
    this.#s.close();
  }

  /**
   * Stops the workers now; every pending result rejects with
   * {@link PoolTerminatedError} (CPython's `terminate`). Idempotent.
   *
   * @example Usage
   * ```ts
   * import { Pool, PoolTerminatedError } from "@mproc/multiprocessing/pool";
   *
   * const pool = new Pool("data:text/javascript,export const wait = () => new Promise(() => {});", { processes: 1 });
   * const res = pool.applyAsync("wait");
   * pool.terminate();
   * await pool.join();
   * await res.then(() => {}, (e) => console.assert(e instanceof PoolTerminatedError));
   * ```
   */
  terminate(): void {
    this.#s.terminate(new PoolTerminatedError());
  }

  /**
   * Resolves when every worker is gone, after {@link Pool.close} (once all
   * work is done) or {@link Pool.terminate} (CPython's `join`).
   *
   * @returns A promise that resolves when the pool has shut down; it
   * rejects when the pool is still running (call close() or terminate() first).
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@mproc/multiprocessing/pool";
   *
   * const pool = new Pool("data:text/javascript,export const f = () => 1;", { processes: 1 });
   * pool.close();
   * await pool.join();
   * ```
   */
  join(): Promise<void> {
    if (this.#s.state === "run") {
      return Promise.reject(
        new Error(
          "Cannot join the pool as it is still running: call close() or terminate() first",
        ),
      );
    }
    return this.#s.finished();
  }

  /**
   * `close()` then `join()`: queued work finishes first.
   *
   * @returns A promise that resolves when the pool has shut down.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@mproc/multiprocessing/pool";
   *
   * {
   *   await using pool = new Pool("data:text/javascript,export const f = () => 1;", { processes: 1 });
   *   console.assert((await pool.apply("f")) === 1);
   * } // close() + join() here
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.join();
  }
}
