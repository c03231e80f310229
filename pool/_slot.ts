// Per-worker record of the pool: the worker (a `WorkerHandle` of some
// runtime) and the runs it holds, FIFO in the order it will run and answer
// them. A slot holding work keeps the process alive; an idle one does not.

import type { Job } from "./_jobs.ts";
import type { Run, RunResult } from "./_protocol.ts";
import type { WorkerHandle } from "./_runtime.ts";

/** A run sent to a worker and not fully answered yet. */
export interface InflightRun {
  /** Where the results go. */
  job: Job;
  /** First item index (in the job). */
  s: number;
  /** Item count. */
  n: number;
  /** Items answered so far (always whole chunks, from the start). */
  done: number;
  /** Chunks in the run (for maxtasksperchild). */
  chunks: number;
  /** What was sent (to send the unstarted part again if the worker dies). */
  run: Run;
}

/** One worker of the pool. */
export class Slot {
  /** The worker has imported the task module and run the initializer. */
  ready = false;
  /** Terminated (or lost); ignore whatever it still says. */
  dead = false;
  /** Runs held, FIFO from `#head`. */
  #inflight: (InflightRun | undefined)[] = [];
  #head = 0;
  /** Unanswered items per batch sent, FIFO from `#bHead`. */
  #batches: number[] = [];
  #bHead = 0;
  /** Unanswered items in total. */
  items = 0;
  /** Chunks sent / answered (maxtasksperchild). */
  chunksSent = 0;
  chunksDone = 0;
  /** Out of service: draining an aborted task's grace period (replaced already). */
  retired = false;
  /** Holds an abortable run: gets nothing else until it is answered. */
  exclusive = false;
  /** Timer that kills the worker after an abort's grace period. */
  grace: ReturnType<typeof setTimeout> | undefined;
  /** Pending async decoding of results (keeps result order). */
  chain: Promise<void> | undefined;
  /** The worker; set right after spawning it. */
  handle!: WorkerHandle;

  /** Batches sent and not fully answered. */
  get batchCount(): number {
    return this.#batches.length - this.#bHead;
  }

  /**
   * Records one batch of runs as sent (`lengths[i]` items of `runs[i]`, for
   * `jobs[i]`). The first batch of an idle worker refs it.
   */
  sent(runs: Run[], jobs: Job[], lengths: number[], exclusive: boolean): void {
    let items = 0;
    for (let i = 0; i < runs.length; i++) {
      const r = runs[i]!;
      const n = lengths[i]!;
      items += n;
      const chunks = Math.ceil(n / r.c);
      this.chunksSent += chunks;
      this.#inflight.push({
        job: jobs[i]!,
        s: r.s,
        n,
        done: 0,
        chunks,
        run: r,
      });
    }
    if (this.items === 0 && items > 0) this.handle.setRef(true);
    this.items += items;
    this.#batches.push(items);
    if (exclusive) this.exclusive = true;
  }

  /**
   * Takes one result off the FIFO: returns the run it answers, or undefined
   * when it does not match the run at the head (a protocol error).
   */
  ack(res: RunResult): InflightRun | undefined {
    const ir = this.#inflight[this.#head];
    if (!ir || ir.job.id !== res.j) return undefined;
    ir.done += res.n;
    this.items -= res.n;
    if (ir.done >= ir.n) {
      this.#inflight[this.#head++] = undefined;
      this.chunksDone += ir.chunks;
      if (this.#head === this.#inflight.length) {
        this.#inflight.length = 0;
        this.#head = 0;
      }
    }
    let left = res.n;
    const batches = this.#batches;
    while (left > 0 && this.#bHead < batches.length) {
      const b = batches[this.#bHead]!;
      if (b <= left) {
        left -= b;
        this.#bHead++;
      } else {
        batches[this.#bHead] = b - left;
        left = 0;
      }
    }
    if (this.#bHead === batches.length) {
      batches.length = 0;
      this.#bHead = 0;
    }
    return ir;
  }

  /** Called once the results of a message are delivered: an idle worker is unref'd. */
  settle(): void {
    if (this.items !== 0) return;
    this.exclusive = false;
    if (this.grace !== undefined) {
      clearTimeout(this.grace);
      this.grace = undefined;
    }
    this.handle.setRef(false);
  }

  /** The runs not fully answered, in order (the first one was running). */
  unstarted(): InflightRun[] {
    const out: InflightRun[] = [];
    for (let i = this.#head; i < this.#inflight.length; i++) {
      const ir = this.#inflight[i];
      if (ir) out.push(ir);
    }
    return out;
  }

  /** True when a run of `job` is in flight here. */
  holds(job: Job): boolean {
    for (let i = this.#head; i < this.#inflight.length; i++) {
      if (this.#inflight[i]?.job === job) return true;
    }
    return false;
  }

  /** Stops the worker; the slot ignores it from now on. */
  kill(): void {
    if (this.dead) return;
    this.dead = true;
    if (this.grace !== undefined) clearTimeout(this.grace);
    this.handle.terminate();
  }
}
