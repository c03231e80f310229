// CPython docs, "Introduction": `with Pool(5) as p: print(p.map(f, [1, 2, 3]))`.
// The script is its own task module, so the pool starts under
// `if (import.meta.main)` (CPython's `if __name__ == "__main__":`).
//
//   deno run --allow-read examples/cpython_docs/pool_map.ts   # [ 1, 4, 9 ]
import { Pool } from "../../mod.ts";

export function f(x: number): number {
  return x * x;
}

if (import.meta.main) {
  await using p = new Pool<typeof import("./pool_map.ts")>(import.meta.url, {
    processes: 5,
  });
  console.log(await p.map(f, [1, 2, 3]));
}
