// The child-process runtime of the pool (see _runtime.ts for the contract):
// each worker is a `deno run` child started by process/_child.ts (the same
// machinery as `Process`), running `_process_worker.ts` against a HostPort
// over the control connection. Messages are V8-serialized
// (`_process_wire.ts`) in CPython's framing, both ways.
//
// - Permissions and `memoryLimitMb` are real flags of the child (no
//   `--unstable-worker-options`).
// - A worker that dies — exits, is killed by a signal, runs out of memory —
//   closes its control socket: the pool hears `lost` with how it ended (the
//   exit code or signal from its status), and fails only the tasks it held.
// - Posts made before the child has connected (and node:v8 has loaded) wait
//   in order and go out with the init message first. Until then a post is
//   checked with structuredClone (plus the MessagePort rule): what V8's
//   serializer refuses beyond that (a SharedArrayBuffer) surfaces when the
//   queue is flushed, as this worker's loss.
// - `setRef(false)` unrefs the child process and its control socket: an idle
//   process pool never keeps the program alive. `terminate()` SIGKILLs it;
//   `exited` resolves once it has been reaped (join() waits for that).

import { Child, type ChildExit } from "../process/_child.ts";
import { WorkerLostError } from "./errors.ts";
import type { HostMessage, WorkerMessage } from "./_protocol.ts";
import {
  initNotSent,
  type SpawnOptions,
  type WorkerEvents,
  type WorkerHandle,
  type WorkerRuntime,
} from "./_runtime.ts";
import type * as Wire from "./_process_wire.ts";

const ENTRY = new URL("./_process_worker.ts", import.meta.url).href;

let wire: typeof Wire | undefined;
let wireLoading: Promise<typeof Wire> | undefined;

function loadWire(): Promise<typeof Wire> {
  return wireLoading ??= import("./_process_wire.ts").then((w) => wire = w);
}

function noPorts(transfer: Transferable[]): void {
  for (const t of transfer) {
    if (typeof MessagePort === "function" && t instanceof MessagePort) {
      throw new DOMException(
        "Cannot send a Pipe() end (a MessagePort) to a worker process: pass a manager proxy or a Listener address instead",
        "DataCloneError",
      );
    }
  }
}

function describe(exit: ChildExit): string {
  if (exit.signal !== null) {
    const oom = exit.signal === 5 || exit.signal === 6
      ? " (V8 aborts like this when the heap is full: see memoryLimitMb)"
      : "";
    return `was killed by signal ${exit.signal}${oom}`;
  }
  return `exited with code ${exit.code}`;
}

class ProcessWorker implements WorkerHandle {
  readonly #events: WorkerEvents;
  #child: Child | null = null;
  /** Packed messages (or, before node:v8 loaded, messages) waiting for the child. */
  #queue: { msg: unknown; transfer: Transferable[]; bytes?: Uint8Array }[] = [];
  #dead = false;
  #ref = true;
  #resolveExited!: () => void;
  readonly exited: Promise<void>;

  constructor(options: SpawnOptions, events: WorkerEvents) {
    this.#events = events;
    this.exited = new Promise((r) => this.#resolveExited = r);
    try {
      this.#enqueue(options.init, options.initTransfer);
    } catch (err) {
      queueMicrotask(() => this.#lost(initNotSent(err)));
      this.#resolveExited();
      this.#dead = true;
      return;
    }
    this.#start(options);
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async #start(options: SpawnOptions): Promise<void> {
    let child: Child;
    try {
      const [c] = await Promise.all([
        Child.spawn({
          entry: ENTRY,
          module: options.init.module,
          name: `the pool worker ${options.name}`,
          permissions: options.permissions,
          memoryLimitMb: options.memoryLimitMb,
        }),
        loadWire(),
      ]);
      child = c;
    } catch (err) {
      this.#resolveExited();
      this.#lost(
        new WorkerLostError(
          `Cannot finish the task as a pool worker process failed to start: ${
            (err as Error)?.message ?? String(err)
          }`,
          { cause: err },
        ),
      );
      return;
    }
    this.#child = child;
    child.closeListener();
    child.exited.then(() => this.#resolveExited());
    if (this.#dead) {
      child.kill("SIGKILL");
      return;
    }
    if (!this.#ref) child.setRef(false);
    try {
      for (const q of this.#queue) {
        child.control.sendBytes(q.bytes ?? wire!.pack(q.msg, q.transfer))
          .catch(() => {});
      }
    } catch (err) {
      this.#lost(
        new WorkerLostError(
          `Cannot finish the task as its message cannot reach a worker process: ${
            (err as Error).message
          }`,
          { cause: err },
        ),
      );
      return;
    }
    this.#queue = [];
    this.#read(child);
  }

  async #read(child: Child): Promise<void> {
    const w = wire!;
    for (;;) {
      let bytes: Uint8Array;
      try {
        bytes = await child.control.recvBytes();
      } catch {
        break;
      }
      if (this.#dead) return;
      let msg: WorkerMessage;
      try {
        msg = w.unpack(bytes) as WorkerMessage;
      } catch {
        this.#lost(
          new WorkerLostError(
            "Cannot read a message from a pool worker process",
          ),
        );
        return;
      }
      this.#events.message(msg);
    }
    if (this.#dead) return;
    const exit = await child.exited;
    this.#lost(
      new WorkerLostError(
        `Cannot finish the task as its worker process ${child.pid} ${
          describe(exit)
        }`,
      ),
    );
  }

  #lost(error: WorkerLostError): void {
    if (this.#dead) return;
    this.terminate();
    this.#events.lost(error);
  }

  #enqueue(msg: unknown, transfer: Transferable[]): void {
    if (wire) {
      this.#queue.push({ msg, transfer, bytes: wire.pack(msg, transfer) });
    } else {
      noPorts(transfer);
      structuredClone(msg); // throws a DataCloneError as postMessage would
      this.#queue.push({ msg, transfer });
    }
  }

  post(msg: HostMessage, transfer: Transferable[]): void {
    if (this.#dead) return;
    const child = this.#child;
    if (!child) {
      this.#enqueue(msg, transfer);
      return;
    }
    const bytes = wire!.pack(msg, transfer);
    child.control.sendBytes(bytes).catch(() => {});
  }

  check(value: unknown): void {
    if (wire) wire.checkCrossable(value, []);
    else structuredClone(value);
  }

  terminate(): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#queue = [];
    const child = this.#child;
    if (child) {
      // reaping it is awaited by join(): that must keep the process alive
      child.setRef(true);
      child.kill("SIGKILL");
      child.control.close();
    }
  }

  setRef(ref: boolean): void {
    if (ref === this.#ref) return;
    this.#ref = ref;
    if (!this.#dead) this.#child?.setRef(ref);
  }
}

/** Pool workers as child processes. */
export const processRuntime: WorkerRuntime = {
  spawn: (options, events) => new ProcessWorker(options, events),
};
