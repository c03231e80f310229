// Sources: where a job's runs come from. A source cuts the input into runs
// of whole chunks on demand, so a 200k-item map or an infinite imap never
// materialises per-item task objects.

import { encodeForPost } from "../_transfer.ts";
import { MODE_MAP, type Run, type RunMode } from "./_protocol.ts";
import {
  allNumbers,
  type Inspection,
  inspectValue,
  packNumbers,
} from "./_values.ts";
import type { IMapJob, Job, JobHost } from "./_jobs.ts";

/** Where a job's runs come from. */
export abstract class Source {
  /** True when no more runs will come. */
  exhausted = false;
  /** Set while waiting for the consumer (read-ahead window full). */
  waiting = false;
  /** True when the source may need a kick once the consumer moves on. */
  get stalled(): boolean {
    return this.waiting;
  }
  constructor(readonly job: Job, readonly host: JobHost) {}
  /** Items known to be waiting (for fair batch sizes). */
  abstract get queued(): number;
  /**
   * Cuts the next run: whole chunks, about `maxItems` items (at least one
   * chunk), at most `maxChunks` chunks; pushes transferables to `transfer`.
   * Returns null when nothing is ready now.
   */
  abstract take(
    maxItems: number,
    maxChunks: number,
    transfer: Transferable[],
  ): Run | null;
  /** The consumer has taken enough items for the read window to move. */
  onConsumed(): void {
    this.host.kick();
  }
  /** Stops producing runs (abort, iterator closed, terminate). */
  cancel(): void {
    this.exhausted = true;
  }
  /** A run of this source's job: the items `x`, from job index `start`. */
  protected runOf(start: number, x: unknown[] | Float64Array): Run {
    const job = this.job;
    const run: Run = {
      j: job.id,
      f: job.fn,
      m: job.mode,
      s: start,
      c: job.chunksize,
      x,
    };
    if (job.abortable) run.a = 1;
    return run;
  }
}

/** Encodes live handles and collects transferables of `x` into a run. */
function finishRun(
  run: Run,
  handles: boolean,
  transfer: Transferable[],
  transferBuffers: boolean,
): Run {
  if (handles) {
    const enc = encodeForPost(run.x);
    if (enc.value !== run.x) {
      run.x = enc.value as unknown[];
      run.h = 1;
      for (const t of enc.transfer) transfer.push(t);
    }
  }
  if (transferBuffers && !(run.x instanceof Float64Array)) {
    inspectValue(run.x, "args", transfer, { handles: false });
  }
  return run;
}

/** One `apply` task. */
export class ApplySource extends Source {
  #args: unknown[];
  #handles: boolean;
  constructor(job: Job, host: JobHost, args: unknown[], handles: boolean) {
    super(job, host);
    this.#args = args;
    this.#handles = handles;
  }
  get queued(): number {
    return this.exhausted ? 0 : 1;
  }
  take(
    _maxItems: number,
    _maxChunks: number,
    transfer: Transferable[],
  ): Run | null {
    if (this.exhausted) return null;
    this.exhausted = true;
    const run = this.runOf(0, [this.#args]);
    return finishRun(run, this.#handles, transfer, this.host.transfer);
  }
}

/** Items already in an array (map, starmap, imap over an array). */
export class ArraySource extends Source {
  #items: ArrayLike<unknown>;
  #next = 0;
  #packed: boolean;
  #handles: boolean;
  constructor(
    job: Job,
    host: JobHost,
    items: ArrayLike<unknown>,
    numbers: boolean,
    handles: boolean,
  ) {
    super(job, host);
    this.#items = items;
    this.#packed = numbers && job.mode === MODE_MAP;
    this.#handles = handles;
    if (items.length === 0) this.exhausted = true;
  }
  get queued(): number {
    return this.exhausted ? 0 : this.#items.length - this.#next;
  }
  take(
    maxItems: number,
    maxChunks: number,
    transfer: Transferable[],
  ): Run | null {
    if (this.exhausted) return null;
    const len = this.#items.length;
    const c = this.job.chunksize;
    const limit = Math.min(len, this.job.limit());
    const start = this.#next;
    const chunks = Math.min(maxChunks, Math.max(1, Math.floor(maxItems / c)));
    let end = Math.min(len, start + chunks * c);
    if (end > limit) {
      end = limit >= len ? len : start + Math.floor((limit - start) / c) * c;
    }
    if (end <= start) {
      this.waiting = true;
      return null;
    }
    this.waiting = false;
    this.#next = end;
    if (end >= len) this.exhausted = true;
    const items = this.#items;
    const x = this.#packed && end - start >= 8
      ? packNumbers(items, start, end)
      : Array.prototype.slice.call(items, start, end);
    const run = this.runOf(start, x);
    if (x instanceof Float64Array) {
      // Moved, not copied; the items stay reachable to resend the run if its
      // worker dies before running it.
      transfer.push(x.buffer as ArrayBuffer);
      packedFrom.set(run, items);
    }
    return finishRun(run, this.#handles, transfer, this.host.transfer);
  }
}

/** Checks one input item; returns true when it holds handles. */
export function checkItem(item: unknown, path: string, mode: RunMode): boolean {
  if (mode !== MODE_MAP && !Array.isArray(item)) {
    throw new TypeError(
      `Cannot use ${path} as starmap arguments: it is not an array`,
    );
  }
  const t = typeof item;
  if (t !== "object" && t !== "function" && t !== "symbol") return false;
  const ins: Inspection = { handles: false };
  inspectValue(item, path, null, ins);
  return ins.handles;
}

/** Checks every item of an array; returns whether all are numbers and whether any holds handles. */
export function checkItems(
  items: ArrayLike<unknown>,
  mode: RunMode,
): { numbers: boolean; handles: boolean } {
  if (mode === MODE_MAP && allNumbers(items, 0, items.length)) {
    return { numbers: true, handles: false };
  }
  let handles = false;
  for (let i = 0; i < items.length; i++) {
    if (checkItem(items[i], `iterable[${i}]`, mode)) handles = true;
  }
  return { numbers: false, handles };
}

/** imap over a sync iterable: read lazily, whole chunks at a time, within the job's window. */
export class IterSource extends Source {
  #it: Iterator<unknown>;
  #read = 0;
  constructor(job: IMapJob, host: JobHost, it: Iterator<unknown>) {
    super(job, host);
    this.#it = it;
  }
  get queued(): number {
    return 0;
  }
  take(
    maxItems: number,
    maxChunks: number,
    transfer: Transferable[],
  ): Run | null {
    if (this.exhausted) return null;
    const job = this.job as IMapJob;
    const c = job.chunksize;
    const room = job.limit() - this.#read;
    const chunks = Math.min(
      maxChunks,
      Math.max(1, Math.floor(maxItems / c)),
      Math.floor(room / c),
    );
    if (chunks < 1) {
      this.waiting = true;
      return null;
    }
    this.waiting = false;
    const start = this.#read;
    const want = chunks * c;
    const x: unknown[] = [];
    let handles = false;
    try {
      for (let k = 0; k < want; k++) {
        const r = this.#it.next();
        if (r.done) {
          this.exhausted = true;
          break;
        }
        if (checkItem(r.value, `iterable[${start + k}]`, job.mode)) {
          handles = true;
        }
        x.push(r.value);
      }
    } catch (error) {
      // The chunk holding the failing item becomes the error (as CPython).
      const failedAt = start + x.length;
      const chunkStart = start + Math.floor(x.length / c) * c;
      x.length = chunkStart - start;
      this.exhausted = true;
      const n = failedAt - chunkStart + 1;
      job.err(chunkStart, n, error);
      job.setTotal(chunkStart + n);
      this.#read = chunkStart + n;
      if (x.length === 0) return null;
      return this.#run(start, x, handles, transfer);
    }
    this.#read = start + x.length;
    if (this.exhausted) {
      job.setTotal(this.#read);
      (this.#it as Iterator<unknown>).return?.();
    }
    if (x.length === 0) return null;
    return this.#run(start, x, handles, transfer);
  }
  #run(
    start: number,
    x: unknown[],
    handles: boolean,
    transfer: Transferable[],
  ): Run {
    return finishRun(
      this.runOf(start, x),
      handles,
      transfer,
      this.host.transfer,
    );
  }
  override cancel(): void {
    if (!this.exhausted) {
      try {
        this.#it.return?.();
      } catch {
        // closing the input is best effort
      }
    }
    super.cancel();
  }
}

/** imap over an async iterable: a pump reads ahead into a buffer within the job's window. */
export class AsyncIterSource extends Source {
  #it: AsyncIterator<unknown>;
  #buf: unknown[] = [];
  #bufStart = 0; // item index of #buf[0]
  #read = 0;
  #done = false;
  #handles = false;
  #pumping = false;
  constructor(job: IMapJob, host: JobHost, it: AsyncIterator<unknown>) {
    super(job, host);
    this.#it = it;
    this.pump();
  }
  get queued(): number {
    return this.#buf.length;
  }
  /** An async input is read ahead in the background: the window check is the pump's. */
  override get stalled(): boolean {
    return !this.#done || this.waiting;
  }
  override onConsumed(): void {
    this.pump();
    super.onConsumed();
  }
  /** Reads input until the window is full or the input ends. */
  pump(): void {
    if (this.#pumping || this.#done || this.exhausted) return;
    const job = this.job as IMapJob;
    if (this.#read >= job.limit()) return;
    this.#pumping = true;
    const loop = async (): Promise<void> => {
      try {
        while (!this.#done && !this.exhausted && this.#read < job.limit()) {
          const r = await this.#it.next();
          if (this.exhausted) break;
          if (r.done) {
            this.#done = true;
            job.setTotal(this.#read);
            break;
          }
          if (checkItem(r.value, `iterable[${this.#read}]`, job.mode)) {
            this.#handles = true;
          }
          this.#buf.push(r.value);
          this.#read++;
          if (this.#buf.length >= job.chunksize) this.host.kick();
        }
      } catch (error) {
        const c = job.chunksize;
        const chunkStart = this.#read - (this.#read % c);
        const keep = chunkStart - this.#bufStart;
        const n = Math.max(1, this.#read - chunkStart + 1);
        this.#buf.length = Math.max(0, keep);
        this.#done = true;
        job.err(chunkStart, n, error);
        job.setTotal(chunkStart + n);
      } finally {
        this.#pumping = false;
      }
      this.host.kick();
    };
    loop().catch(reportError);
  }
  take(
    maxItems: number,
    maxChunks: number,
    transfer: Transferable[],
  ): Run | null {
    if (this.exhausted) return null;
    const c = this.job.chunksize;
    const avail = this.#buf.length;
    let chunks = Math.min(
      maxChunks,
      Math.max(1, Math.floor(maxItems / c)),
      Math.floor(avail / c),
    );
    let n = chunks * c;
    if (chunks < 1) {
      if (this.#done && avail > 0) {
        n = avail;
        chunks = 1;
      } else {
        if (this.#done) this.exhausted = true;
        else {
          this.waiting = true;
          this.pump();
        }
        return null;
      }
    }
    this.waiting = false;
    const x = this.#buf.splice(0, n);
    const start = this.#bufStart;
    this.#bufStart += n;
    if (this.#done && this.#buf.length === 0) this.exhausted = true;
    else this.pump();
    return finishRun(
      this.runOf(start, x),
      this.#handles,
      transfer,
      this.host.transfer,
    );
  }
  override cancel(): void {
    if (!this.exhausted && !this.#done) {
      this.#done = true;
      this.#it.return?.()?.catch?.(() => {});
    }
    super.cancel();
  }
  /** True while reading input (close()+join() waits). */
  get busy(): boolean {
    return this.#pumping || (!this.#done && !this.exhausted);
  }
}

/** Items of the runs whose packed Float64Array was transferred (for resending). */
const packedFrom = new WeakMap<Run, ArrayLike<unknown>>();

/** Runs a lost worker had not started yet, sent again (ahead of the queue). */
export class RetrySource extends Source {
  #run: Run | undefined;
  /** Resends items `[from, end)` (job indices) of `run`. */
  constructor(job: Job, host: JobHost, run: Run, from: number, end: number) {
    super(job, host);
    const items = packedFrom.get(run);
    const x = items
      ? packNumbers(items, from, end)
      : run.x.slice(from - run.s, end - run.s) as unknown[] | Float64Array;
    const again: Run = { ...run, s: from, x };
    if (items) packedFrom.set(again, items);
    this.#run = again;
  }
  get queued(): number {
    return this.#run ? this.#run.x.length : 0;
  }
  take(
    _maxItems: number,
    _maxChunks: number,
    transfer: Transferable[],
  ): Run | null {
    const run = this.#run;
    this.#run = undefined;
    this.exhausted = true;
    if (run?.x instanceof Float64Array) {
      transfer.push(run.x.buffer as ArrayBuffer);
    }
    return run ?? null;
  }
}
