// The pool's workers and their lifecycle: spawning them through a runtime
// (the first alone, the others staggered), turning what a worker says about
// its death into a WorkerLostError, decoding results in order, replacing,
// recycling and retiring workers (an aborted task's grace period drained on
// the side), and stopping them all. The scheduler (`_scheduler.ts`) decides
// what runs where; this module only keeps `processes` workers serving and
// hands their results and losses to the scheduler's `WorkerSink`.

import { errorFromWire } from "../_error_wire.ts";
import {
  decodeFromPost as decodeAsync,
  decodeFromPostSync,
  encodeForPost,
} from "../_transfer.ts";
import type { RunResult, WorkerMessage } from "./_protocol.ts";
import type { PoolSettings } from "./_options.ts";
import { WorkerLostError } from "./errors.ts";
import { Slot } from "./_slot.ts";
import {
  initNotSent,
  NO_WORKER,
  type WorkerEvents,
  type WorkerRuntime,
} from "./_runtime.ts";

/** Start the other workers this long after the first at the latest (ms). */
const STAGGER_MS = 40;

/** What the workers report to the scheduler. */
export interface WorkerSink {
  /** Results of `w` (decoded, in order). */
  results(w: Slot, results: RunResult[], t: number): void;
  /** `w` is gone (it is dead already): fail or resend what it held. */
  lost(w: Slot, error: WorkerLostError): void;
  /** Whether the pool still runs workers (not terminated, not finished). */
  running(): boolean;
  /** Whether a lost or recycled worker must be replaced now. */
  wantsReplacement(): boolean;
  /** New workers are up: send them work. */
  kick(): void;
}

function lostMessage(msg: Extract<WorkerMessage, { k: "lost" }>): string {
  const e = msg.e ? `${msg.e.name}: ${msg.e.message}` : "";
  switch (msg.why) {
    case "exit":
      return `its worker called Deno.exit(${msg.code ?? 0})`;
    case "close":
      return "its worker called self.close()";
    case "rejection":
      return `its worker had an unhandled rejection: ${e}`;
    case "init":
      return `a pool worker failed to start: ${e}`;
    default:
      return `its worker had an uncaught error: ${e}`;
  }
}

function decodeSync(r: RunResult): void {
  r.v = decodeFromPostSync(r.v) as unknown[];
}

/** The serving workers of one pool, and those draining an aborted task. */
export class Workers implements Iterable<Slot> {
  readonly #settings: PoolSettings;
  readonly #runtime: WorkerRuntime;
  readonly #sink: WorkerSink;
  readonly #serving = new Set<Slot>();
  /** Retired workers draining an aborted task's grace period. */
  readonly #draining = new Set<Slot>();
  #spawned = 0;
  /** Workers stopped whose process has not been reaped yet (join waits for them). */
  readonly #exits = new Set<Promise<void>>();
  #stagger: ReturnType<typeof setTimeout> | undefined;
  #staggerSoon = false;

  /** Starts the first worker; the others follow (see STAGGER_MS). */
  constructor(
    settings: PoolSettings,
    runtime: WorkerRuntime,
    sink: WorkerSink,
  ) {
    this.#settings = settings;
    this.#runtime = runtime;
    this.#sink = sink;
    // The first worker starts alone: booting several Workers at once makes
    // each slower, and the first result waits for the first one. The others
    // start once it has answered (or after STAGGER_MS, e.g. no task yet, a
    // slow initializer).
    this.#spawn();
    if (settings.processes > 1) {
      this.#stagger = setTimeout(() => this.#spawnRest(), STAGGER_MS);
    }
  }

  /** Resolves once every stopped worker's process has been reaped. */
  reaped(): Promise<void> {
    return Promise.all(this.#exits).then(() => {});
  }

  /** Serving workers. */
  get size(): number {
    return this.#serving.size;
  }

  [Symbol.iterator](): Iterator<Slot> {
    return this.#serving[Symbol.iterator]();
  }

  #spawn(): void {
    const s = this.#settings;
    const w = new Slot();
    this.#serving.add(w);
    const events: WorkerEvents = {
      message: (msg) => this.#onMessage(w, msg),
      lost: (error) => this.#lost(w, error),
    };
    let enc: { value: unknown; transfer: Transferable[] };
    try {
      enc = encodeForPost(s.initargs);
    } catch (err) {
      w.handle = NO_WORKER;
      queueMicrotask(() => this.#lost(w, initNotSent(err)));
      return;
    }
    w.handle = this.#runtime.spawn({
      name: `mproc-pool-worker-${++this.#spawned}`,
      init: {
        module: s.module,
        initializer: s.initializer,
        initargs: enc.value as unknown[],
        initHandles: enc.value !== s.initargs,
        transfer: s.transfer,
      },
      initTransfer: enc.transfer,
      permissions: s.permissions,
      memoryLimitMb: s.memoryLimitMb,
    }, events);
    // An idle worker never keeps the process alive (API.md §9).
    w.handle.setRef(false);
  }

  #lost(w: Slot, error: WorkerLostError): void {
    if (w.dead) return;
    this.kill(w);
    this.#sink.lost(w, error);
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
        const cause = msg.e ? errorFromWire(msg.e) : undefined;
        this.#lost(
          w,
          new WorkerLostError(
            `Cannot finish the task as ${lostMessage(msg)}`,
            cause ? { cause } : undefined,
          ),
        );
        return;
      }
    }
  }

  #results(w: Slot, results: RunResult[], t: number): void {
    this.#sink.results(w, results, t);
    if (this.#stagger !== undefined && !this.#staggerSoon) {
      // First results are out: start the other workers in the next macrotask
      // (creating a Worker blocks this thread for a few ms; let the awaiting
      // code see its result first).
      this.#staggerSoon = true;
      clearTimeout(this.#stagger);
      this.#stagger = setTimeout(() => this.#spawnRest(), 0);
    }
  }

  /** `w` answered everything it held: recycle it if it is retired or used up. */
  idle(w: Slot): void {
    if (w.retired) return this.kill(w);
    const max = this.#settings.maxtasksperchild;
    if (max !== undefined && w.chunksDone >= max) {
      this.kill(w);
      this.replace();
    }
  }

  /** Stops `w` (serving or draining). */
  kill(w: Slot): void {
    if (w.dead) return;
    const exited = w.handle.exited;
    if (exited) {
      this.#exits.add(exited);
      exited.then(() => this.#exits.delete(exited));
    }
    w.kill();
    this.#serving.delete(w);
    this.#draining.delete(w);
  }

  /**
   * Takes a worker whose running task was aborted out of service at once: a
   * replacement serves while it drains `abortGrace` on the side (it is
   * stopped when its task ends, or lost when the grace runs out), so
   * `processes` workers keep serving.
   */
  retire(w: Slot): void {
    if (w.retired || w.dead) return;
    const grace = this.#settings.abortGrace;
    w.retired = true;
    this.#serving.delete(w);
    this.#draining.add(w);
    // nobody waits for it any more: it must not keep the process alive
    w.handle.setRef(false);
    w.grace = setTimeout(() => {
      w.grace = undefined;
      this.#lost(
        w,
        new WorkerLostError(
          `Cannot finish the task as its worker was terminated ${grace} ms after an abort`,
        ),
      );
    }, grace);
    Deno.unrefTimer(w.grace);
    this.replace();
  }

  #spawnRest(): void {
    if (this.#stagger === undefined) return;
    clearTimeout(this.#stagger);
    this.#stagger = undefined;
    if (!this.#sink.running()) return;
    this.#fill();
    this.#sink.kick();
  }

  #fill(): void {
    while (
      this.#sink.running() && this.#serving.size < this.#settings.processes
    ) this.#spawn();
  }

  /** Brings the serving workers back to `processes` (when the pool wants it). */
  replace(): void {
    if (this.#stagger !== undefined) return this.#spawnRest();
    if (!this.#sink.wantsReplacement()) return;
    this.#fill();
  }

  /** Stops every worker (serving and draining); returns those that were serving or draining. */
  stopAll(): Slot[] {
    clearTimeout(this.#stagger);
    this.#stagger = undefined;
    const all = [...this.#serving, ...this.#draining];
    for (const w of all) this.kill(w);
    return all;
  }
}
