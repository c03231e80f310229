// Entry module of every thread pool worker (loaded by `_thread_runtime.ts`;
// never imported by user code): waits for the boot message, then runs the
// worker entry (`runWorker`) against a `HostPort`: host messages arrive on
// the boot MessagePort, answers go out through `self.postMessage`.
// Its `spin` is the idle fast path: after a flush the worker polls the
// doorbell the host bumps on every post and takes messages synchronously
// with node:worker_threads' receiveMessageOnPort.

import type { HostMessage, WorkerMessage } from "./_protocol.ts";
import type { HostPort } from "./_runtime.ts";
import type { ThreadBoot } from "./_thread_runtime.ts";
import { runWorker } from "./_worker.ts";

/** The first part of a spin is busy polling; then Atomics.wait on the doorbell. */
const HOT_MS = 0.3;

interface WorkerScope {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(msg: unknown, transfer: Transferable[]): void;
  close(): void;
}

type ReceiveSync = (port: MessagePort) => { message: unknown } | undefined;

/** Host messages travel wrapped in a Map (see ThreadWorker.post). */
function unwrap(m: unknown): HostMessage {
  return (m as Map<number, HostMessage>).get(0)!;
}

class ThreadPort implements HostPort {
  readonly #port: MessagePort;
  readonly #bell: Int32Array;
  readonly #post: WorkerScope["postMessage"];
  readonly #close: () => void;
  #seenBell = 0;
  /** receiveMessageOnPort, loaded after startup (not on the first-result path). */
  #receiveSync: ReceiveSync | undefined;
  #loading = false;
  #onmessage: ((msg: HostMessage) => void) | null = null;
  onmessageerror: (() => void) | null = null;

  constructor(
    port: MessagePort,
    bell: SharedArrayBuffer,
    post: WorkerScope["postMessage"],
    close: () => void,
  ) {
    this.#port = port;
    this.#post = post;
    this.#bell = new Int32Array(bell);
    this.#close = close;
    port.onmessageerror = () => this.onmessageerror?.();
  }

  get onmessage(): ((msg: HostMessage) => void) | null {
    return this.#onmessage;
  }
  /** Messages wait in the port until the entry listens (after the import). */
  set onmessage(f: ((msg: HostMessage) => void) | null) {
    this.#onmessage = f;
    this.#port.onmessage = f ? (ev: MessageEvent) => f(unwrap(ev.data)) : null;
  }

  postMessage(msg: WorkerMessage, transfer: Transferable[]): void {
    this.#post(msg, transfer);
  }

  close(): void {
    this.#close();
  }

  /**
   * Loads node:worker_threads (for receiveMessageOnPort) the first time
   * spinning would help (a tight sequence of tasks), a little later: loading
   * the Node compatibility layer blocks this thread for milliseconds, which
   * the first results (and a worker that never needs to spin) should not pay.
   */
  #load(): void {
    import("node:worker_threads").then((m) => {
      this.#receiveSync = m.receiveMessageOnPort as unknown as ReceiveSync;
    }, () => {});
  }

  spin(ms: number, stop: () => boolean): void {
    const receiveSync = this.#receiveSync;
    if (!receiveSync) {
      if (!this.#loading) {
        this.#loading = true;
        setTimeout(() => this.#load(), 5);
      }
      return;
    }
    const bell = this.#bell;
    const port = this.#port;
    let polls = 0;
    let now = performance.now();
    let hot = now + HOT_MS;
    let end = now + ms;
    while (!stop()) {
      const b = Atomics.load(bell, 0);
      if (b !== this.#seenBell) {
        this.#seenBell = b;
        let m: { message: unknown } | undefined;
        while (!stop() && (m = receiveSync(port))) {
          this.#onmessage?.(unwrap(m.message));
        }
        now = performance.now();
        hot = now + HOT_MS;
        end = now + ms;
      } else if ((++polls & 255) === 0) {
        now = performance.now();
        if (now >= end) break;
        // after HOT_MS of polling, sleep on the doorbell (the host notifies it)
        if (now >= hot) Atomics.wait(bell, 0, b, end - now);
      }
    }
  }
}

const scope = globalThis as unknown as WorkerScope;
// Taken before the task module loads (it may replace them).
const close = scope.close.bind(scope);
const post = scope.postMessage.bind(scope);
scope.onmessage = (e: MessageEvent) => {
  scope.onmessage = null;
  const boot = e.data as ThreadBoot;
  runWorker(new ThreadPort(boot.port, boot.bell, post, close), boot.init);
};
