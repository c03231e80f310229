/**
 * {@link Pool}: a pool of Deno module Workers running exported functions of
 * a task module, with CPython's `multiprocessing.Pool` API in async form.
 *
 * @module
 */

import { errorFromWire } from "../_error_wire.ts";
import { assertNotImporting } from "../_import_guard.ts";
import {
  decodeFromPost as decodeAsync,
  decodeFromPostSync,
  encodeForPost,
} from "../_transfer.ts";
import {
  AsyncResult,
  type AsyncResultCallbacks,
  settle,
} from "./async_result.ts";
import { checkChunksize, defaultChunksize, readAhead } from "./_chunks.ts";
import {
  ApplyGroup,
  ApplyJob,
  IMapJob,
  type Job,
  type JobHost,
  MapJob,
} from "./_jobs.ts";
import {
  ApplySource,
  ArraySource,
  AsyncIterSource,
  checkItems,
  IterSource,
  RetrySource,
  type Source,
} from "./_sources.ts";
import {
  type HostMessage,
  type InitMessage,
  MODE_MAP,
  MODE_STAR,
  type Run,
  type RunMode,
  type RunResult,
  type WorkerMessage,
} from "./_protocol.ts";
import { missingFlagError, workerOptionsEnabled } from "./_permissions.ts";
import { type Inspection, inspectValue, isDataCloneError } from "./_values.ts";
import { PoolTerminatedError, WorkerLostError } from "./errors.ts";
import { Slot } from "./_slot.ts";
import type {
  AnyFn,
  ApplyArgs,
  ApplyAsyncArgs,
  Fn,
  TaskArgs,
  TaskResult,
} from "./task_types.ts";

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
   * task module). Deno 2.9 needs `--unstable-worker-options` for it.
   */
  permissions?: Deno.PermissionOptions;
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
  /** Workers alive now (starting or ready). */
  workers: number;
  /** Items waiting to be sent to a worker (lazy `imap` input not read yet is not counted). */
  queued: number;
  /** Items sent to workers and not finished yet. */
  running: number;
  /** Items finished successfully. */
  completed: number;
  /** Items that failed (thrown, worker lost, aborted while running). */
  failed: number;
}

type PoolState = "run" | "close" | "terminate";

const WORKER_URL = new URL("./_worker.ts", import.meta.url);
/** Start the other workers this long after the first at the latest (ms). */
const STAGGER_MS = 40;
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
const MAX_DELAY = 2 ** 31 - 1;
/** Aim for this much work per batch of runs sent to a worker. */
const TARGET_BATCH_MS = 2;
/** At most this many items per batch. */
const MAX_BATCH = 16384;
/**
 * Batches in flight per worker: two (one running, one waiting) when tasks
 * are short, so workers never wait for a round trip; one when they take
 * longer than this many ms, so an idle worker takes the next chunk (CPython's
 * shared-queue behaviour, completion order for imapUnordered).
 */
const PREFETCH_BELOW_MS = 0.5;

function resolveModule(module: string | URL): string {
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

function fnName(fn: unknown): string {
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

function cloneableReason(reason: unknown): unknown {
  try {
    return structuredClone(reason);
  } catch {
    return new DOMException("The task was aborted", "AbortError");
  }
}

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
 * itself; typing the pool with the module (`Pool<typeof import("./tasks.ts")>`)
 * checks arguments and results. Async task functions are awaited in the
 * worker. A task that throws rejects its own result with a `RemoteError`; a
 * worker that dies (uncaught error, unhandled rejection, `self.close()`,
 * `Deno.exit()`) fails only the tasks it held with {@link WorkerLostError}
 * and is replaced.
 *
 * Tasks travel in batches: idle workers take runs of chunks from one shared
 * queue, several per message, sized so that one batch is about 2 ms of work;
 * results come back several per message too.
 *
 * `[Symbol.asyncDispose]` is `close()` + `join()` — it lets queued work
 * finish (CPython's `with Pool()` terminates instead).
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
  #module: string;
  #processes: number;
  #initializer: string | undefined;
  #initargs: unknown[];
  #maxtasks: number | undefined;
  #permissions: Deno.PermissionOptions | undefined;
  #abortGrace: number;
  #transfer: boolean;
  #state: PoolState = "run";
  #workers = new Set<Slot>();
  #spawned = 0;
  #queue: Source[] = [];
  #qHead = 0;
  #counted = 0;
  #jobId = 0;
  #est: number | undefined;
  #completed = 0;
  #failed = 0;
  #dispatching = false;
  #joinWaiters: (() => void)[] = [];
  #finished = false;
  #unlistenPool: (() => void) | undefined;
  #host: JobHost;
  #stagger: ReturnType<typeof setTimeout> | undefined;
  #staggerSoon = false;

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
    const {
      processes = navigator.hardwareConcurrency || 1,
      initializer,
      initargs = [],
      maxtasksperchild,
      signal,
      permissions,
      abortGrace = 1000,
      transfer = false,
    } = options;
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
    if (permissions !== undefined && workerOptionsEnabled() === false) {
      throw missingFlagError();
    }
    signal?.throwIfAborted();
    this.#module = resolveModule(module);
    this.#processes = processes;
    this.#initializer = initializer;
    this.#initargs = initargs;
    this.#maxtasks = maxtasksperchild;
    this.#permissions =
      permissions === undefined || typeof permissions === "string"
        ? permissions
        : { ...INHERIT_ALL, ...permissions };
    this.#abortGrace = abortGrace;
    this.#transfer = transfer;
    this.#host = {
      kick: () => this.#dispatch(),
      closing: () => this.#state !== "run",
      transfer,
      readAhead: (c: number) => readAhead(processes, c),
    };
    if (signal) {
      const onAbort = (): void => this.terminate();
      signal.addEventListener("abort", onAbort, { once: true });
      this.#unlistenPool = () => signal.removeEventListener("abort", onAbort);
    }
    // The first worker starts alone: booting several Workers at once makes
    // each slower, and the first result waits for the first one. The others
    // start once it has answered (or after STAGGER_MS, e.g. no task yet, a
    // slow initializer).
    this.#spawn();
    if (processes > 1) {
      this.#stagger = setTimeout(() => this.#spawnRest(), STAGGER_MS);
    }
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

  // ---------------------------------------------------------------- workers

  #spawn(): void {
    const ch = new MessageChannel();
    const bellBuf = new SharedArrayBuffer(4);
    const opts: WorkerOptions & {
      deno?: { permissions: Deno.PermissionOptions };
    } = {
      type: "module",
      name: `mproc-pool-worker-${++this.#spawned}`,
    };
    if (this.#permissions !== undefined) {
      opts.deno = { permissions: this.#permissions };
    }
    const worker = new Worker(WORKER_URL, opts);
    const w = new Slot(worker, ch.port1, new Int32Array(bellBuf));
    this.#workers.add(w);
    ch.port1.onmessage = (e: MessageEvent) =>
      this.#onMessage(w, e.data as WorkerMessage);
    ch.port1.onmessageerror = () =>
      this.#lost(
        w,
        new WorkerLostError("Cannot read a message from a pool worker"),
      );
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#lost(
        w,
        new WorkerLostError(
          `Cannot finish the task as its worker failed: ${e.message}`,
        ),
      );
    };
    worker.onmessageerror = () =>
      this.#lost(
        w,
        new WorkerLostError("Cannot read a message from a pool worker"),
      );
    try {
      const enc = encodeForPost(this.#initargs);
      const init: InitMessage = {
        k: "init",
        port: ch.port2,
        bell: bellBuf,
        module: this.#module,
        initializer: this.#initializer,
        initargs: enc.value as unknown[],
        initHandles: enc.value !== this.#initargs,
        transfer: this.#transfer,
      };
      worker.postMessage(init, [ch.port2, ...enc.transfer]);
    } catch (err) {
      // e.g. initargs holding a handle that moves (a Pipe() end): it can
      // reach one worker only.
      this.#lost(
        w,
        new WorkerLostError(
          `Cannot finish the task as a pool worker failed to start: the initargs cannot be sent (${
            (err as Error)?.message ?? String(err)
          })`,
          { cause: err },
        ),
      );
    }
  }

  #kill(w: Slot): void {
    if (w.dead) return;
    w.dead = true;
    if (w.grace !== undefined) clearTimeout(w.grace);
    w.port.onmessage = null;
    w.port.close();
    w.worker.terminate();
    this.#workers.delete(w);
  }

  #post(w: Slot, msg: HostMessage, transfer: Transferable[] = []): void {
    // Wrapped in a Map: node:worker_threads' receiveMessageOnPort (used by an
    // idle worker) walks every own property of a message, which would cost a
    // pass over every item; it does not look inside Maps.
    w.port.postMessage(new Map([[0, msg]]), transfer);
    Atomics.add(w.bell, 0, 1);
    Atomics.notify(w.bell, 0);
  }

  #onMessage(w: Slot, msg: WorkerMessage): void {
    if (w.dead) return;
    switch (msg.k) {
      case "res": {
        if (!w.chain) {
          if (!msg.r.some((r) => r.h)) return this.#results(w, msg.r, msg.t);
          try {
            for (const r of msg.r) if (r.h) decodeSync(r);
            return this.#results(w, msg.r, msg.t);
          } catch {
            // a reviver's module must be imported first: keep the order
          }
        }
        const prev = w.chain ?? Promise.resolve();
        const next: Promise<void> = prev.then(async () => {
          for (const r of msg.r) {
            if (r.h) r.v = (await decodeAsync(r.v)) as unknown[];
          }
          if (!w.dead) this.#results(w, msg.r, msg.t);
        }).catch((err) =>
          this.#lost(
            w,
            new WorkerLostError("Cannot decode a result", { cause: err }),
          )
        )
          .finally(() => {
            if (w.chain === next) w.chain = undefined;
          });
        w.chain = next;
        return;
      }
      case "ready":
        w.ready = true;
        return;
      case "lost": {
        const why = msg.why === "exit"
          ? `its worker called Deno.exit(${msg.code ?? 0})`
          : msg.why === "close"
          ? "its worker called self.close()"
          : msg.why === "rejection"
          ? `its worker had an unhandled rejection: ${msg.e?.name}: ${msg.e?.message}`
          : msg.why === "init"
          ? `a pool worker failed to start: ${msg.e?.name}: ${msg.e?.message}`
          : `its worker had an uncaught error: ${msg.e?.name}: ${msg.e?.message}`;
        const cause = msg.e ? errorFromWire(msg.e) : undefined;
        this.#lost(
          w,
          new WorkerLostError(
            `Cannot finish the task as ${why}`,
            cause ? { cause } : undefined,
          ),
        );
        return;
      }
    }
  }

  #results(w: Slot, results: RunResult[], t: number): void {
    let items = 0;
    for (const res of results) {
      items += res.n;
      const ir = w.inflight[w.head];
      if (!ir || ir.job.id !== res.j) {
        this.#lost(
          w,
          new WorkerLostError(
            "Cannot match a result to its task (pool protocol error)",
          ),
        );
        return;
      }
      ir.done += res.n;
      w.items -= res.n;
      if (ir.done >= ir.n) {
        w.inflight[w.head++] = undefined;
        w.chunksDone += ir.chunks;
        if (w.head === w.inflight.length) {
          w.inflight.length = 0;
          w.head = 0;
        }
      }
      let left = res.n;
      while (left > 0 && w.bHead < w.batches.length) {
        const b = w.batches[w.bHead]!;
        if (b <= left) {
          left -= b;
          w.bHead++;
        } else {
          w.batches[w.bHead] = b - left;
          left = 0;
        }
      }
      if (w.bHead === w.batches.length) {
        w.batches.length = 0;
        w.bHead = 0;
      }
      this.#deliver(ir.job, res);
    }
    if (this.#stagger !== undefined && !this.#staggerSoon) {
      // First results are out: start the other workers in the next macrotask
      // (creating a Worker blocks this thread for a few ms; let the awaiting
      // code see its result first).
      this.#staggerSoon = true;
      clearTimeout(this.#stagger);
      this.#stagger = setTimeout(() => this.#spawnRest(), 0);
    }
    if (items > 0) {
      const per = t / items;
      this.#est = this.#est === undefined ? per : this.#est * 0.7 + per * 0.3;
    }
    if (w.items === 0) {
      w.exclusive = false;
      if (w.grace !== undefined) {
        clearTimeout(w.grace);
        w.grace = undefined;
      }
      if (this.#maxtasks !== undefined && w.chunksDone >= this.#maxtasks) {
        this.#kill(w);
        this.#replace();
      }
    }
    this.#dispatch();
    this.#maybeFinish();
  }

  #deliver(job: Job, res: RunResult): void {
    const vals = res.v;
    const end = res.s + res.n;
    let pos = res.s;
    let failed = 0;
    if (res.e) {
      for (const [cs, info] of res.e) {
        if (cs > pos) job.ok(pos, vals, pos - res.s, cs - pos);
        const ce = Math.min(cs + job.chunksize, end);
        if (!job.settled) job.err(cs, ce - cs, errorFromWire(info));
        failed += ce - cs;
        pos = ce;
      }
    }
    if (pos < end) job.ok(pos, vals, pos - res.s, end - pos);
    this.#failed += failed;
    this.#completed += res.n - failed;
  }

  #lost(w: Slot, error: Error): void {
    if (w.dead) return;
    const wasReady = w.ready;
    const runs = w.inflight.slice(w.head);
    this.#kill(w);
    if (!wasReady && this.#state !== "terminate") {
      // A worker that cannot start would fail again: stop instead of looping.
      error = new WorkerLostError(
        `Cannot run tasks as ${
          error.message.replace(/^Cannot finish the task as /, "")
        }`,
        {
          cause: error.cause ?? error,
        },
      );
    }
    // The first unfinished chunk was running: it fails. The chunks behind
    // it never started: they go back to the head of the queue (unless they
    // carried transferred values, which are gone with the worker).
    const retry: Source[] = [];
    let running = true;
    for (const ir of runs) {
      if (!ir) continue;
      let from = ir.s + ir.done;
      const end = ir.s + ir.n;
      if (running) {
        running = false;
        const stop = Math.min(from + ir.job.chunksize, end);
        this.#failed += stop - from;
        if (!ir.job.settled) ir.job.err(from, stop - from, error);
        from = stop;
      }
      if (from >= end || ir.job.dropped) continue;
      if (wasReady && !ir.run.h && !this.#transfer) {
        retry.push(new RetrySource(ir.job, this.#host, ir.run, from, end));
      } else {
        this.#failed += end - from;
        ir.job.err(from, end - from, error);
      }
    }
    if (!wasReady && this.#state !== "terminate") {
      this.#terminateWith(error);
      return;
    }
    if (retry.length && this.#state !== "terminate") {
      this.#queue.splice(this.#qHead, 0, ...retry);
      for (const r of retry) this.#counted += r.queued;
    }
    this.#replace();
    this.#dispatch();
    this.#maybeFinish();
  }

  #spawnRest(): void {
    if (this.#stagger === undefined) return;
    clearTimeout(this.#stagger);
    this.#stagger = undefined;
    if (this.#state === "terminate" || this.#finished) return;
    while (
      !this.#finished && this.#workers.size < this.#processes
    ) this.#spawn();
    this.#dispatch();
  }

  #replace(): void {
    if (this.#stagger !== undefined) return this.#spawnRest();
    if (this.#state === "terminate" || this.#finished) return;
    if (this.#state === "close" && !this.#hasQueued()) return;
    while (
      !this.#finished && this.#workers.size < this.#processes
    ) this.#spawn();
  }

  // -------------------------------------------------------------- dispatch

  #enqueue(src: Source): void {
    this.#queue.push(src);
    this.#counted += src.queued;
    this.#dispatch();
  }

  #budget(): number {
    const est = this.#est;
    const b = est === undefined ? 1 : Math.min(
      MAX_BATCH,
      Math.max(1, Math.floor(TARGET_BATCH_MS / Math.max(est, 1e-5))),
    );
    const fair = Math.ceil(this.#counted / this.#processes);
    return fair > 0 ? Math.max(1, Math.min(b, fair)) : b;
  }

  #pickWorker(): Slot | undefined {
    let best: Slot | undefined;
    const maxBatches = this.#est !== undefined && this.#est < PREFETCH_BELOW_MS
      ? 2
      : 1;
    for (const w of this.#workers) {
      if (w.dead || w.exclusive || w.batchCount >= maxBatches) continue;
      if (this.#maxtasks !== undefined && w.chunksSent >= this.#maxtasks) {
        continue;
      }
      if (
        !best || w.batchCount < best.batchCount ||
        (w.batchCount === best.batchCount && w.ready && !best.ready)
      ) best = w;
    }
    return best;
  }

  #dispatch(): void {
    if (this.#dispatching || this.#state === "terminate") return;
    this.#dispatching = true;
    try {
      while (this.#qHead < this.#queue.length) {
        const w = this.#pickWorker();
        if (!w) break;
        const budget = this.#budget();
        const maxChunks = this.#maxtasks === undefined
          ? Infinity
          : this.#maxtasks - w.chunksSent;
        const runs: Run[] = [];
        const jobs: Job[] = [];
        const transfer: Transferable[] = [];
        let items = 0;
        let chunks = 0;
        let exclusive = false;
        let group: ApplyGroup | undefined;
        for (
          let i = this.#qHead;
          i < this.#queue.length && items < budget && chunks < maxChunks;
        ) {
          const src = this.#queue[i]!;
          if (src.exhausted || src.job.dropped) {
            this.#counted -= src.queued;
            src.cancel();
            i = this.#drop(i);
            continue;
          }
          if (src.job.abortable) {
            // Abortable runs travel alone, to an empty worker.
            if (runs.length || w.items > 0) break;
            exclusive = true;
          } else if (src instanceof ApplySource) {
            // Consecutive applies of one function share one run.
            if (!group || group.fn !== src.job.fn) {
              group = new ApplyGroup(++this.#jobId, src.job.fn);
              runs.push(group.run);
              jobs.push(group);
            }
            try {
              group.add(src, transfer);
            } catch (err) {
              src.job.fail(err);
              src.cancel();
            }
            this.#counted--;
            items++;
            chunks++;
            i = this.#drop(i);
            continue;
          }
          group = undefined;
          const before = src.queued;
          let run: Run | null;
          try {
            run = src.take(
              exclusive ? 1 : budget - items,
              exclusive ? 1 : maxChunks - chunks,
              transfer,
            );
          } catch (err) {
            // an argument with ArrayBuffers that cannot be transferred, …
            this.#counted -= before;
            src.job.fail(err);
            src.cancel();
            continue;
          }
          this.#counted -= before - src.queued;
          if (!run) {
            if (src.exhausted) i = this.#drop(i);
            else i++;
            continue;
          }
          runs.push(run);
          jobs.push(src.job);
          items += run.x.length;
          chunks += Math.ceil(run.x.length / run.c);
          if (exclusive) break;
        }
        if (!runs.length) break;
        this.#send(w, runs, jobs, transfer, exclusive);
      }
    } finally {
      this.#dispatching = false;
    }
  }

  /** Removes queue entry `i`; returns the index of the entry after it. */
  #drop(i: number): number {
    if (i === this.#qHead) {
      this.#queue[this.#qHead++] = undefined as never;
      if (this.#qHead === this.#queue.length) {
        this.#queue.length = 0;
        this.#qHead = 0;
      } else if (this.#qHead > 1024 && this.#qHead * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#qHead);
        this.#qHead = 0;
      }
      return this.#qHead;
    }
    this.#queue.splice(i, 1);
    return i;
  }

  #send(
    w: Slot,
    runs: Run[],
    jobs: Job[],
    transfer: Transferable[],
    exclusive: boolean,
  ): void {
    // Lengths first: posting detaches transferred Float64Arrays.
    const lengths = runs.map((r) => r.x.length);
    try {
      this.#post(w, { k: "run", b: runs }, transfer);
    } catch (err) {
      if (!isDataCloneError(err)) throw err;
      // Rare: a value passed the checks but cannot be cloned. Fail those runs.
      const okRuns: Run[] = [];
      const okJobs: Job[] = [];
      const okLengths: number[] = [];
      runs.forEach((r, i) => {
        try {
          structuredClone(r.x);
          okRuns.push(r);
          okJobs.push(jobs[i]!);
          okLengths.push(lengths[i]!);
        } catch (e) {
          jobs[i]!.fail(
            new TypeError(
              `Cannot send the arguments of the task: ${(e as Error).message}`,
            ),
          );
        }
      });
      runs = okRuns;
      jobs = okJobs;
      lengths.splice(0, lengths.length, ...okLengths);
      if (!runs.length) return;
      this.#post(w, { k: "run", b: runs });
    }
    let items = 0;
    for (let i = 0; i < runs.length; i++) {
      const r = runs[i]!;
      const n = lengths[i]!;
      items += n;
      const chunks = Math.ceil(n / r.c);
      w.chunksSent += chunks;
      w.inflight.push({ job: jobs[i]!, s: r.s, n, done: 0, chunks, run: r });
    }
    w.items += items;
    w.batches.push(items);
    if (exclusive) w.exclusive = true;
  }

  #hasQueued(): boolean {
    for (let i = this.#qHead; i < this.#queue.length; i++) {
      const s = this.#queue[i]!;
      if (!s.exhausted && !s.job.dropped) return true;
      if (s instanceof AsyncIterSource && s.busy) return true;
    }
    return false;
  }

  #maybeFinish(): void {
    if (this.#state !== "close" || this.#finished) return;
    if (this.#hasQueued()) return;
    for (const w of this.#workers) if (w.items > 0 || w.chain) return;
    this.#finished = true;
    clearTimeout(this.#stagger);
    this.#stagger = undefined;
    for (const w of [...this.#workers]) this.#kill(w);
    this.#unlistenPool?.();
    this.#unlistenPool = undefined;
    this.#wakeJoin();
  }

  #wakeJoin(): void {
    const j = this.#joinWaiters;
    this.#joinWaiters = [];
    for (const f of j) f();
  }

  #terminateWith(error: Error): void {
    if (this.#state === "terminate") return;
    this.#state = "terminate";
    this.#finished = true;
    clearTimeout(this.#stagger);
    this.#stagger = undefined;
    this.#unlistenPool?.();
    this.#unlistenPool = undefined;
    const failed = new Set<Job>();
    for (let i = this.#qHead; i < this.#queue.length; i++) {
      const s = this.#queue[i]!;
      s.cancel();
      failed.add(s.job);
    }
    this.#queue = [];
    this.#qHead = 0;
    this.#counted = 0;
    for (const w of [...this.#workers]) {
      for (let i = w.head; i < w.inflight.length; i++) {
        const ir = w.inflight[i];
        if (ir) failed.add(ir.job);
      }
      this.#kill(w);
    }
    for (const job of failed) job.fail(error);
    this.#wakeJoin();
  }

  // --------------------------------------------------------------- public

  #checkRunning(): void {
    if (this.#state !== "run") {
      throw new Error(
        `Cannot submit a task as the pool is not running: its state is '${this.#state}'`,
      );
    }
  }

  #abort(job: Job, src: Source, why: unknown): void {
    this.#counted -= src.queued;
    src.cancel();
    const reason = cloneableReason(why);
    for (const w of this.#workers) {
      let holds = false;
      for (let i = w.head; i < w.inflight.length; i++) {
        if (w.inflight[i]?.job === job) holds = true;
      }
      if (!holds) continue;
      this.#post(w, { k: "abort", j: job.id, reason });
      if (w.grace === undefined && this.#abortGrace !== Infinity) {
        w.grace = setTimeout(() => {
          w.grace = undefined;
          this.#lost(
            w,
            new WorkerLostError(
              `Cannot finish the task as its worker was terminated ${this.#abortGrace} ms after an abort`,
            ),
          );
        }, this.#abortGrace);
      }
    }
    this.#dispatch();
    this.#maybeFinish();
  }

  #submit(job: Job, src: Source, signal: AbortSignal | undefined): void {
    if (signal) {
      job.listen(signal, () => this.#abort(job, src, signal.reason));
    }
    this.#enqueue(src);
  }

  /**
   * Runs `fn(...args)` in a worker (CPython's `apply`).
   *
   * @typeParam F The task function (name or export).
   * @param fn An export of the task module, by name or the function itself.
   * @param args The arguments (structured-cloneable; live handles such as
   * `Pipe()` ends arrive working).
   * @returns A promise of the task's result; it rejects with a `RemoteError`
   * when the task throws, {@link WorkerLostError} when its worker dies.
   * @throws {TypeError} When an argument cannot be sent (the message names it).
   * @throws {Error} When the pool is not running.
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
   * @returns The pending result.
   * @throws {TypeError} When an argument cannot be sent (the message names it).
   * @throws {Error} When the pool is not running.
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
    const name = fnName(fn);
    const a: unknown[] = args === undefined ? [] : args;
    if (!Array.isArray(a)) {
      throw new TypeError("Cannot run the task as args is not an array");
    }
    this.#checkRunning();
    const ins: Inspection = { handles: false };
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (
        v !== null && typeof v !== "number" && typeof v !== "string" &&
        typeof v !== "boolean" && v !== undefined
      ) {
        inspectValue(v, `args[${i}]`, null, ins);
      }
    }
    const signal = options?.signal;
    const result = new AsyncResult<unknown>(options);
    const job = new ApplyJob(++this.#jobId, name, result);
    if (signal?.aborted) {
      job.fail(signal.reason);
      return result;
    }
    this.#submit(job, new ApplySource(job, this.#host, a, ins.handles), signal);
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
   * @returns A promise of the results.
   * @throws {TypeError} When an item cannot be sent (the message names it).
   * @throws {RangeError} When `chunksize` is not a positive integer.
   * @throws {Error} When the pool is not running.
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
   * @returns The pending result.
   * @throws {TypeError} When an item cannot be sent (the message names it).
   * @throws {RangeError} When `chunksize` is not a positive integer.
   * @throws {Error} When the pool is not running.
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
   * @returns A promise of the results.
   * @throws {TypeError} When an item is not an array or cannot be sent.
   * @throws {RangeError} When `chunksize` is not a positive integer.
   * @throws {Error} When the pool is not running.
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
   * @returns The pending result.
   * @throws {TypeError} When an item is not an array or cannot be sent.
   * @throws {RangeError} When `chunksize` is not a positive integer.
   * @throws {Error} When the pool is not running.
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
    const name = fnName(fn);
    const cs = checkChunksize(chunksize);
    this.#checkRunning();
    const result = new AsyncResult<unknown[]>(options);
    const signal = options?.signal;
    const start = (items: ArrayLike<unknown>): void => {
      const { numbers, handles } = checkItems(items, mode);
      const c = cs ?? defaultChunksize(items.length, this.#processes);
      const job = new MapJob(
        ++this.#jobId,
        name,
        mode,
        c,
        items.length,
        result,
      );
      if (job.settled) return;
      if (signal?.aborted) return job.fail(signal.reason);
      this.#submit(
        job,
        new ArraySource(job, this.#host, items, numbers, handles),
        signal,
      );
    };
    if (Array.isArray(iterable)) {
      start(iterable);
    } else if (isSyncIterable(iterable)) {
      let items: unknown[];
      try {
        items = Array.from(iterable);
      } catch (err) {
        settle(result as AsyncResult<unknown>, false, err);
        return result;
      }
      start(items);
    } else if (isAsyncIterable(iterable)) {
      (async () => {
        const items: unknown[] = [];
        for await (const x of iterable) items.push(x);
        return items;
      })().then((items) => {
        if (this.#state !== "run") {
          throw new PoolTerminatedError(
            "Cannot run the map as the pool stopped while its input was read",
          );
        }
        start(items);
      }).catch((err) => settle(result as AsyncResult<unknown>, false, err));
    } else {
      throw new TypeError("Cannot map over the input as it is not iterable");
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
   * @returns An async iterator of the results.
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
   * @returns An async iterator of the results.
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
    const job = new IMapJob(++this.#jobId, name, c, ordered, this.#host);
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
      src = new IterSource(job, this.#host, it);
    } else if (isAsyncIterable(iterable)) {
      src = new AsyncIterSource(
        job,
        this.#host,
        iterable[Symbol.asyncIterator](),
      );
    } else {
      throw new TypeError("Cannot map over the input as it is not iterable");
    }
    job.source = src;
    this.#submit(job, src, undefined);
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
    let running = 0;
    for (const w of this.#workers) running += w.items;
    return {
      processes: this.#processes,
      workers: this.#workers.size,
      queued: this.#counted,
      running,
      completed: this.#completed,
      failed: this.#failed,
    };
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
    if (this.#state !== "run") return;
    this.#state = "close";
    this.#dispatch();
    this.#maybeFinish();
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
    this.#terminateWith(new PoolTerminatedError());
  }

  /**
   * Resolves when every worker is gone, after {@link Pool.close} (once all
   * work is done) or {@link Pool.terminate} (CPython's `join`).
   *
   * @returns A promise that resolves when the pool has shut down.
   * @throws {Error} When the pool is still running (call close() or terminate() first).
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
    if (this.#state === "run") {
      throw new Error(
        "Cannot join the pool as it is still running: call close() or terminate() first",
      );
    }
    if (this.#finished) return Promise.resolve();
    return new Promise((resolve) => this.#joinWaiters.push(resolve));
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

function decodeSync(r: RunResult): void {
  r.v = decodeFromPostSync(r.v) as unknown[];
}
