// Messages between the pool (host) and its workers, whatever runtime carries
// them (see _runtime.ts): plain data plus an explicit transfer list. The
// first message is a `WorkerInit`; then the host sends `HostMessage`s and the
// worker answers with `WorkerMessage`s.

import type { ErrorWire } from "../_error_wire.ts";

/** How a run's items are called: `fn(...item)` or `fn(item)`. */
export type RunMode = 0 | 1 | 2;
/** `apply`: one item, the argument array. */
export const MODE_APPLY: RunMode = 0;
/** `map`/`imap`: each item is the single argument. */
export const MODE_MAP: RunMode = 1;
/** `starmap`: each item is an argument array. */
export const MODE_STAR: RunMode = 2;

/** A contiguous range of whole chunks of one job. */
export interface Run {
  /** Job id. */
  j: number;
  /** Export name of the task function. */
  f: string;
  /** Call mode. */
  m: RunMode;
  /** Index of the first item in the job. */
  s: number;
  /** Chunk size of the job (chunk boundaries are multiples of it from 0). */
  c: number;
  /** The items; a Float64Array when they are all numbers. */
  x: unknown[] | Float64Array;
  /** Set when `x` holds live-handle markers (see `_transfer.ts`). */
  h?: 1;
  /** Set when the run can be aborted (a per-task signal). */
  a?: 1;
}

/** Results for a contiguous range `[s, s + n)` of a run (in run order). */
export interface RunResult {
  /** Job id. */
  j: number;
  /** First item index. */
  s: number;
  /** Item count. */
  n: number;
  /** Values (holes for failed chunks); Float64Array when all numbers. */
  v: unknown[] | Float64Array;
  /** Failed chunks: `[first item index of the chunk, error]`. */
  e?: [number, ErrorWire][];
  /** Set when `v` holds live-handle markers. */
  h?: 1;
}

/** What a worker needs to start (plain data; the first message of every runtime). */
export interface WorkerInit {
  /** URL of the task module. */
  module: string;
  /** Export run once before the first task. */
  initializer?: string | undefined;
  /** Its arguments (live handles encoded, see `initHandles`). */
  initargs: unknown[];
  /** Set when `initargs` holds live-handle markers. */
  initHandles: boolean;
  /** Transfer (rather than copy) ArrayBuffers found in results. */
  transfer: boolean;
}

/** Host to worker. */
export type HostMessage =
  | { k: "run"; b: Run[] }
  | { k: "abort"; j: number; reason: unknown }
  | { k: "exit" };

/** Worker to host. */
export type WorkerMessage =
  | { k: "ready" }
  | { k: "res"; r: RunResult[]; t: number }
  | {
    k: "lost";
    why: "exit" | "close" | "error" | "rejection" | "init";
    code?: number;
    e?: ErrorWire;
  };

/** Symbol.for key of the per-task AbortSignal slot on `globalThis` in a worker. */
export const SIGNAL_SLOT: unique symbol = Symbol.for(
  "@mproc/multiprocessing.taskSignal",
) as never;
