// Outgoing side of one manager connection. Messages queued in the same tick,
// and while a write is in progress, go out as one frame; a batch that reaches
// EARLY_FLUSH messages goes out at once, so a long burst of pipelined calls
// (or of replies) starts moving before it ends. Each message may carry an
// `undo`, run when its frame could not be written (a queue item goes back to
// its queue).

import { FrameBuilder } from "./_frame.ts";

/**
 * Writes a frame. The frame's buffer is reused once the returned promise
 * resolves: a sink that keeps it longer must copy it (or transfer it away).
 */
export type FrameSink = (frame: Uint8Array) => Promise<void>;

/** A batch this large is written without waiting for the end of the tick. */
const EARLY_FLUSH = 256;

/** Batches outgoing messages into frames. */
export class Outbox {
  #cur = new FrameBuilder();
  #sink: FrameSink;
  #onError: (e: unknown) => void;
  #inflight = 0;
  #scheduled = false;
  #closed = false;
  #drained: (() => void)[] = [];

  /** Creates an outbox writing to `sink`; `onError` is told when a write fails. */
  constructor(sink: FrameSink, onError: (e: unknown) => void) {
    this.#sink = sink;
    this.#onError = onError;
  }

  /** True once closed (nothing more is written). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Queues `message`. `undo` runs if it is never delivered.
   *
   * @throws {TypeError} when msgpack cannot carry the message (nothing is queued).
   */
  push(message: unknown, undo?: () => void): void {
    if (this.#closed) {
      undo?.();
      return;
    }
    this.#cur.add(message);
    if (undo) this.#cur.undos.push(undo);
    if (this.#cur.count >= EARLY_FLUSH) {
      this.#write();
    } else if (!this.#scheduled && this.#inflight === 0) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  #flush = (): void => {
    this.#scheduled = false;
    if (this.#inflight === 0 && !this.#closed && this.#cur.count > 0) {
      this.#write();
    }
  };

  #write(): void {
    const b = this.#cur;
    const undos = b.undos;
    b.undos = [];
    const bytes = b.take();
    this.#inflight++;
    this.#sink(bytes).then(
      () => {
        b.recycle(bytes);
        if (--this.#inflight > 0 || this.#closed) return;
        if (this.#cur.count > 0) this.#write();
        else if (this.#drained.length > 0) this.#idle();
      },
      (e) => {
        this.#inflight--;
        for (const u of undos) u();
        this.close();
        this.#onError(e);
      },
    );
  }

  /** Resolves once everything queued is written (or after `ms`, or on close). */
  drain(ms: number): Promise<void> {
    if (this.#closed || (this.#inflight === 0 && this.#cur.count === 0)) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.#drained.push(done);
    });
  }

  #idle(): void {
    const d = this.#drained;
    this.#drained = [];
    for (const f of d) f();
  }

  /** Stops writing; undoes whatever was queued and not written. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const undos = this.#cur.undos;
    this.#cur.undos = [];
    if (this.#cur.count > 0) this.#cur.take();
    for (const u of undos) u();
    this.#idle();
  }
}
