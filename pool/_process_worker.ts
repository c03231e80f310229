// Entry of every process pool worker (the child side of
// `_process_runtime.ts`; its `main` is called by the child's generated main
// module, see process/_child.ts): connects back to the pool, reads the init,
// then runs the worker entry (`runWorker`) against a `HostPort` over the
// control connection. Messages are V8-serialized (structured clone's types)
// in CPython's framing. At the end of the control connection (the pool
// terminated this worker, or its process died) the process exits.

import type { Connection } from "../connection/connection.ts";
import { connectToParent } from "../process/_connect.ts";
import type { HostMessage, WorkerInit, WorkerMessage } from "./_protocol.ts";
import type { HostPort } from "./_runtime.ts";
import { runWorker } from "./_worker.ts";
import type * as Wire from "./_process_wire.ts";

type Load = () => Promise<Record<string, unknown>>;

class ProcessPort implements HostPort {
  readonly #conn: Connection;
  readonly #exit: (code?: number) => never;
  readonly #load: Load;
  readonly #wire: typeof Wire;
  #onmessage: ((msg: HostMessage) => void) | null = null;
  #early: HostMessage[] = [];
  /** Early messages are being handed over: later ones queue behind them. */
  #handing = false;
  #last: Promise<void> = Promise.resolve();
  onmessageerror: (() => void) | null = null;

  constructor(
    conn: Connection,
    exit: (code?: number) => never,
    load: Load,
    wire: typeof Wire,
  ) {
    this.#wire = wire;
    this.#conn = conn;
    this.#exit = exit;
    this.#load = load;
  }

  get onmessage(): ((msg: HostMessage) => void) | null {
    return this.#onmessage;
  }
  /**
   * Messages wait here until the entry listens (after the import). They are
   * handed over in a later macrotask, as a MessagePort would: the entry says
   * `ready` right after listening, and that must be written before a task
   * (maybe a long synchronous one) runs.
   */
  set onmessage(f: ((msg: HostMessage) => void) | null) {
    this.#onmessage = f;
    if (!f || this.#early.length === 0) return;
    this.#handing = true;
    setTimeout(() => {
      this.#handing = false;
      const early = this.#early;
      this.#early = [];
      for (const m of early) this.#onmessage?.(m);
    }, 0);
  }

  /** Reads host messages until the control connection ends, then exits. */
  async read(): Promise<void> {
    for (;;) {
      let bytes: Uint8Array;
      try {
        bytes = await this.#conn.recvBytes();
      } catch {
        break; // the pool is gone
      }
      let msg: HostMessage;
      try {
        msg = this.#wire.unpack(bytes) as HostMessage;
      } catch {
        this.onmessageerror?.();
        continue;
      }
      if (this.#onmessage && !this.#handing) this.#onmessage(msg);
      else this.#early.push(msg);
    }
    this.#exit(1);
  }

  postMessage(msg: WorkerMessage, transfer: Transferable[]): void {
    const bytes = this.#wire.pack(msg, transfer);
    this.#last = this.#conn.sendBytes(bytes).catch(() => this.#exit(1));
  }

  close(): void {
    // after the last message is written
    this.#last.finally(() => this.#exit(0));
  }

  load(_url: string): Promise<Record<string, unknown>> {
    return this.#load();
  }
}

/** Entry of the child (called by the generated main module). */
export async function main(_moduleUrl: string, load: Load): Promise<void> {
  // taken before the task module loads (runWorker hooks Deno.exit)
  const exit = Deno.exit.bind(Deno) as (code?: number) => never;
  // node:v8 loads while the connection is made
  const wiring = import("./_process_wire.ts");
  const { control } = await connectToParent();
  const wire = await wiring;
  let init: WorkerInit;
  try {
    init = wire.unpack(await control.recvBytes()) as WorkerInit;
  } catch {
    return exit(1);
  }
  const port = new ProcessPort(control, exit, load, wire);
  port.read();
  runWorker(port, init);
}
