// Who is calling: every request the server runs is attributed to the client
// connection it came from (a `Caller`). Referents read the caller
// synchronously at the start of a method (`currentCaller()`), use its
// `signal` to cancel their waits when the client goes away, and register what
// the client holds (a lock, semaphore units) so the server can release it when
// the client drops.

/** Something a client can hold that must be given back if the client drops. */
export interface Owned {
  /** Releases everything `caller` holds on this object. */
  releaseOwned(caller: Caller): void;
}

/** One client connection, as seen by the referents. */
export class Caller {
  /** A process-unique number (diagnostics only). */
  readonly id: number;
  /** Aborted when the client connection is gone. */
  readonly signal: AbortSignal;
  #controller: AbortController;
  #held = new Set<Owned>();
  static #next = 1;

  /** Creates a caller (one per client connection). */
  constructor() {
    this.id = Caller.#next++;
    this.#controller = new AbortController();
    this.signal = this.#controller.signal;
  }

  /** True once the client is gone. */
  get gone(): boolean {
    return this.signal.aborted;
  }

  /** Records that this caller holds something on `resource`. */
  hold(resource: Owned): void {
    this.#held.add(resource);
  }

  /** Records that this caller holds nothing more on `resource`. */
  unhold(resource: Owned): void {
    this.#held.delete(resource);
  }

  /**
   * The client is gone: cancels its waits (through `signal`), then releases
   * everything it held. Idempotent.
   */
  drop(reason: unknown = new Error("The client disconnected")): void {
    if (this.signal.aborted) return;
    this.#controller.abort(reason);
    const held = [...this.#held];
    for (const r of held) r.releaseOwned(this);
    this.#held.clear();
  }
}

/** The caller used for direct, in-process calls (no server involved). */
const LOCAL = new Caller();
let current: Caller | undefined;

/** The client whose request is running; read it before the first `await`. */
export function currentCaller(): Caller {
  return current ?? LOCAL;
}

/** Makes `caller` the current caller; returns the previous one (restore it after). */
export function swapCaller(caller: Caller | undefined): Caller | undefined {
  const prev = current;
  current = caller;
  return prev;
}

/** Runs `fn` attributed to `caller` (the server wraps every call in this). */
export function runAs<R>(caller: Caller, fn: () => R): R {
  const prev = current;
  current = caller;
  try {
    return fn();
  } finally {
    current = prev;
  }
}
