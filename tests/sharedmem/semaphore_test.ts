// Ports of CPython's _TestSemaphore (test_semaphore, test_bounded_semaphore,
// test_timeout) plus workers waking one by one.

import assert from "node:assert/strict";
import * as mp from "../../sharedmem/mod.ts";
import { workers } from "./_helpers.ts";

Deno.test("Semaphore: counts down to zero and back (CPython test_semaphore)", async () => {
  const sem = new mp.Semaphore(2);
  assert.equal(await sem.acquire(), true);
  assert.equal(sem.getValue(), 1);
  assert.equal(await sem.acquire(), true);
  assert.equal(sem.getValue(), 0);
  assert.equal(await sem.acquire({ block: false }), false);
  assert.equal(sem.getValue(), 0);
  sem.release();
  assert.equal(sem.getValue(), 1);
  sem.release();
  assert.equal(sem.getValue(), 2);
  sem.release(); // an unbounded semaphore may go above its start
  assert.equal(sem.getValue(), 3);
});

Deno.test("BoundedSemaphore: releasing above the initial value throws RangeError (CPython test_bounded_semaphore)", async () => {
  const sem = new mp.BoundedSemaphore(2);
  await sem.acquire();
  sem.release();
  assert.equal(sem.getValue(), 2);
  assert.throws(() => sem.release(), RangeError);
  assert.equal(sem.getValue(), 2);
  assert.throws(
    () => new mp.BoundedSemaphore(1).release(),
    /released too many times/,
  );
});

Deno.test("Semaphore: non-blocking and timed acquires return false (CPython test_timeout)", async () => {
  const sem = new mp.Semaphore(0);
  assert.equal(await sem.acquire({ block: false }), false);
  assert.equal(await sem.acquire({ block: false, timeout: 1000 }), false);
  assert.equal(await sem.acquire({ timeout: 0 }), false);
  assert.equal(await sem.acquire({ timeout: 10 }), false);
});

Deno.test("Semaphore: bad constructor arguments throw; a bad acquire() rejects", async () => {
  assert.throws(() => new mp.Semaphore(-1), RangeError);
  assert.throws(() => new mp.Semaphore(1.5), TypeError);
  assert.throws(() => new mp.BoundedSemaphore(2 ** 31), RangeError);
  await assert.rejects(
    new mp.Semaphore(1).acquire({ timeout: -5 }),
    RangeError,
  );
  assert.throws(() => new mp.Semaphore(1).acquireSync(), /main thread/);
});

Deno.test("Semaphore: each release wakes one waiting worker", async () => {
  await using ws = workers(3);
  const sem = new mp.Semaphore(0);
  const got = ws.map((w) =>
    w.run<boolean>("semAcquire", { sem, timeout: 20_000 })
  );
  let settled = 0;
  let wake = (): void => {};
  got.forEach((p) =>
    p.then(() => {
      settled++;
      wake();
    })
  );
  for (let i = 1; i <= 3; i++) {
    const next = new Promise<void>((resolve) => (wake = resolve));
    sem.release();
    await next; // bounded: each worker's acquire times out after 20 s
    assert.equal(settled, i, "one release lets exactly one worker through");
    assert.equal(sem.getValue(), 0);
  }
  assert.deepEqual(await Promise.all(got), [true, true, true]);
});

Deno.test("Semaphore: a worker's timed acquire returns false when nothing is released", async () => {
  await using ws = workers(1);
  const sem = new mp.Semaphore(0);
  assert.equal(await ws[0]!.run("semAcquire", { sem, timeout: 20 }), false);
});

Deno.test("Semaphore: scope() holds one unit until disposed; the BoundedSemaphore travels as bounded", async () => {
  const sem = new mp.BoundedSemaphore(1);
  {
    await using _slot = await sem.scope();
    assert.equal(sem.getValue(), 0);
  }
  assert.equal(sem.getValue(), 1);
  const { value } = mp.toPostable(sem);
  const again = await mp.revive<mp.Semaphore>(structuredClone(value));
  assert.ok(again instanceof mp.BoundedSemaphore);
  assert.throws(() => again.release(), RangeError);
  await again.acquire();
  assert.equal(sem.getValue(), 0);
  sem.release();
});
