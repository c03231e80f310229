// CPython docs, "Synchronization between processes" and "Sharing state":
// a Lock serialising prints, and a Value and an Array in shared memory.
// sharedmem objects are shared by the Workers of a Pool (threads of this
// process); across processes use a manager's Value/Array/Lock.
//
//   deno run --allow-read examples/cpython_docs/lock_value_array.ts
import { Array as SharedArray, Lock, Pool, Value } from "../../mod.ts";

export async function greet(l: Lock, i: number): Promise<void> {
  await l.acquire();
  try {
    console.log("hello world", i);
  } finally {
    l.release();
  }
}

export function negate(n: Value<"d">, a: SharedArray<"i">): void {
  n.value = 3.1415927;
  for (let i = 0; i < a.length; i++) a.set(i, -a.get(i));
}

if (import.meta.main) {
  await using pool = new Pool<typeof import("./lock_value_array.ts")>(
    import.meta.url,
    { processes: 2 },
  );
  const lock = new Lock();
  await Promise.all([0, 1, 2, 3].map((i) => pool.apply(greet, [lock, i])));
  const num = new Value("d", 0.0);
  const arr = new SharedArray("i", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  await pool.apply(negate, [num, arr]);
  console.log(num.value); // 3.1415927
  console.log(arr.toArray()); // [ 0, -1, -2, …, -9 ]
}
