// Ports of CPython's _TestLock (test_lock, test_rlock, test_lock_context)
// plus contention, ownership, timeouts, aborts and scopes.

import assert from "node:assert/strict";
import * as mp from "../../sharedmem/mod.ts";
import { TimeoutError } from "../../errors.ts";
import { TestWorker, workers } from "./_helpers.ts";

Deno.test("Lock: acquire, non-blocking acquire, release, over-release (CPython test_lock)", async () => {
  const lock = new mp.Lock();
  assert.equal(await lock.acquire(), true);
  assert.equal(await lock.acquire({ block: false }), false);
  assert.equal(lock.locked(), true);
  lock.release();
  assert.equal(lock.locked(), false);
  assert.throws(() => lock.release(), RangeError);
});

Deno.test("RLock: recursive acquire and release, over-release (CPython test_rlock)", async () => {
  const lock = new mp.RLock();
  assert.equal(await lock.acquire(), true);
  assert.equal(await lock.acquire(), true);
  assert.equal(await lock.acquire(), true);
  assert.equal(lock.count(), 3);
  assert.equal(lock.isOwned(), true);
  lock.release();
  lock.release();
  lock.release();
  assert.equal(lock.locked(), false);
  assert.throws(() => lock.release(), /does not own it/);
});

Deno.test("Lock: a timed-out acquire resolves false, then succeeds once released elsewhere", async () => {
  await using w = new TestWorker();
  const lock = new mp.Lock();
  const held = new mp.Event();
  const go = new mp.Event();
  const holding = w.run("hold", { lock, held, go });
  assert.equal(await held.wait(20_000), true);
  assert.equal(await lock.acquire({ timeout: 20 }), false);
  assert.equal(await lock.acquire({ block: false }), false);
  const waiting = lock.acquire({ timeout: 20_000 });
  go.set();
  assert.equal(await holding, true);
  assert.equal(await waiting, true);
  lock.release();
});

Deno.test("Lock: any thread may release it; RLock: only its owner", async () => {
  await using w = new TestWorker();
  const lock = new mp.Lock();
  await lock.acquire();
  assert.equal(await w.run("release", { lock }), true);
  assert.equal(lock.locked(), false);

  const rlock = new mp.RLock();
  await rlock.acquire();
  await assert.rejects(w.run("release", { lock: rlock }), /does not own it/);
  assert.equal(rlock.locked(), true);
  rlock.release();
});

Deno.test("RLock: held by a worker, it is not this thread's to re-enter", async () => {
  await using w = new TestWorker();
  const rlock = new mp.RLock();
  const held = new mp.Event();
  const go = new mp.Event();
  const holding = w.run("hold", { lock: rlock, held, go });
  await held.wait(20_000);
  assert.equal(rlock.isOwned(), false);
  assert.equal(await rlock.acquire({ block: false }), false);
  go.set();
  await holding;
  assert.equal(await rlock.acquire({ timeout: 20_000 }), true);
  rlock.release();
});

Deno.test("Lock: 2 workers x 100k locked increments give an exact count", async () => {
  await using ws = workers(2);
  const value = new mp.Value("i", 0, { lock: new mp.Lock() });
  const counts = await Promise.all(
    ws.map((w) => w.run<number>("incr", { value, n: 100_000 })),
  );
  assert.equal(value.value, 200_000);
  assert.ok(counts.some((c) => c === 200_000));
});

Deno.test("RLock: 2 workers x 100k increments through scopeSync() give an exact count", async () => {
  await using ws = workers(2);
  const value = new mp.Value("i", 0);
  await Promise.all(
    ws.map((w) => w.run("incr", { value, n: 100_000, mode: "scope" })),
  );
  assert.equal(value.value, 200_000);
  assert.equal(value.getLock().locked(), false);
});

Deno.test("Lock: the async path contends correctly with workers and the main thread", async () => {
  await using ws = workers(2);
  const value = new mp.Value("i", 0, { lock: new mp.Lock() });
  const lock = value.getLock();
  const mainSide = (async () => {
    for (let i = 0; i < 2_000; i++) {
      await lock.acquire();
      value.value += 1;
      lock.release();
    }
  })();
  await Promise.all([
    ...ws.map((w) => w.run("incrAsync", { value, n: 5_000 })),
    mainSide,
  ]);
  assert.equal(value.value, 12_000);
});

Deno.test("Lock: acquire rejects with signal.reason and leaves the lock usable", async () => {
  const lock = new mp.Lock();
  await lock.acquire();
  const ctl = new AbortController();
  const waiting = lock.acquire({ signal: ctl.signal });
  ctl.abort(new Error("stop"));
  await assert.rejects(waiting, /stop/);
  await assert.rejects(
    lock.acquire({ signal: AbortSignal.abort("already") }),
    (e) => e === "already",
  );
  lock.release();
  assert.equal(await lock.acquire({ block: false }), true);
  lock.release();
});

Deno.test("Lock: using / await using scopes release at the end of the block", async () => {
  const lock = new mp.Lock();
  {
    using _held = await lock.scope();
    assert.equal(lock.locked(), true);
  }
  assert.equal(lock.locked(), false);
  {
    await using _held = await lock.scope({ timeout: 1000 });
    assert.equal(lock.locked(), true);
  }
  assert.equal(lock.locked(), false);
  const scope = await lock.scope();
  scope.release();
  scope.release();
  assert.equal(scope.held, false);
  await lock.acquire();
  await assert.rejects(lock.scope({ timeout: 5 }), TimeoutError);
  await assert.rejects(lock.scope({ block: false }), TimeoutError);
  lock.release();
});

Deno.test("Lock: bad options reject (never throw: API.md §9); sync twins throw on the main thread", async () => {
  const lock = new mp.Lock();
  const calls: [() => Promise<unknown>, new (...a: never[]) => Error][] = [
    [() => lock.acquire({ timeout: -1 }), RangeError],
    [() => lock.acquire({ timeout: "1" as unknown as number }), TypeError],
    [() => lock.acquire({ block: 1 as unknown as boolean }), TypeError],
    [() => lock.acquire({ signal: {} as AbortSignal }), TypeError],
    [() => lock.acquire(5 as never), TypeError],
    [() => new mp.RLock().acquire({ timeout: -1 }), RangeError],
    [() => new mp.Semaphore(1).acquire("x" as never), TypeError],
    [() => new mp.Event().wait("x" as never), TypeError],
    [() => new mp.Condition().wait(-1), RangeError],
    [() => new mp.Condition().wait(), Error], // without the lock
    [() => new mp.Condition().waitFor(5 as never), TypeError],
    [() => new mp.Barrier(2).wait("x" as never), TypeError],
  ];
  for (const [call, type] of calls) {
    let p: Promise<unknown> | undefined;
    assert.doesNotThrow(() => (p = call()), String(call));
    await assert.rejects(p!, type, String(call));
  }
  assert.throws(() => lock.acquireSync(), /main thread/);
  assert.throws(() => lock.scopeSync(), /main thread/);
  assert.throws(() => new mp.RLock().acquireSync(), /main thread/);
  assert.equal(lock.locked(), false);
});

Deno.test("Lock: acquireSync with a timeout in a worker returns false while held", async () => {
  await using w = new TestWorker();
  const lock = new mp.Lock();
  await lock.acquire();
  assert.equal(await w.run("tryAcquire", { lock, timeout: 20 }), false);
  assert.equal(await w.run("tryAcquire", { lock, block: false }), false);
  lock.release();
  assert.equal(await w.run("tryAcquire", { lock, timeout: 20_000 }), true);
  assert.equal(lock.locked(), true);
  lock.release();
});
