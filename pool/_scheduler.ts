// The pool's scheduler: the shared queue of sources, batching (budget,
// worker choice), retries of what a lost worker held, delivering results to
// jobs, aborts and shutdown. The workers themselves (spawn, stagger, death,
// replacement, recycling, abort grace) are `_workers.ts`. The task path
// reads one way: Pool (the facade) → submit() → the queue → dispatch() →
// Slot → WorkerHandle (a runtime, see _runtime.ts); results come back
// WorkerHandle → Workers → Scheduler → Slot.ack → Job, with no call back up.

import { errorFromWire } from "../_error_wire.ts";
import { readAhead } from "./_chunks.ts";
import { ApplyGroup, type Job, type JobHost } from "./_jobs.ts";
import {
  ApplySource,
  AsyncIterSource,
  RetrySource,
  type Source,
} from "./_sources.ts";
import type { HostMessage, Run, RunResult } from "./_protocol.ts";
import { isDataCloneError } from "./_values.ts";
import type { PoolSettings } from "./_options.ts";
import type { PoolStats } from "./options.ts";
import { PoolTerminatedError, WorkerLostError } from "./errors.ts";
import type { Slot } from "./_slot.ts";
import type { WorkerRuntime } from "./_runtime.ts";
import { Workers } from "./_workers.ts";

/** The pool's state: running, closing (no new tasks), terminated. */
export type PoolState = "run" | "close" | "terminate";

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

function cloneableReason(reason: unknown): unknown {
  try {
    return structuredClone(reason);
  } catch {
    return new DOMException("The task was aborted", "AbortError");
  }
}

/** Schedules the tasks of one pool onto its workers. */
export class Scheduler {
  #processes: number;
  #maxtasks: number | undefined;
  #abortGrace: number;
  #transfer: boolean;
  #state: PoolState = "run";
  #workers: Workers;
  #holds = 0;
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

  /** Starts the workers (see Workers). */
  constructor(settings: PoolSettings, runtime: WorkerRuntime) {
    const { processes, signal, transfer } = settings;
    this.#processes = processes;
    this.#maxtasks = settings.maxtasksperchild;
    this.#abortGrace = settings.abortGrace;
    this.#transfer = transfer;
    this.#host = {
      kick: () => this.#dispatch(),
      closing: () => this.#state !== "run",
      transfer,
      readAhead: (c: number) => readAhead(processes, c),
    };
    if (signal) {
      const onAbort = (): void => this.terminate(new PoolTerminatedError());
      signal.addEventListener("abort", onAbort, { once: true });
      this.#unlistenPool = () => signal.removeEventListener("abort", onAbort);
    }
    const running = (): boolean =>
      this.#state !== "terminate" && !this.#finished;
    this.#workers = new Workers(settings, runtime, {
      results: (w, results, t) => this.#results(w, results, t),
      lost: (w, error) => this.#lost(w, error),
      running,
      wantsReplacement: () =>
        running() && !(this.#state === "close" && !this.#hasQueued()),
      kick: () => this.#dispatch(),
    });
  }

  /** What jobs and sources need of the pool. */
  get host(): JobHost {
    return this.#host;
  }

  /** The pool's state. */
  get state(): PoolState {
    return this.#state;
  }

  /**
   * Keeps the pool from finishing (close() + join()) until the returned
   * release is called: a submission on its way (its function being checked).
   */
  hold(): () => void {
    this.#holds++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#holds--;
      this.#maybeFinish();
    };
  }

  /** A fresh job id. */
  nextJobId(): number {
    return ++this.#jobId;
  }

  /** Counters for Pool.stats(). */
  stats(): PoolStats {
    let running = 0;
    for (const w of this.#workers) running += w.items;
    return {
      processes: this.#processes,
      workers: [...this.#workers].map((w) => ({
        pid: w.handle.pid,
        running: w.items,
      })),
      queued: this.#counted,
      running,
      completed: this.#completed,
      failed: this.#failed,
    };
  }

  /** Takes no new tasks; the queued and running ones finish, then the workers exit. */
  close(): void {
    if (this.#state !== "run") return;
    this.#state = "close";
    this.#dispatch();
    this.#maybeFinish();
  }

  /** Resolves once every worker is gone (after close() and the work, or terminate()). */
  finished(): Promise<void> {
    const reaped = () => this.#workers.reaped();
    if (this.#finished) return reaped();
    return new Promise<void>((resolve) => this.#joinWaiters.push(resolve))
      .then(reaped);
  }

  // ---------------------------------------------------------------- results

  #post(w: Slot, msg: HostMessage, transfer: Transferable[] = []): void {
    w.handle.post(msg, transfer);
  }

  #results(w: Slot, results: RunResult[], t: number): void {
    let items = 0;
    for (const res of results) {
      items += res.n;
      const ir = w.ack(res);
      if (!ir) {
        this.#workers.kill(w);
        this.#lost(
          w,
          new WorkerLostError(
            "Cannot match a result to its task (pool protocol error)",
          ),
        );
        return;
      }
      this.#deliver(ir.job, res);
    }
    if (items > 0) {
      const per = t / items;
      this.#est = this.#est === undefined ? per : this.#est * 0.7 + per * 0.3;
    }
    w.settle();
    if (w.items === 0) this.#workers.idle(w);
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

  /** `w` is gone (stopped already): its running chunk fails, the rest is resent. */
  #lost(w: Slot, error: Error): void {
    const wasReady = w.ready;
    const runs = w.unstarted();
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
      this.terminate(error);
      return;
    }
    if (retry.length && this.#state !== "terminate") {
      this.#queue.splice(this.#qHead, 0, ...retry);
      for (const r of retry) this.#counted += r.queued;
    }
    if (!w.retired) this.#workers.replace(); // a retired one was replaced already
    this.#dispatch();
    this.#maybeFinish();
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
            let one: Run | null = null;
            try {
              one = src.take(1, 1, transfer);
            } catch (err) {
              // an argument that cannot be sent (a closed Pipe() end, …):
              // that task fails; no (empty) run goes out for it
              src.job.fail(err);
              src.cancel();
            }
            if (one) {
              if (!group || group.fn !== src.job.fn) {
                group = new ApplyGroup(++this.#jobId, src.job.fn);
                runs.push(group.run);
                jobs.push(group);
              }
              group.add(src.job, one);
              items++;
              chunks++;
            }
            this.#counted--;
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
          w.handle.check(r.x);
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
    w.sent(runs, jobs, lengths, exclusive);
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
    if (this.#state !== "close" || this.#finished || this.#holds > 0) return;
    if (this.#hasQueued()) return;
    for (const w of this.#workers) if (w.items > 0 || w.chain) return;
    this.#finished = true;
    this.#workers.stopAll();
    this.#unlistenPool?.();
    this.#unlistenPool = undefined;
    this.#wakeJoin();
  }

  #wakeJoin(): void {
    const j = this.#joinWaiters;
    this.#joinWaiters = [];
    for (const f of j) f();
  }

  terminate(error: Error): void {
    if (this.#state === "terminate") return;
    this.#state = "terminate";
    this.#finished = true;
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
    for (const w of this.#workers.stopAll()) {
      for (const ir of w.unstarted()) failed.add(ir.job);
    }
    for (const job of failed) job.fail(error);
    this.#wakeJoin();
  }

  #abort(job: Job, src: Source, why: unknown): void {
    this.#counted -= src.queued;
    src.cancel();
    const reason = cloneableReason(why);
    const retire: Slot[] = [];
    for (const w of this.#workers) {
      if (!w.holds(job)) continue;
      this.#post(w, { k: "abort", j: job.id, reason });
      // Abortable runs travel alone: the worker holds nothing else. With a
      // finite grace it is replaced at once and drains apart; with Infinity
      // it keeps its place until the task ends.
      if (this.#abortGrace !== Infinity) retire.push(w);
    }
    for (const w of retire) this.#workers.retire(w);
    this.#dispatch();
    this.#maybeFinish();
  }

  submit(job: Job, src: Source, signal: AbortSignal | undefined): void {
    if (signal) {
      job.listen(signal, () => this.#abort(job, src, signal.reason));
    }
    this.#enqueue(src);
  }
}
