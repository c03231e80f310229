// The referent behind `SyncManager.Barrier(parties, { timeout })` (CPython's
// `threading.Barrier`, without `action`: functions cannot cross the wire).
// Each filled generation releases its parties with their arrival index; a
// timeout, `abort()` or `reset()` breaks the waiting parties with
// `BrokenBarrierError`. A waiter whose client disconnects is withdrawn.

import { BrokenBarrierError } from "../../errors.ts";
import { currentCaller } from "./_caller.ts";
import { checkTimeout } from "./_blocking.ts";
import { TIMED_OUT, WaitQueue } from "./_waiters.ts";
import type { BarrierOptions } from "./options.ts";

/** Server-side barrier. */
export class SharedBarrier {
  #parties: number;
  #timeout: number | undefined;
  #waiters = new WaitQueue<void>();
  #count = 0;
  #broken = false;

  /** Creates a barrier for `parties` parties. */
  constructor(parties: number, opts?: BarrierOptions | null) {
    if (
      typeof parties !== "number" || !Number.isInteger(parties) || parties < 1
    ) {
      throw new RangeError(
        `Cannot create the barrier as parties must be an integer >= 1: received ${
          String(parties)
        }`,
      );
    }
    this.#parties = parties;
    this.#timeout = checkTimeout(opts?.timeout);
  }

  /** Waits for every party; resolves with this party's arrival index. */
  async wait(timeout?: number | null): Promise<number> {
    const caller = currentCaller();
    const ms = timeout === undefined || timeout === null
      ? this.#timeout
      : checkTimeout(timeout);
    if (this.#broken) throw new BrokenBarrierError();
    const index = this.#count++;
    if (this.#count === this.#parties) {
      this.#count = 0;
      this.#waiters.wakeAll(undefined);
      return index;
    }
    let r: void | typeof TIMED_OUT;
    try {
      r = await this.#waiters.wait(caller, ms);
    } catch (e) {
      // The client went away: withdraw its arrival.
      if (!this.#broken && this.#count > 0) this.#count--;
      throw e;
    }
    if (r === TIMED_OUT) {
      this.#break();
      throw new BrokenBarrierError();
    }
    return index;
  }

  #break(): void {
    this.#broken = true;
    this.#count = 0;
    this.#waiters.failAll(new BrokenBarrierError());
  }

  /** Breaks the barrier for current waiters, then makes it usable again. */
  reset(): void {
    if (this.#waiters.size > 0) this.#waiters.failAll(new BrokenBarrierError());
    this.#count = 0;
    this.#broken = false;
  }

  /** Breaks the barrier: current and future waits fail until `reset()`. */
  abort(): void {
    this.#break();
  }

  /** The number of parties. */
  parties(): number {
    return this.#parties;
  }

  /** The number of parties waiting now. */
  nWaiting(): number {
    return this.#waiters.size;
  }

  /** True when the barrier is broken. */
  broken(): boolean {
    return this.#broken;
  }
}
