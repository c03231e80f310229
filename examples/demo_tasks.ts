// Task functions for the demo's Pool (examples/demo.ts).

import type { QueueProxy } from "../mod.ts";

/** Squares a number. */
export function sqr(x: number): number {
  return x * x;
}

/** Counts the primes below `n` (CPU-bound). */
export function countPrimes(n: number): number {
  let count = 0;
  for (let i = 2; i < n; i++) {
    let prime = true;
    for (let d = 2; d * d <= i; d++) {
      if (i % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

/** Puts `word` upper-cased on a manager queue shared with the parent. */
export async function shout(queue: QueueProxy, word: string): Promise<void> {
  await queue.put(word.toUpperCase());
}
