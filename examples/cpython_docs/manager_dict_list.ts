// CPython docs, "Server process": a manager's dict and list changed by
// another worker and seen here.
//
//   deno run -A examples/cpython_docs/manager_dict_list.ts
import { type DictProxy, type ListProxy, Manager, Pool } from "../../mod.ts";

export async function f(d: DictProxy, l: ListProxy<number>): Promise<void> {
  await d.set(1, "1");
  await d.set("2", 2);
  await d.set(0.25, null);
  await l.reverse();
}

if (import.meta.main) {
  await using manager = await Manager();
  const d = await manager.dict();
  const l = await manager.list<number>([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  await using pool = new Pool<typeof import("./manager_dict_list.ts")>(
    import.meta.url,
    { processes: 1 },
  );
  await pool.apply(f, [d, l]);
  console.log(await d.items()); // [ [ 1, "1" ], [ "2", 2 ], [ 0.25, null ] ]
  console.log(await l.toArray()); // [ 9, 8, …, 0 ]
}
