// Frames over a MessagePort: one postMessage per frame, `null` as the end of
// stream. Used by Pipe().
//
// Moving an end to a Worker: Deno cannot transfer a port that was ever
// started (had `onmessage` set), so the port is started lazily, on the first
// read, poll or wait. An end never read from moves with its port (queued
// frames travel inside it); an end already read from moves through a relay:
// a fresh MessageChannel whose far end is moved, while this thread forwards
// frames both ways (the relay ends with the stream, or when this thread does).

import type { Channel } from "./_channel.ts";

/** The end-of-stream message. */
const EOF = null;

function closedError(): Error {
  return new Deno.errors.BadResource(
    "Cannot use the connection as it is closed",
  );
}

/** Deno's MessagePort has ref()/unref() (not in the DOM typings). */
function refable(port: MessagePort): { ref?(): void; unref?(): void } {
  return port as unknown as { ref?(): void; unref?(): void };
}

function post(port: MessagePort, data: unknown): void {
  if (data instanceof Uint8Array) {
    port.postMessage(data, [data.buffer as ArrayBuffer]);
  } else port.postMessage(data);
}

/** A {@link Channel} over a MessagePort. */
export class PortChannel implements Channel {
  #port: MessagePort;
  #frames: Uint8Array[];
  #head = 0;
  #eof: boolean;
  #closed = false;
  #started = false;
  #unrefTimer: ReturnType<typeof setTimeout> | undefined;
  #waiter: PromiseWithResolvers<void> | null = null;

  constructor(port: MessagePort, frames: Uint8Array[] = [], eof = false) {
    this.#port = port;
    this.#frames = frames;
    this.#eof = eof;
  }

  /** Starts receiving (irreversible: a started port cannot move by itself). */
  #start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#port.onmessage = (e: MessageEvent) => {
      const d = e.data;
      if (d === EOF) this.#eof = true;
      else if (d instanceof Uint8Array) this.#frames.push(d);
      else return; // not ours: ignore
      if (this.#waiter) this.#wake();
      else this.#unrefSoon();
    };
    // A started port keeps the process alive; only a pending read should.
    refable(this.#port).unref?.();
  }

  /**
   * Lets the process exit while nobody reads. Deno re-arms a port's receive
   * as ref'd after each message, so this runs on the next turn.
   */
  #unrefSoon(): void {
    if (this.#unrefTimer !== undefined) return;
    this.#unrefTimer = setTimeout(() => {
      this.#unrefTimer = undefined;
      if (!this.#waiter && !this.#closed) refable(this.#port).unref?.();
    }, 0);
  }

  #wake(): void {
    const w = this.#waiter;
    if (w) {
      this.#waiter = null;
      this.#unrefSoon();
      w.resolve();
    }
  }

  hasData(): boolean {
    this.#start();
    return this.#head < this.#frames.length || this.#eof || this.#closed;
  }

  whenData(): Promise<void> {
    if (this.hasData()) return Promise.resolve();
    if (!this.#waiter) {
      this.#waiter = Promise.withResolvers<void>();
      refable(this.#port).ref?.();
    }
    return this.#waiter.promise;
  }

  tryReadFrame(
    maxLength: number,
    _lend?: boolean,
  ): Uint8Array | null | undefined {
    if (this.#closed) throw closedError();
    this.#start();
    if (this.#head < this.#frames.length) {
      const f = this.#frames[this.#head]!;
      this.#frames[this.#head++] = undefined as never;
      if (this.#head > 1024 && this.#head * 2 > this.#frames.length) {
        this.#frames = this.#frames.slice(this.#head);
        this.#head = 0;
      }
      if (f.length > maxLength) {
        this.close();
        throw new RangeError(
          `Cannot receive a message of ${f.length} bytes as it is longer than the limit of ${maxLength} bytes: the connection is closed`,
        );
      }
      return f;
    }
    return this.#eof ? null : undefined;
  }

  async readFrame(
    maxLength: number,
    _lend?: boolean,
  ): Promise<Uint8Array | null> {
    while (true) {
      const f = this.tryReadFrame(maxLength);
      if (f !== undefined) return f;
      await this.whenData();
    }
  }

  writeFrame(payload: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    const copy = payload.slice();
    this.#port.postMessage(copy, [copy.buffer]);
    return Promise.resolve();
  }

  /**
   * Hands the end over: a port that can move (never started), or the far
   * end of a relay. The channel counts as closed here afterwards (no EOF is
   * sent).
   */
  detach(): { port: MessagePort; frames: Uint8Array[]; eof: boolean } {
    if (this.#closed) throw closedError();
    this.#closed = true;
    clearTimeout(this.#unrefTimer);
    this.#wake();
    const frames = this.#frames.slice(this.#head);
    this.#frames = [];
    this.#head = 0;
    if (!this.#started) return { port: this.#port, frames, eof: this.#eof };
    const old = this.#port;
    const { port1, port2 } = new MessageChannel();
    if (this.#eof) {
      // The peer is gone: nothing more will come, nothing can be delivered.
      old.onmessage = null;
      old.close();
      port1.close();
      return { port: port2, frames, eof: true };
    }
    const stop = () => {
      old.onmessage = null;
      port1.onmessage = null;
      old.close();
      port1.close();
    };
    old.onmessage = (e: MessageEvent) => {
      post(port1, e.data);
      if (e.data === EOF) stop();
    };
    port1.onmessage = (e: MessageEvent) => {
      post(old, e.data);
      if (e.data === EOF) stop();
    };
    return { port: port2, frames, eof: this.#eof };
  }

  flushed(): Promise<void> {
    // postMessage has delivered every frame already.
    return Promise.resolve();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#unrefTimer);
    try {
      this.#port.postMessage(EOF);
    } catch {
      // the other side is gone
    }
    this.#port.onmessage = null;
    this.#port.close();
    this.#wake();
  }
}
