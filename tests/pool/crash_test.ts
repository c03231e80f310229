// A worker that dies fails only the task(s) it held, is replaced, and the pool keeps serving.
import assert from "node:assert/strict";
import { WorkerLostError } from "../../pool/mod.ts";
import { flag, makePool } from "./_helpers.ts";

const deaths: [string, string, unknown[], RegExp][] = [
  ["Deno.exit()", "callExit", [3], /Deno\.exit\(3\)/],
  ["node:process exit()", "nodeExit", [4], /Deno\.exit\(4\)/],
  ["self.close()", "callClose", [], /self\.close\(\)/],
  ["an uncaught error", "throwLater", [], /uncaught error.*uncaught later/],
  ["an unhandled rejection", "rejectLater", [], /unhandled rejection/],
];

for (const [what, fn, args, message] of deaths) {
  Deno.test(`A worker lost to ${what} fails only its task, is replaced, and the pool keeps serving`, async () => {
    await using pool = makePool({ processes: 2 });
    // Another task is running on the other worker while one dies.
    const gate = flag();
    const other = pool.applyAsync("gate", [gate, 7]);
    const err = await pool.apply(fn as "noop", args as []).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(err instanceof WorkerLostError, `got ${err}`);
    assert.match(err.message, message);
    // the other task is unaffected
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    assert.equal(await other.get(10_000), 7);
    // the pool has replaced the worker and keeps serving
    assert.deepEqual(await pool.map("sqr", [1, 2, 3, 4], 1), [1, 4, 9, 16]);
    assert.equal(pool.stats().workers.length, 2);
    assert.ok(pool.stats().failed >= 1);
  });
}

Deno.test("A worker death in the middle of a map rejects the map but not other jobs", async () => {
  await using pool = makePool({ processes: 2 });
  const ok = pool.mapAsync("sqr", [1, 2, 3], 1);
  const dying = pool.starmap(
    "sqrOrExit",
    [[1, 5], [5, 5], [3, 5]] as [number, number][],
    1,
  );
  await assert.rejects(dying, WorkerLostError);
  assert.deepEqual(await ok.get(10_000), [1, 4, 9]);
  assert.deepEqual(await pool.map("sqr", [4, 5], 1), [16, 25]);
  assert.equal(pool.stats().workers.length, 2);
});

Deno.test("Only the running task fails: tasks queued behind it in the dead worker run elsewhere", async () => {
  await using pool = makePool({ processes: 1 });
  // one worker: these travel together (one or a few batches)
  const results = Array.from(
    { length: 50 },
    (_, i) => pool.applyAsync("sqrOrExit", [i, 17]),
  );
  const settled = await Promise.allSettled(results.map((r) => r.get(10_000)));
  settled.forEach((r, i) => {
    if (i === 17) {
      assert.equal(r.status, "rejected");
      assert.ok((r as PromiseRejectedResult).reason instanceof WorkerLostError);
    } else {
      assert.deepEqual(r, { status: "fulfilled", value: i * i });
    }
  });
  assert.equal(pool.stats().failed, 1);
  assert.equal(pool.stats().completed, 49);
});

Deno.test("imap: a crashing item becomes an error at its position, the rest still arrive", async () => {
  await using pool = makePool({ processes: 2 });
  const it = pool.imap(
    "sqrPairOrExit",
    Array.from({ length: 30 }, (_, i) => [i, 12] as [number, number]),
    3,
  );
  for (let i = 0; i < 12; i++) assert.equal((await it.next()).value, i * i);
  await assert.rejects(it.next(), WorkerLostError); // chunk [12, 15)
  for (let i = 15; i < 30; i++) assert.equal((await it.next()).value, i * i);
  assert.equal((await it.next()).done, true);
});

Deno.test("Repeated deaths never hang the pool", async () => {
  await using pool = makePool({ processes: 2 });
  const results = await Promise.allSettled(
    Array.from(
      { length: 8 },
      (_, i) => pool.apply(i % 2 ? "callExit" : "callClose", i % 2 ? [1] : []),
    ),
  );
  for (const r of results) {
    assert.equal(r.status, "rejected");
    assert.ok((r as PromiseRejectedResult).reason instanceof WorkerLostError);
  }
  assert.equal(await pool.apply("sqr", [6]), 36);
});

Deno.test("Chunks of other jobs held by a dead worker are resent and finish correctly", async () => {
  await using pool = makePool({ processes: 1 });
  const items = Array.from({ length: 400 }, (_, i) => i);
  const squares = items.map((i) => i * i);
  // warm-up: the pool learns the tasks are short and sends many chunks per batch
  assert.deepEqual(await pool.map("sqr", items, 10), squares);
  // numeric items travel packed (transferred Float64Arrays)
  const a = pool.map("sqrExit123", [1, 123, 2], 1);
  const b = pool.map("sqr", items, 10); // sent behind `a` to the same worker
  const c = pool.imap(
    "sqrPairOrExit",
    items.map((i) => [i, 3] as [number, number]),
    2,
  );
  await assert.rejects(a, WorkerLostError);
  assert.deepEqual(await b, squares);
  for (let i = 0; i < 2; i++) assert.equal((await c.next()).value, i * i);
  await assert.rejects(c.next(), WorkerLostError);
  for (let i = 4; i < 400; i++) assert.equal((await c.next()).value, i * i);
  assert.equal((await c.next()).done, true);
});
