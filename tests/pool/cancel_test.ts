// Per-task AbortSignal: queued tasks are dropped, running ones see the abort, stuck ones lose their worker.
import assert from "node:assert/strict";
import { taskSignal } from "../../pool/mod.ts";
import { flag, makePool, waitFlag } from "./_helpers.ts";

Deno.test("An already-aborted signal rejects at once with its reason", async () => {
  await using pool = makePool({ processes: 1 });
  const reason = new Error("stop");
  const res = pool.applyAsync("sqr", [2], {
    signal: AbortSignal.abort(reason),
  });
  await assert.rejects(res.get(), (e) => e === reason);
  assert.equal(pool.stats().completed, 0);
});

Deno.test("Aborting a queued task drops it: it never runs", async () => {
  await using pool = makePool({ processes: 1 });
  const gate = flag();
  const blocker = pool.applyAsync("gate", [gate, 1]);
  const ac = new AbortController();
  const ran = flag();
  const queued = pool.applyAsync("waitForAbort", [ran], { signal: ac.signal });
  ac.abort("no longer needed");
  await assert.rejects(queued.get(), (e) => e === "no longer needed");
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
  assert.equal(await blocker.get(10_000), 1);
  assert.equal(await pool.apply("sqr", [3]), 9);
  assert.equal(Atomics.load(ran, 0), 0, "the aborted task never started");
});

Deno.test("A running task sees the abort through taskSignal(); a fresh worker serves meanwhile", async () => {
  await using pool = makePool({ processes: 1, abortGrace: 60_000 });
  const id = await pool.apply("workerId");
  const running = flag();
  const ac = new AbortController();
  const res = pool.applyAsync("waitForAbort", [running], { signal: ac.signal });
  await waitFlag(running);
  const next = pool.applyAsync("workerId"); // queued behind the running task
  ac.abort("cancel it");
  await assert.rejects(res.get(), (e) => e === "cancel it");
  // the task saw the abort through taskSignal() (it sets the flag to 2)
  const seen = Atomics.waitAsync(running, 0, 1, 10_000);
  if (seen.async) await seen.value;
  assert.equal(Atomics.load(running, 0), 2);
  // the aborted task's worker was replaced at once: `next` ran on another
  assert.notEqual(await next.get(10_000), id);
  assert.equal(pool.stats().workers.length, 1);
});

Deno.test("A running task that ignores the abort loses its worker after the grace period", async () => {
  await using pool = makePool({ processes: 1, abortGrace: 50 });
  const running = flag();
  const ac = new AbortController();
  const before = await pool.apply("workerId");
  const res = pool.applyAsync("blockForever", [running], { signal: ac.signal });
  await waitFlag(running);
  ac.abort(new Error("too slow"));
  await assert.rejects(res.get(), /too slow/);
  // the pool replaces the stuck worker and keeps serving
  assert.notEqual(await pool.apply("workerId"), before);
  assert.equal(await pool.apply("sqr", [5]), 25);
  assert.equal(pool.stats().workers.length, 1);
});

Deno.test("mapAsync with a signal: aborting rejects the map and drops its queued chunks", async () => {
  const pool = makePool({ processes: 2, abortGrace: 5_000 });
  const ac = new AbortController();
  const ran = flag();
  const res = pool.starmapAsync(
    "countSqrUnless",
    Array.from({ length: 50 }, (_, i) => [ran, i, -1]) as [
      Int32Array,
      number,
      number,
    ][],
    1,
    { signal: ac.signal },
  );
  ac.abort("enough");
  await assert.rejects(res.get(), (e) => e === "enough");
  assert.equal(pool.stats().queued, 0);
  assert.equal(await pool.apply("sqr", [2]), 4);
  pool.close();
  await pool.join(); // every chunk still queued would have run by now
  assert.ok(Atomics.load(ran, 0) < 50, `${Atomics.load(ran, 0)} items ran`);
});

Deno.test("taskSignal() outside a worker never aborts", () => {
  assert.equal(taskSignal().aborted, false);
});

Deno.test("An aborted task is not reported as a worker loss to other tasks", async () => {
  await using pool = makePool({ processes: 1, abortGrace: 50 });
  const running = flag();
  const ac = new AbortController();
  const stuck = pool.applyAsync("blockForever", [running], {
    signal: ac.signal,
  });
  const next = pool.applyAsync("sqr", [7]); // queued behind, must survive the kill
  await waitFlag(running);
  ac.abort("x");
  await assert.rejects(stuck.get(), (e) => e === "x");
  assert.equal(await next.get(10_000), 49);
});
