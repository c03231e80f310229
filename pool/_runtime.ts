// The worker-lifecycle seam of the pool: how one worker is started, spoken
// to, kept alive (or not) and stopped. The scheduler only sees these
// interfaces; each runtime is one file implementing them:
//
// - `_thread_runtime.ts`: Deno Worker threads (`runtime: "worker"`).
// - `_process_runtime.ts`: child processes (`runtime: "process"`), running
//   `runWorker` (`_worker.ts`) against a `HostPort` over the control
//   connection in the child (`_process_worker.ts`).
//
// Contract, host side (`WorkerRuntime.spawn` → `WorkerHandle`):
// - `spawn` starts the worker and sends it `init`; it never throws. If the
//   worker cannot start (the init cannot be sent, the module cannot be read,
//   the process cannot be spawned) that is reported through `events.lost`,
//   asynchronously.
// - Messages both ways are plain data — what structured clone and msgpack
//   both carry (objects, arrays, strings, numbers, booleans, null, typed
//   arrays) — plus an explicit transfer list (ArrayBuffers, MessagePorts),
//   which a runtime that cannot move them may copy instead (or refuse with a
//   TypeError naming them). Live handles are already encoded by
//   `_transfer.ts` markers.
// - `post` delivers in order or throws synchronously (then nothing of that
//   message was sent and the worker stays usable): a DataCloneError for a
//   value that cannot be cloned, a TypeError for one the runtime cannot carry.
// - `events.message` gets every worker message in order. `events.lost` is
//   called at most once, when the worker is gone or unusable (it exited or
//   crashed without a `lost` message of its own, a message could not be
//   read); never after `terminate()`.
// - `terminate()` stops the worker now and silences its events; idempotent.
// - `setRef(false)` lets the process exit while this worker is alive and
//   idle; `setRef(true)` (the state after spawn) keeps it alive. The pool
//   refs a worker while it holds work and unrefs it when idle (API.md §9).
//
// Contract, worker side (`HostPort`, given to `runWorker`):
// - `postMessage(msg, transfer)` sends to the host in order; it may throw
//   synchronously (a DataCloneError) when a value cannot be sent.
// - `onmessage` is set by the entry and gets every host message in order;
//   `onmessageerror` when one cannot be read.
// - `spin(ms, stop)` is optional: the fast path of a worker that just went
//   idle — deliver (through `onmessage`) the messages that arrive within
//   `ms` synchronously, restarting the wait after each, and return when none
//   came for `ms` or `stop()` is true. A runtime without it simply waits in
//   its event loop.
// - `close()` ends the worker (after the entry reported why).

import { WorkerLostError } from "./errors.ts";
import type { HostMessage, WorkerInit, WorkerMessage } from "./_protocol.ts";

/** What a worker reports to the scheduler. */
export interface WorkerEvents {
  /** A message from the worker (in order). */
  message(msg: WorkerMessage): void;
  /** The worker is gone or unusable; called at most once, never after terminate(). */
  lost(error: WorkerLostError): void;
}

/** How to start one worker. */
export interface SpawnOptions {
  /** A name for diagnostics (`mproc-pool-worker-N`). */
  name: string;
  /** The first message: which module to import, the initializer. */
  init: WorkerInit;
  /** Transferables inside `init.initargs`. */
  initTransfer: Transferable[];
  /** Deno permissions of the worker (already completed by the pool). */
  permissions?: Deno.PermissionOptions | undefined;
  /** V8 heap cap of the worker in MiB (a runtime that cannot cap it never gets one). */
  memoryLimitMb?: number | undefined;
}

/** One running worker, as the scheduler sees it. */
export interface WorkerHandle {
  /** Sends a message; throws synchronously when it cannot be sent (nothing sent). */
  post(msg: HostMessage, transfer: Transferable[]): void;
  /** Stops the worker now; no event follows. Idempotent. */
  terminate(): void;
  /** Whether this worker keeps the process alive (true after spawn). */
  setRef(ref: boolean): void;
  /** The worker's process id, for a runtime of child processes (once known). */
  readonly pid?: number | undefined;
  /** Resolves when the worker is gone for good (a child process reaped). */
  readonly exited?: Promise<void>;
  /** Throws what post() would throw for `value`. */
  check(value: unknown): void;
}

/** A way of running pool workers (threads, child processes). */
export interface WorkerRuntime {
  /** Starts a worker; never throws (failures arrive as `events.lost`). */
  spawn(options: SpawnOptions, events: WorkerEvents): WorkerHandle;
}

/** The host, as the worker entry (`runWorker`) sees it. */
export interface HostPort {
  /** Sends to the host (in order); may throw a DataCloneError. */
  postMessage(msg: WorkerMessage, transfer: Transferable[]): void;
  /** Set by the entry: every host message, in order. */
  onmessage: ((msg: HostMessage) => void) | null;
  /** Set by the entry: a host message could not be read. */
  onmessageerror: (() => void) | null;
  /** Optional idle fast path: deliver messages arriving within `ms` synchronously. */
  spin?(ms: number, stop: () => boolean): void;
  /** Ends the worker. */
  close(): void;
  /** Imports the task module (default: `import(url)`). */
  load?(url: string): Promise<Record<string, unknown>>;
}

/** The error of a worker whose init (its `initargs`) could not be sent. */
export function initNotSent(err: unknown): WorkerLostError {
  return new WorkerLostError(
    `Cannot finish the task as a pool worker failed to start: the initargs cannot be sent (${
      (err as Error)?.message ?? String(err)
    })`,
    { cause: err },
  );
}

/**
 * The handle of a worker that does not exist (it could not be created or
 * sent its init; its loss is reported through `events.lost`).
 */
export const NO_WORKER: WorkerHandle = {
  post() {},
  terminate() {},
  setRef() {},
  check(value) {
    structuredClone(value);
  },
};
