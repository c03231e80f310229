// FIFO wait lists used by the referent types: a waiter ends when it is woken
// (with a value), when its timeout elapses, or when its client goes away
// (its promise then rejects with the caller's `signal.reason`, and it is
// never woken again — a dead waiter is never handed a lock or an item).

import type { Caller } from "./_caller.ts";

/** Resolved instead of a value when the wait timed out. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/** One pending wait. */
export interface Waiter<T> {
  /** The client that waits. */
  readonly caller: Caller;
  /** Extra state the owner keeps with the waiter. */
  data: unknown;
  /** @internal */ resolve: (v: T | typeof TIMED_OUT) => void;
  /** @internal */ reject: (e: unknown) => void;
  /** @internal */ timer: ReturnType<typeof setTimeout> | undefined;
  /** @internal */ onAbort: (() => void) | undefined;
  /** @internal */ live: boolean;
}

/** A FIFO of waiters with lazy removal. */
export class WaitQueue<T> {
  #items: (Waiter<T> | undefined)[] = [];
  #head = 0;
  #live = 0;

  /** Number of live waiters. */
  get size(): number {
    return this.#live;
  }

  /**
   * Waits until woken, `timeout` ms elapse (`undefined` = forever), or the
   * caller goes away (rejects with its `signal.reason`).
   */
  wait(
    caller: Caller,
    timeout?: number,
    data?: unknown,
  ): Promise<T | typeof TIMED_OUT> {
    if (caller.signal.aborted) return Promise.reject(caller.signal.reason);
    return new Promise<T | typeof TIMED_OUT>((resolve, reject) => {
      const w: Waiter<T> = {
        caller,
        data,
        resolve,
        reject,
        timer: undefined,
        onAbort: undefined,
        live: true,
      };
      this.#items.push(w);
      this.#live++;
      if (timeout !== undefined) {
        w.timer = setTimeout(() => {
          w.timer = undefined;
          if (this.#remove(w)) resolve(TIMED_OUT);
        }, Math.max(0, timeout));
      }
      w.onAbort = () => {
        w.onAbort = undefined;
        if (this.#remove(w)) reject(caller.signal.reason);
      };
      caller.signal.addEventListener("abort", w.onAbort, { once: true });
    });
  }

  #remove(w: Waiter<T>): boolean {
    if (!w.live) return false;
    w.live = false;
    this.#live--;
    this.#cleanup(w);
    this.#compact();
    return true;
  }

  #cleanup(w: Waiter<T>): void {
    if (w.timer !== undefined) {
      clearTimeout(w.timer);
      w.timer = undefined;
    }
    if (w.onAbort) {
      w.caller.signal.removeEventListener("abort", w.onAbort);
      w.onAbort = undefined;
    }
  }

  #compact(): void {
    const items = this.#items;
    while (this.#head < items.length && !items[this.#head]?.live) {
      items[this.#head++] = undefined;
    }
    if (this.#head === items.length) {
      items.length = 0;
      this.#head = 0;
    } else if (this.#head > 64 && this.#head * 2 > items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Removes and returns the oldest live waiter (not yet settled). */
  take(): Waiter<T> | undefined {
    if (this.#live === 0) return undefined;
    this.#compact();
    const w = this.#items[this.#head];
    if (!w) return undefined;
    this.#items[this.#head++] = undefined;
    w.live = false;
    this.#live--;
    this.#cleanup(w);
    this.#compact();
    return w;
  }

  /** Wakes the oldest live waiter with `value`; false when there is none. */
  wakeOne(value: T): boolean {
    const w = this.take();
    if (!w) return false;
    w.resolve(value);
    return true;
  }

  /** Wakes every live waiter with `value`; returns how many. */
  wakeAll(value: T): number {
    let n = 0;
    for (let w = this.take(); w; w = this.take()) {
      w.resolve(value);
      n++;
    }
    return n;
  }

  /** Rejects every live waiter with `error`; returns how many. */
  failAll(error: unknown): number {
    let n = 0;
    for (let w = this.take(); w; w = this.take()) {
      w.reject(error);
      n++;
    }
    return n;
  }
}
