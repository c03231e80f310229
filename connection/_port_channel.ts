// Frames over a MessagePort: one postMessage per frame, `null` as the end of
// stream. Used by Pipe(); the port (with any frames already received) can be
// moved to a Worker.

import type { Channel } from "./_channel.ts";

/** The end-of-stream message. */
const EOF = null;

function closedError(): Error {
  return new Deno.errors.BadResource(
    "Cannot use the connection as it is closed",
  );
}

/** A {@link Channel} over a MessagePort. */
export class PortChannel implements Channel {
  #port: MessagePort;
  #frames: Uint8Array[];
  #head = 0;
  #eof = false;
  #closed = false;
  #waiter: PromiseWithResolvers<void> | null = null;

  constructor(port: MessagePort, frames: Uint8Array[] = [], eof = false) {
    this.#port = port;
    this.#frames = frames;
    this.#eof = eof;
    port.onmessage = (e: MessageEvent) => {
      const d = e.data;
      if (d === EOF) this.#eof = true;
      else if (d instanceof Uint8Array) this.#frames.push(d);
      else return; // not ours: ignore
      this.#wake();
    };
  }

  #wake(): void {
    const w = this.#waiter;
    if (w) {
      this.#waiter = null;
      w.resolve();
    }
  }

  hasData(): boolean {
    return this.#head < this.#frames.length || this.#eof || this.#closed;
  }

  whenData(): Promise<void> {
    if (this.hasData()) return Promise.resolve();
    return (this.#waiter ??= Promise.withResolvers<void>()).promise;
  }

  tryReadFrame(maxLength: number): Uint8Array | null | undefined {
    if (this.#closed) throw closedError();
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

  async readFrame(maxLength: number): Promise<Uint8Array | null> {
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
   * Stops using the port here and hands it over, with the frames received
   * but not read yet. The channel counts as closed afterwards (no EOF sent).
   */
  detach(): { port: MessagePort; frames: Uint8Array[]; eof: boolean } {
    if (this.#closed) throw closedError();
    this.#closed = true;
    this.#port.onmessage = null;
    const frames = this.#frames.slice(this.#head);
    this.#frames = [];
    this.#head = 0;
    this.#wake();
    return { port: this.#port, frames, eof: this.#eof };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
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
