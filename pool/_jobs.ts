// Host-side jobs: where the results of one submission (apply, map, imap)
// land. Their runs come from sources (see _sources.ts), which know jobs;
// jobs know a source only as a `Feed`.

import { type AsyncResult, settle } from "./async_result.ts";
import { MODE_APPLY, MODE_MAP, type Run, type RunMode } from "./_protocol.ts";
import { PoolTerminatedError } from "./errors.ts";

/** What an imap job needs of the source feeding it. */
export interface Feed {
  /** True when the source may need a kick once the consumer moves on. */
  readonly stalled: boolean;
  /** The consumer has taken enough items for the read window to move. */
  onConsumed(): void;
  /** Stops producing runs. */
  cancel(): void;
}

/** What jobs and sources need from the pool. */
export interface JobHost {
  /** Re-runs the dispatcher (new input is available or the read window moved). */
  kick(): void;
  /** True once the pool is closing: imap read-ahead is then unbounded so join() can finish. */
  closing(): boolean;
  /** Whether ArrayBuffers in arguments are transferred. */
  readonly transfer: boolean;
  /** Items read ahead by imap for this chunksize. */
  readAhead(chunksize: number): number;
}

/** A submission and where its results go. */
export abstract class Job {
  /** Set once the job will take no more results. */
  settled = false;
  /**
   * Set when the job's queued runs are to be dropped (terminate, abort, bad
   * input, iterator closed). A map that failed because one of its tasks threw
   * is settled but not dropped: its other chunks still run, as in CPython
   * (`test_map_no_failfast`).
   */
  dropped = false;
  /** Runs of this job can be aborted (a per-task signal was given). */
  abortable = false;
  /** Abort listener cleanup. */
  #unlisten: (() => void) | undefined;

  constructor(
    readonly id: number,
    readonly fn: string,
    readonly mode: RunMode,
    readonly chunksize: number,
  ) {}

  /** Items `[start, start + n)` succeeded with `vals[off..off + n)`. */
  abstract ok(
    start: number,
    vals: ArrayLike<unknown>,
    off: number,
    n: number,
  ): void;
  /** Items `[start, start + n)` failed with `error`. */
  abstract err(start: number, n: number, error: unknown): void;
  /** The whole job fails (terminate, abort, bad input). */
  abstract fail(error: unknown): void;
  /** Items may be read up to this index (exclusive). */
  limit(): number {
    return Infinity;
  }

  /** Wires a per-task AbortSignal; `onAbort` runs after the job failed with the reason. */
  listen(signal: AbortSignal | undefined, onAbort: () => void): void {
    if (!signal) return;
    this.abortable = true;
    const f = (): void => {
      this.fail(signal.reason);
      onAbort();
    };
    signal.addEventListener("abort", f, { once: true });
    this.#unlisten = () => signal.removeEventListener("abort", f);
  }

  /**
   * Marks the job settled (and dropped, when its queued runs must not run)
   * and removes the abort listener (every settle path calls it).
   */
  protected done(drop = true): void {
    this.settled = true;
    if (drop) this.dropped = true;
    this.#unlisten?.();
    this.#unlisten = undefined;
  }
}

/** `apply`/`applyAsync`: one item. */
export class ApplyJob extends Job {
  constructor(id: number, fn: string, readonly result: AsyncResult<unknown>) {
    super(id, fn, MODE_APPLY, 1);
  }
  ok(_start: number, vals: ArrayLike<unknown>, off: number): void {
    if (this.settled) return;
    this.done();
    settle(this.result, true, vals[off]);
  }
  err(_start: number, _n: number, error: unknown): void {
    this.fail(error);
  }
  fail(error: unknown): void {
    if (this.settled) return;
    this.done();
    settle(this.result, false, error);
  }
}

/** `map`/`starmap` (and their async forms): all results, in order; the first error wins. */
export class MapJob extends Job {
  readonly values: unknown[];
  #remaining: number;
  constructor(
    id: number,
    fn: string,
    mode: RunMode,
    chunksize: number,
    length: number,
    readonly result: AsyncResult<unknown[]>,
  ) {
    super(id, fn, mode, chunksize);
    this.values = new Array(length);
    this.#remaining = length;
    if (length === 0) {
      this.done();
      settle(result, true, this.values);
    }
  }
  ok(start: number, vals: ArrayLike<unknown>, off: number, n: number): void {
    if (this.settled) return;
    const out = this.values;
    for (let k = 0; k < n; k++) out[start + k] = vals[off + k];
    this.#remaining -= n;
    if (this.#remaining === 0) {
      this.done();
      settle(this.result, true, out);
    }
  }
  err(_start: number, _n: number, error: unknown): void {
    this.#reject(error, false);
  }
  fail(error: unknown): void {
    this.#reject(error, true);
  }
  #reject(error: unknown, drop: boolean): void {
    if (this.settled) {
      if (drop) this.dropped = true;
      return;
    }
    this.done(drop);
    this.values.length = 0;
    settle(this.result, false, error);
  }
}

interface Segment {
  start: number;
  n: number;
  vals: ArrayLike<unknown> | undefined;
  off: number;
  error?: unknown;
}

/** `imap`/`imapUnordered`: an async iterator over results, with bounded read-ahead. */
export class IMapJob extends Job implements AsyncIterableIterator<unknown> {
  #ordered: boolean;
  #host: JobHost;
  /** Ordered: segments by start index. */
  #byStart = new Map<number, Segment>();
  /** Unordered: segments in arrival order. */
  #fifo: Segment[] = [];
  #fifoHead = 0;
  #cur: Segment | undefined;
  #next = 0; // ordered: index of the next item to yield
  #consumed = 0; // items yielded (or skipped by an error)
  #total: number | undefined;
  #fatal: { error: unknown } | undefined;
  #wake: (() => void) | undefined;
  #window: number;
  #resumeAt = 0;
  /** The source feeding this job (to stop it on return()). */
  source: Feed | undefined;

  constructor(
    id: number,
    fn: string,
    chunksize: number,
    ordered: boolean,
    host: JobHost,
  ) {
    super(id, fn, MODE_MAP, chunksize);
    this.#ordered = ordered;
    this.#host = host;
    this.#window = host.readAhead(chunksize);
  }

  override limit(): number {
    return this.#host.closing() ? Infinity : this.#consumed + this.#window;
  }

  /** The input ended after `total` items. */
  setTotal(total: number): void {
    this.#total = total;
    this.#notify();
  }

  #push(seg: Segment): void {
    if (this.settled) return;
    if (this.#ordered) this.#byStart.set(seg.start, seg);
    else this.#fifo.push(seg);
    this.#notify();
  }
  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  ok(start: number, vals: ArrayLike<unknown>, off: number, n: number): void {
    this.#push({ start, n, vals, off });
  }
  err(start: number, n: number, error: unknown): void {
    this.#push({ start, n, vals: undefined, off: 0, error });
  }
  fail(error: unknown): void {
    if (this.settled) return;
    this.#fatal = { error };
    this.done();
    this.#notify();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<unknown> {
    return this;
  }

  next(): Promise<IteratorResult<unknown>> {
    // Fast path without an async function frame: most calls find a result.
    const r = this.#poll();
    return r ?? this.#wait();
  }

  async #wait(): Promise<IteratorResult<unknown>> {
    for (;;) {
      await new Promise<void>((r) => {
        const prev = this.#wake;
        this.#wake = prev ? () => (prev(), r()) : r;
      });
      const r = this.#poll();
      if (r) return r;
    }
  }

  /** A settled promise of the next result, or undefined when it must wait. */
  #poll(): Promise<IteratorResult<unknown>> | undefined {
    const seg = this.#cur ?? this.#take();
    if (seg) {
      if (seg.vals === undefined) {
        this.#cur = undefined;
        this.#advance(seg.n);
        return Promise.reject(seg.error);
      }
      const v = seg.vals[seg.off++];
      if (--seg.n === 0) this.#cur = undefined;
      else this.#cur = seg;
      this.#advance(1);
      return Promise.resolve({ value: v, done: false });
    }
    if (this.#fatal) return Promise.reject(this.#fatal.error);
    if (
      this.settled ||
      (this.#total !== undefined && this.#consumed >= this.#total)
    ) {
      this.done();
      return Promise.resolve({ value: undefined, done: true });
    }
    return undefined;
  }

  return(): Promise<IteratorResult<unknown>> {
    if (!this.settled) {
      this.fail(
        new PoolTerminatedError(
          "Cannot read more results as the iterator was closed",
        ),
      );
      this.#fatal = undefined;
      this.source?.cancel();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  #take(): Segment | undefined {
    if (this.#ordered) {
      const s = this.#byStart.get(this.#next);
      if (s) {
        this.#byStart.delete(this.#next);
        this.#next += s.n;
      }
      return s;
    }
    if (this.#fifoHead < this.#fifo.length) {
      const s = this.#fifo[this.#fifoHead]!;
      this.#fifo[this.#fifoHead++] = undefined as never;
      if (this.#fifoHead > 1024 && this.#fifoHead * 2 > this.#fifo.length) {
        this.#fifo = this.#fifo.slice(this.#fifoHead);
        this.#fifoHead = 0;
      }
      return s;
    }
    return undefined;
  }

  #advance(n: number): void {
    this.#consumed += n;
    const src = this.source;
    if (!src) return;
    if (!src.stalled) {
      this.#resumeAt = this.#consumed +
        Math.max(this.chunksize, this.#window >> 2);
    } else if (this.#consumed >= this.#resumeAt) {
      // The window has moved by a quarter: refill it in large batches.
      this.#resumeAt = this.#consumed +
        Math.max(this.chunksize, this.#window >> 2);
      src.onConsumed();
    }
  }
}

/**
 * Many `apply` tasks of the same function travelling as one run (one item
 * per task), so a burst of `applyAsync` calls costs one message and one
 * result array per batch instead of one object per task.
 */
export class ApplyGroup extends Job {
  readonly jobs: Job[] = [];
  readonly run: Run;
  constructor(id: number, fn: string) {
    super(id, fn, MODE_APPLY, 1);
    this.run = { j: id, f: fn, m: MODE_APPLY, s: 0, c: 1, x: [] };
  }
  /** Moves the task of `job` (its one-item run `one`) into this group. */
  add(job: Job, one: Run): void {
    (this.run.x as unknown[]).push((one.x as unknown[])[0]);
    if (one.h) this.run.h = 1;
    this.jobs.push(job);
  }
  ok(start: number, vals: ArrayLike<unknown>, off: number, n: number): void {
    const jobs = this.jobs;
    for (let k = 0; k < n; k++) jobs[start + k]!.ok(0, vals, off + k, 1);
  }
  err(start: number, n: number, error: unknown): void {
    for (let k = 0; k < n; k++) this.jobs[start + k]!.err(0, 1, error);
  }
  fail(error: unknown): void {
    for (const j of this.jobs) j.fail(error);
  }
}
