// Task functions of bench/process_bench.ts (run in pool workers / children).

/** Does nothing. */
export function noop(): void {}

/** A fixed amount of CPU work (same loop as bench/py/process_anchor.py). */
export function work(n: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) x = (x + i * i) % 1000003;
  return x;
}
