// Ports of CPython's _TestBarrier (test_barrier, test_wait_return,
// test_abort, test_reset, test_abort_and_reset, test_timeout,
// test_default_timeout, test_single_thread, test_thousand).

import assert from "node:assert/strict";
import * as mp from "../../sharedmem/mod.ts";
import { BrokenBarrierError } from "../../errors.ts";
import { workers } from "./_helpers.ts";

Deno.test("Barrier: workers pass generation after generation together (CPython test_barrier, test_wait_return)", async () => {
  await using ws = workers(3);
  const rounds = 20;
  const barrier = new mp.Barrier(3);
  const log = new mp.RawArray("i", [-1, -1, -1]);
  const results = await Promise.all(
    ws.map((w, slot) =>
      w.run<number[]>("barrier", { barrier, rounds, log, slot })
    ),
  );
  for (let r = 0; r < rounds; r++) {
    assert.deepEqual(
      results.map((idx) => idx[r]).sort(),
      [0, 1, 2],
      `round ${r}`,
    );
  }
  assert.equal(barrier.nWaiting(), 0);
  assert.equal(barrier.broken(), false);
});

Deno.test("Barrier: the main thread and a worker meet; parties() and nWaiting()", async () => {
  await using ws = workers(1);
  const barrier = new mp.Barrier(2);
  assert.equal(barrier.parties(), 2);
  const log = new mp.RawArray("i", [-1, -1]);
  const workerSide = ws[0]!.run<number[]>("barrier", {
    barrier,
    rounds: 3,
    log,
    slot: 0,
  });
  for (let r = 0; r < 3; r++) {
    log.set(1, r);
    await barrier.wait(20_000);
  }
  assert.equal((await workerSide).length, 3);
});

Deno.test("Barrier: abort() breaks current and future waits (CPython test_abort)", async () => {
  await using ws = workers(2);
  const barrier = new mp.Barrier(3);
  const waits = ws.map((w) =>
    w.run<string>("barrierBreak", { barrier, timeout: 20_000 })
  );
  for (let i = 0; i < 2000 && barrier.nWaiting() < 2; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(barrier.nWaiting(), 2);
  barrier.abort();
  assert.deepEqual(await Promise.all(waits), [
    "BrokenBarrierError",
    "BrokenBarrierError",
  ]);
  assert.equal(barrier.broken(), true);
  await assert.rejects(barrier.wait(), BrokenBarrierError);
  barrier.reset();
  assert.equal(barrier.broken(), false);
});

Deno.test("Barrier: reset() breaks the waiters, then the barrier works again (CPython test_reset)", async () => {
  const barrier = new mp.Barrier(3);
  const a = barrier.wait(20_000);
  const b = barrier.wait(20_000);
  assert.equal(barrier.nWaiting(), 2);
  barrier.reset();
  await assert.rejects(a, BrokenBarrierError);
  await assert.rejects(b, BrokenBarrierError);
  assert.equal(barrier.broken(), false);
  const idx = await Promise.all([
    barrier.wait(),
    barrier.wait(),
    barrier.wait(),
  ]);
  assert.deepEqual(idx.sort(), [0, 1, 2]);
});

Deno.test("Barrier: abort then reset makes it usable again (CPython test_abort_and_reset)", async () => {
  const barrier = new mp.Barrier(2);
  const a = barrier.wait();
  barrier.abort();
  await assert.rejects(a, BrokenBarrierError);
  await assert.rejects(barrier.wait(), BrokenBarrierError);
  barrier.reset();
  assert.deepEqual(
    (await Promise.all([barrier.wait(), barrier.wait()])).sort(),
    [0, 1],
  );
});

Deno.test("Barrier: a timed-out wait breaks it for everyone (CPython test_timeout)", async () => {
  await using ws = workers(1);
  const barrier = new mp.Barrier(3);
  const other = ws[0]!.run<string>("barrierBreak", {
    barrier,
    timeout: 20_000,
  });
  await assert.rejects(barrier.wait(20), BrokenBarrierError);
  assert.equal(await other, "BrokenBarrierError");
  assert.equal(barrier.broken(), true);
});

Deno.test("Barrier: the constructor's timeout is the default (CPython test_default_timeout)", async () => {
  const barrier = new mp.Barrier(2, { timeout: 10 });
  await assert.rejects(barrier.wait(), BrokenBarrierError);
  assert.equal(barrier.broken(), true);
});

Deno.test("Barrier: one party passes alone, a thousand times (CPython test_single_thread, test_thousand)", async () => {
  const one = new mp.Barrier(1);
  for (let i = 0; i < 5; i++) assert.equal(await one.wait(), 0);
  const two = new mp.Barrier(2);
  for (let i = 0; i < 1000; i++) {
    const idx = await Promise.all([two.wait(), two.wait()]);
    assert.deepEqual(idx.sort(), [0, 1]);
  }
});

Deno.test("Barrier: an aborted wait rejects with signal.reason and breaks the barrier", async () => {
  const barrier = new mp.Barrier(2);
  const ctl = new AbortController();
  const waiting = barrier.wait(undefined, { signal: ctl.signal });
  ctl.abort(new Error("leave"));
  await assert.rejects(waiting, /leave/);
  assert.equal(barrier.broken(), true);
});

Deno.test("Barrier: bad constructor arguments throw, a bad wait() rejects; waitSync throws on the main thread", async () => {
  assert.throws(() => new mp.Barrier(0), RangeError);
  assert.throws(() => new mp.Barrier(1.5), TypeError);
  assert.throws(() => new mp.Barrier(2, { timeout: -1 }), RangeError);
  await assert.rejects(new mp.Barrier(2).wait(-1), RangeError);
  assert.throws(() => new mp.Barrier(2).waitSync(), /main thread/);
});

Deno.test("Barrier: reset()/abort() on the main thread give up on an internal lock whose holder is gone", async () => {
  const { lockNow, unlock } = await import("../../sharedmem/_mutex.ts");
  const i32 = new Int32Array(new SharedArrayBuffer(4));
  lockNow(i32, 0, false, 50); // free: taken at once
  assert.throws(() => lockNow(i32, 0, false, 20), /held for 20 ms/);
  unlock(i32, 0);
  lockNow(i32, 0, false, 20);
  assert.equal(Atomics.load(i32, 0), 1);
});
