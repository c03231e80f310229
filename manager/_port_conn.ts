// A ConnLike over a MessagePort: the link between a `start()`-ed manager and
// the server Worker it started (no socket, no handshake: the port is
// private to the two threads). Frames are msgpack bytes; `null` marks the
// end of stream.

import { decode } from "../connection/_codec.ts";
import { EOFError } from "../connection/errors.ts";
import type { ConnLike } from "./_conn.ts";

/** One end of a port-based manager link. */
export class PortConn implements ConnLike {
  #port: MessagePort;
  #frames: (Uint8Array | null)[] = [];
  #head = 0;
  #waiter:
    | { resolve: (v: unknown) => void; reject: (e: unknown) => void }
    | undefined;
  #closed = false;
  #sub:
    | { onFrame: (f: unknown) => void; onError: (e: unknown) => void }
    | undefined;

  /** Wraps `port` and starts receiving. */
  constructor(port: MessagePort) {
    this.#port = port;
    port.onmessage = (e: MessageEvent) => {
      const d = e.data instanceof Uint8Array ? e.data : null;
      if (this.#sub) return this.#push(d);
      const w = this.#waiter;
      if (w) {
        this.#waiter = undefined;
        this.#settle(d, w);
      } else {
        this.#frames.push(d);
      }
    };
  }

  #settle(
    d: Uint8Array | null,
    w: { resolve: (v: unknown) => void; reject: (e: unknown) => void },
  ): void {
    if (d === null) {
      this.close();
      return w.reject(new EOFError());
    }
    try {
      w.resolve(decode(d));
    } catch (e) {
      w.reject(e);
    }
  }

  #push(d: Uint8Array | null): void {
    const sub = this.#sub!;
    if (d === null) return this.close();
    let frame: unknown;
    try {
      frame = decode(d);
    } catch (e) {
      return sub.onError(e);
    }
    sub.onFrame(frame);
  }

  /** @inheritdoc */
  subscribe(
    onFrame: (frame: unknown) => void,
    onError: (e: unknown) => void,
  ): void {
    this.#sub = { onFrame, onError };
    const frames = this.#frames.slice(this.#head);
    this.#frames.length = 0;
    this.#head = 0;
    for (const f of frames) {
      if (this.#closed) break;
      this.#push(f);
    }
    if (this.#closed) onError(new EOFError());
  }

  /** @inheritdoc */
  get closed(): boolean {
    return this.#closed;
  }

  /** @inheritdoc */
  sendBytes(buf: Uint8Array): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new Deno.errors.BadResource("Cannot send as the connection is closed"),
      );
    }
    // An exact-size buffer of its own (what the manager's frames are) moves:
    // cloned when small (cheaper), transferred when large. Anything else is copied first.
    const own = buf.byteOffset === 0 &&
      buf.byteLength === buf.buffer.byteLength &&
      buf.buffer instanceof ArrayBuffer;
    const b = own ? buf : buf.slice();
    if (b.length > 4096) this.#port.postMessage(b, [b.buffer as ArrayBuffer]);
    else this.#port.postMessage(b);
    return Promise.resolve();
  }

  /** @inheritdoc */
  recv<T = unknown>(): Promise<T> {
    if (this.#head < this.#frames.length) {
      const d = this.#frames[this.#head];
      this.#frames[this.#head++] = null;
      if (this.#head === this.#frames.length) {
        this.#frames.length = 0;
        this.#head = 0;
      }
      return new Promise<T>((resolve, reject) =>
        this.#settle(d ?? null, {
          resolve: resolve as (v: unknown) => void,
          reject,
        })
      );
    }
    if (this.#closed) return Promise.reject(new EOFError());
    if (this.#waiter) {
      return Promise.reject(
        new Error("Cannot receive as another receive is pending"),
      );
    }
    return new Promise<T>((
      resolve,
      reject,
    ) => (this.#waiter = { resolve: resolve as (v: unknown) => void, reject }));
  }

  /** @inheritdoc */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#port.postMessage(null);
    } catch {
      // The other side is gone already.
    }
    this.#port.onmessage = null;
    this.#port.close();
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.reject(new EOFError());
    this.#sub?.onError(new EOFError());
  }
}
