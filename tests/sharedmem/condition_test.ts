// Ports of CPython's _TestCondition (test_notify, test_notify_all,
// test_notify_n, test_timeout, test_waitfor, test_waitfor_timeout) with
// workers as the sleeping processes.

import assert from "node:assert/strict";
import * as mp from "../../sharedmem/mod.ts";
import { workers } from "./_helpers.ts";

/** Resolves after `ms` (only to give a wrong wake-up the chance to show). */
function settleWindow(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts `n` workers waiting on `cond`; resolves once all of them wait. */
async function sleepers(
  ws: { run: (op: string, a: Record<string, unknown>) => Promise<unknown> }[],
  cond: mp.Condition,
) {
  const sleeping = new mp.Semaphore(0);
  const woken = new mp.RawValue("i", 0);
  const runs = ws.map((w) =>
    w.run("condWait", { cond, sleeping, woken, timeout: 20_000 })
  );
  for (const _ of ws) {
    assert.equal(await sleeping.acquire({ timeout: 20_000 }), true);
  }
  // Each worker counted itself while holding the lock and released it only
  // by waiting, so once we hold the lock every worker is a registered waiter.
  await cond.acquire();
  cond.release();
  return { runs, woken };
}

Deno.test("Condition: notify() wakes one waiter at a time (CPython test_notify)", async () => {
  await using ws = workers(2);
  const cond = new mp.Condition();
  const { runs, woken } = await sleepers(ws, cond);
  assert.equal(woken.value, 0);
  await cond.acquire();
  cond.notify();
  cond.release();
  await Promise.race(runs);
  await settleWindow(30);
  assert.equal(woken.value, 1);
  await cond.acquire();
  cond.notify();
  cond.release();
  assert.deepEqual(await Promise.all(runs), [true, true]);
  assert.equal(woken.value, 2);
});

Deno.test("Condition: notify(n) wakes exactly n, notifyAll() the rest (CPython test_notify_n, test_notify_all)", async () => {
  await using ws = workers(3);
  const cond = new mp.Condition(new mp.Lock());
  const { runs, woken } = await sleepers(ws, cond);
  await cond.acquire();
  cond.notify(2);
  cond.release();
  let done = 0;
  const twoDone = new Promise<void>((resolve) =>
    runs.forEach((r) => r.then(() => ++done === 2 && resolve()))
  );
  await twoDone; // bounded: each waiter times out after 20 s, each run after 30 s
  await settleWindow(30);
  assert.equal(done, 2);
  assert.equal(woken.value, 2);
  await cond.acquire();
  cond.notifyAll();
  cond.release();
  assert.deepEqual(await Promise.all(runs), [true, true, true]);
  assert.equal(woken.value, 3);
});

Deno.test("Condition: a timed wait resolves false and holds the lock again (CPython test_timeout)", async () => {
  const cond = new mp.Condition();
  await cond.acquire();
  assert.equal(await cond.wait(10), false);
  assert.equal(await cond.wait(0), false);
  cond.release();
});

Deno.test("Condition: waitFor returns the predicate once it holds (CPython test_waitfor)", async () => {
  await using ws = workers(2);
  const cond = new mp.Condition();
  const state = new mp.RawArray("i", 1);
  const woken = new mp.RawValue("i", 0);
  const runs = ws.map((w) =>
    w.run("condWaitFor", { cond, state, target: 5, woken, timeout: 20_000 })
  );
  for (let i = 0; i < 5; i++) {
    await using _held = await cond.scope();
    state.set(0, state.get(0) + 1);
    cond.notifyAll();
  }
  assert.deepEqual(await Promise.all(runs), [true, true]);
  assert.equal(woken.value, 2);
});

Deno.test("Condition: waitFor with a timeout returns the false predicate (CPython test_waitfor_timeout)", async () => {
  const cond = new mp.Condition();
  await cond.acquire();
  assert.equal(await cond.waitFor(() => 0, 10), 0);
  assert.equal(await cond.waitFor(() => "yes", 0), "yes");
  cond.release();
});

Deno.test("Condition: wait restores an RLock's recursion level", async () => {
  const rlock = new mp.RLock();
  const cond = new mp.Condition(rlock);
  await cond.acquire();
  await cond.acquire();
  assert.equal(await cond.wait(5), false);
  assert.equal(rlock.count(), 2);
  assert.equal(rlock.isOwned(), true);
  cond.release();
  cond.release();
  assert.equal(rlock.locked(), false);
});

Deno.test("Condition: wait without the lock rejects, notify throws", async () => {
  const cond = new mp.Condition();
  await assert.rejects(cond.wait(1), /does not hold its lock/);
  assert.throws(() => cond.notify(), /does not hold its lock/);
  assert.throws(() => cond.notifyAll(), /does not hold its lock/);
  assert.throws(() => cond.waitSync(1), /main thread/);
  await cond.acquire();
  assert.throws(() => cond.notify(-1), RangeError);
  cond.release();
  assert.throws(() => new mp.Condition({} as mp.Lock), TypeError);
  assert.throws(
    () => new mp.Condition(undefined, { maxWaiters: 0 }),
    RangeError,
  );
});

Deno.test("Condition: an aborted wait rejects with signal.reason holding the lock again", async () => {
  const cond = new mp.Condition(new mp.Lock());
  await cond.acquire();
  const ctl = new AbortController();
  const waiting = cond.wait(undefined, { signal: ctl.signal });
  ctl.abort(new Error("give up"));
  await assert.rejects(waiting, /give up/);
  cond.notify(); // holding the lock: allowed
  cond.release();
});

Deno.test("Condition: more than maxWaiters waiters is a RangeError", async () => {
  const cond = new mp.Condition(new mp.Lock(), { maxWaiters: 1 });
  await cond.acquire();
  const first = cond.wait(20_000);
  await cond.acquire(); // the first waiter released it
  await assert.rejects(cond.wait(20_000), RangeError);
  cond.notify();
  cond.release();
  assert.equal(await first, true);
  cond.release();
});
