// Entry of every process pool worker (the child side of
// `_process_runtime.ts`; its `main` is called by the child's generated main
// module, see process/_child.ts): takes the control connection the child
// dialed, reads the init, then runs the worker entry (`runWorker`) against a
// `HostPort` over it. Messages are V8-serialized (structured clone's types)
// in CPython's framing, read and written by a bare `SocketChannel`: a pool
// worker never loads the rest of the connection layer (msgpackr, pickle),
// which would add to every worker's start. At the end of the control
// connection (the pool terminated this worker, or its process died) the
// process exits.

import type { Channel } from "../connection/_channel.ts";
import { SocketChannel } from "../connection/_socket_channel.ts";
import type { Dialed } from "../process/_dial.ts";
import type { HostMessage, WorkerInit, WorkerMessage } from "./_protocol.ts";
import type { HostPort } from "./_runtime.ts";
import { runWorker } from "./_worker.ts";
import type * as Wire from "./_process_wire.ts";

type Load = () => Promise<Record<string, unknown>>;

/** No frame limit from the pool (the pool is this process's parent). */
const MAX_FRAME = Number.MAX_SAFE_INTEGER;

class ProcessPort implements HostPort {
  readonly #channel: Channel;
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
    channel: Channel,
    exit: (code?: number) => never,
    load: Load,
    wire: typeof Wire,
  ) {
    this.#wire = wire;
    this.#channel = channel;
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
      let bytes: Uint8Array | null;
      try {
        bytes = await this.#channel.readFrame(MAX_FRAME);
      } catch {
        break; // the pool is gone
      }
      if (bytes === null) break; // the pool is gone
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
    this.#last = this.#channel.writeFrame(bytes).catch(() => this.#exit(1));
  }

  close(): void {
    // after the last message is written
    this.#last.then(() => this.#channel.flushed()).finally(() => this.#exit(0));
  }

  load(_url: string): Promise<Record<string, unknown>> {
    return this.#load();
  }
}

/** Entry of the child (called by the generated main module). */
export async function main(
  _moduleUrl: string,
  load: Load,
  dialing: Promise<Dialed>,
): Promise<void> {
  // taken before the task module loads (runWorker hooks Deno.exit)
  const exit = Deno.exit.bind(Deno) as (code?: number) => never;
  // node:v8 loads while the connection is made
  const wiring = import("./_process_wire.ts");
  let channel: Channel;
  let init: WorkerInit;
  try {
    channel = new SocketChannel((await dialing).control);
    const wire = await wiring;
    const first = await channel.readFrame(MAX_FRAME);
    if (first === null) return exit(1);
    init = wire.unpack(first) as WorkerInit;
  } catch {
    return exit(1);
  }
  const port = new ProcessPort(channel, exit, load, await wiring);
  port.read();
  runWorker(port, init);
}
