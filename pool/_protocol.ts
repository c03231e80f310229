// Messages between the pool (host) and its workers. Everything after the
// first `init` message travels over a dedicated MessagePort; the host also
// bumps a per-worker "doorbell" counter in a SharedArrayBuffer so that a
// worker spinning briefly after its last result can pick new work up
// synchronously (`receiveMessageOnPort`) instead of waiting for its event loop.

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

/** First message to a worker (via `Worker.postMessage`). */
export interface InitMessage {
  k: "init";
  port: MessagePort;
  bell: SharedArrayBuffer;
  module: string;
  initializer?: string | undefined;
  initargs: unknown[];
  initHandles: boolean;
  transfer: boolean;
}

/** Host to worker, over the port. */
export type HostMessage =
  | { k: "run"; b: Run[] }
  | { k: "abort"; j: number; reason: unknown }
  | { k: "exit" };

/** Worker to host, over the port. */
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
