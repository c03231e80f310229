// Per-worker record of the pool: the Worker, its port and doorbell, and the
// runs it holds (in the order it will run and answer them).

import type { Job } from "./_jobs.ts";
import type { Run } from "./_protocol.ts";

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
  /** Runs held, FIFO from `head`. */
  inflight: (InflightRun | undefined)[] = [];
  head = 0;
  /** Unanswered items per batch sent, FIFO from `bHead`. */
  batches: number[] = [];
  bHead = 0;
  /** Unanswered items in total. */
  items = 0;
  /** Chunks sent / answered (maxtasksperchild). */
  chunksSent = 0;
  chunksDone = 0;
  /** Holds an abortable run: gets nothing else until it is answered. */
  exclusive = false;
  /** Timer that kills the worker after an abort's grace period. */
  grace: ReturnType<typeof setTimeout> | undefined;
  /** Pending async decoding of results (keeps result order). */
  chain: Promise<void> | undefined;
  constructor(
    readonly worker: Worker,
    readonly port: MessagePort,
    readonly bell: Int32Array,
  ) {}
  get batchCount(): number {
    return this.batches.length - this.bHead;
  }
}
