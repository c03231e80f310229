// The Worker-thread runtime of the pool (see _runtime.ts for the contract):
// each worker is a Deno module Worker running `_thread_worker.ts`. Host to
// worker, everything after the boot message travels over a dedicated
// MessagePort, and the host bumps a per-worker "doorbell" counter in a
// SharedArrayBuffer so that a worker spinning briefly after its last result
// can pick new work up synchronously (`receiveMessageOnPort`) instead of
// waiting for its event loop. Worker to host, messages use the Worker's own
// channel (`self.postMessage`): the host listens on no MessagePort.
//
// Keeping the process alive: a Deno Worker (and a MessagePort with a
// listener) keeps the event loop alive for as long as it exists; `setRef`
// uses Deno's private Worker ref/unref (`../_worker_ref.ts`). (A listening
// MessagePort's `unref()` does not stick: the next message re-arms a ref'd
// receive; hence no listener on the host's port.) This keeps
// `deno.permissions` (which the `node:worker_threads` Worker cannot take) and
// the start-up speed of a web Worker. When the hook is not found (another
// Deno), an idle worker keeps the process alive, as before.

import { workerRefHook } from "../_worker_ref.ts";
import { WorkerLostError } from "./errors.ts";
import type { HostMessage, WorkerInit, WorkerMessage } from "./_protocol.ts";
import {
  initNotSent,
  NO_WORKER,
  type SpawnOptions,
  type WorkerEvents,
  type WorkerHandle,
  type WorkerRuntime,
} from "./_runtime.ts";

/** The first message to a thread worker (via `Worker.postMessage`). */
export interface ThreadBoot {
  init: WorkerInit;
  port: MessagePort;
  bell: SharedArrayBuffer;
}

const ENTRY = new URL("./_thread_worker.ts", import.meta.url);

class ThreadWorker implements WorkerHandle {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #bell: Int32Array;
  readonly #events: WorkerEvents;
  #dead = false;
  #ref = true;

  constructor(options: SpawnOptions, events: WorkerEvents) {
    this.#events = events;
    const ch = new MessageChannel();
    const bellBuf = new SharedArrayBuffer(4);
    const opts: WorkerOptions & {
      deno?: { permissions: Deno.PermissionOptions };
    } = { type: "module", name: options.name };
    if (options.permissions !== undefined) {
      opts.deno = { permissions: options.permissions };
    }
    const worker = new Worker(ENTRY, opts);
    this.#worker = worker;
    this.#port = ch.port1;
    this.#bell = new Int32Array(bellBuf);
    worker.onmessage = (e: MessageEvent) => {
      if (!this.#dead) events.message(e.data as WorkerMessage);
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#lost(
        new WorkerLostError(
          `Cannot finish the task as its worker failed: ${e.message}`,
        ),
      );
    };
    worker.onmessageerror = () =>
      this.#lost(
        new WorkerLostError("Cannot read a message from a pool worker"),
      );
    try {
      const boot: ThreadBoot = {
        init: options.init,
        port: ch.port2,
        bell: bellBuf,
      };
      worker.postMessage(boot, [ch.port2, ...options.initTransfer]);
    } catch (err) {
      // e.g. initargs holding a handle that moves (a Pipe() end): it can
      // reach one worker only.
      queueMicrotask(() => this.#lost(initNotSent(err)));
    }
  }

  #lost(error: WorkerLostError): void {
    if (this.#dead) return;
    this.terminate();
    this.#events.lost(error);
  }

  post(msg: HostMessage, transfer: Transferable[]): void {
    // Wrapped in a Map: node:worker_threads' receiveMessageOnPort (used by an
    // idle worker) walks every own property of a message, which would cost a
    // pass over every item; it does not look inside Maps.
    this.#port.postMessage(new Map([[0, msg]]), transfer);
    Atomics.add(this.#bell, 0, 1);
    Atomics.notify(this.#bell, 0);
  }

  terminate(): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#worker.onmessage = null;
    this.#port.close();
    this.#worker.terminate();
  }

  check(value: unknown): void {
    structuredClone(value);
  }

  setRef(ref: boolean): void {
    if (ref === this.#ref || this.#dead) return;
    this.#ref = ref;
    workerRefHook?.(this.#worker, ref);
  }
}

/** Pool workers as Deno Worker threads. */
export const threadRuntime: WorkerRuntime = {
  spawn(options, events) {
    try {
      return new ThreadWorker(options, events);
    } catch (err) {
      // e.g. `permissions` this process cannot grant
      queueMicrotask(() =>
        events.lost(
          new WorkerLostError(
            `Cannot finish the task as a pool worker failed to start: ${
              (err as Error)?.message ?? String(err)
            }`,
            { cause: err },
          ),
        )
      );
      return NO_WORKER;
    }
  },
};
