// Per-thread identity and the main-thread guard for blocking calls.
//
// A thread's id is a pair of random non-zero 31-bit integers drawn once per
// thread (main thread or Worker). Locks record it as their owner so that
// `RLock` knows who holds it and `Condition` can check that the caller holds
// the lock. Random ids avoid any shared allocator that every thread would
// have to receive before creating its first lock; two threads share an id
// with probability 2^-62. Two Int32 words (rather than one BigInt64) keep the
// hot path free of BigInt allocations.

function drawWord(): number {
  const word = new Uint32Array(1);
  let v = 0;
  while (v === 0) {
    crypto.getRandomValues(word);
    v = word[0]! & 0x7fffffff;
  }
  return v;
}

/** This thread's owner id, high word (never 0, which means "nobody"). */
export const THREAD_HI: number = drawWord();
/** This thread's owner id, low word (never 0). */
export const THREAD_LO: number = drawWord();

/** True inside a Worker, where `Atomics.wait` may block. */
export const IN_WORKER: boolean = "WorkerGlobalScope" in globalThis;

/** Throws when a blocking `*Sync` method is called on the main thread. */
export function assertCanBlock(method: string): void {
  if (!IN_WORKER) {
    throw new Error(
      `Cannot call ${method} on the main thread as it would block the event loop: use the Promise-returning method instead`,
    );
  }
}
