// Typed usage: `Pool<typeof import(...)>` checks argument and result types (deno test type-checks this file).
import assert from "node:assert/strict";
import { Pool } from "../../pool/mod.ts";
import { mul, sqr } from "../fixtures/pool_tasks.ts";

type Tasks = typeof import("../fixtures/pool_tasks.ts");

Deno.test("A pool typed with its task module checks arguments and results", async () => {
  await using pool = new Pool<Tasks>(
    new URL("../fixtures/pool_tasks.ts", import.meta.url),
    { processes: 1 },
  );
  const n: number = await pool.apply("sqr", [5]);
  const m: number = await pool.apply(mul, [2, 3]);
  const w: number = await pool.apply("sqr_wait", [2]); // optional parameter, async task
  const xs: number[] = await pool.map(sqr, [1, 2]);
  const ys: number[] = await pool.starmap("mul", [[1, 2], [3, 4]]);
  for await (const v of pool.imap("sqr", [3])) {
    const k: number = v;
    assert.equal(k, 9);
  }
  assert.deepEqual([n, m, w, xs, ys], [25, 6, 4, [1, 4], [2, 12]]);

  // @ts-expect-error: sqr takes a number, not a string
  await pool.apply("sqr", ["5"]).catch(() => {});
  // @ts-expect-error: sqr needs its argument array
  await pool.apply("sqr").catch(() => {});
  await pool.apply("noop"); // a task without parameters needs no array
  // @ts-expect-error: not an export of the task module
  await pool.apply("nope", []).catch(() => {});
  // @ts-expect-error: the result is a number, not a string
  const s: string = await pool.apply("sqr", [1]);
  // @ts-expect-error: starmap items are argument tuples
  await assert.rejects(pool.starmap("mul", [1, 2]), TypeError);
  void s;
});
