// A ConnLike over a connection still being opened: reads and writes wait for
// it. Used by proxies rebuilt in another thread (they connect on demand).

import type { ConnLike } from "../protocol/conn.ts";

/** Defers to the connection `pending` resolves with. */
export class LazyConn implements ConnLike {
  #conn: ConnLike | undefined;
  #pending: Promise<ConnLike>;
  #closed = false;

  /** Wraps a connection being opened. */
  constructor(pending: Promise<ConnLike>) {
    this.#pending = pending.then((c) => {
      this.#conn = c;
      if (this.#closed) c.close();
      return c;
    });
    this.#pending.catch(() => {});
  }

  /** @inheritdoc */
  sendBytes(buf: Uint8Array): Promise<void> {
    return this.#conn
      ? this.#conn.sendBytes(buf)
      : this.#pending.then((c) => c.sendBytes(buf));
  }

  /** @inheritdoc */
  recv<T = unknown>(): Promise<T> {
    return this.#conn
      ? this.#conn.recv<T>()
      : this.#pending.then((c) => c.recv<T>());
  }

  /** @inheritdoc */
  close(): void {
    this.#closed = true;
    this.#conn?.close();
  }

  /** @inheritdoc */
  get closed(): boolean {
    return this.#closed || (this.#conn?.closed ?? false);
  }
}
