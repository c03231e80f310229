// Port of CPython's _TestEvent.test_event plus wake-ups across workers.

import assert from "node:assert/strict";
import * as mp from "../../sharedmem/mod.ts";
import { workers } from "./_helpers.ts";

Deno.test("Event: wait times out while clear, returns true once set (CPython test_event)", async () => {
  const event = new mp.Event();
  assert.equal(event.isSet(), false);
  assert.equal(await event.wait(0), false);
  assert.equal(await event.wait(10), false);
  event.set();
  assert.equal(event.isSet(), true);
  assert.equal(await event.wait(), true);
  assert.equal(await event.wait(0), true);
  event.clear();
  assert.equal(event.isSet(), false);
  assert.equal(await event.wait(0), false);
});

Deno.test("Event: one set() wakes every waiting worker and main-thread waiter", async () => {
  await using ws = workers(3);
  const event = new mp.Event();
  const ready = new mp.Semaphore(0);
  const waits = ws.map((w) =>
    w.run<boolean>("eventWait", { event, ready, timeout: 20_000 })
  );
  const mainWait = event.wait(20_000);
  for (let i = 0; i < 3; i++) {
    assert.equal(await ready.acquire({ timeout: 20_000 }), true);
  }
  event.set();
  assert.deepEqual(await Promise.all(waits), [true, true, true]);
  assert.equal(await mainWait, true);
});

Deno.test("Event: a worker sets it and the main thread wakes", async () => {
  await using ws = workers(1);
  const event = new mp.Event();
  const waiting = event.wait(20_000);
  await ws[0]!.run("eventSet", { event });
  assert.equal(await waiting, true);
});

Deno.test("Event: a worker's timed wait returns false while clear", async () => {
  await using ws = workers(1);
  const event = new mp.Event();
  assert.equal(await ws[0]!.run("eventWait", { event, timeout: 20 }), false);
});

Deno.test("Event: wait rejects with signal.reason; bad timeouts reject; waitSync throws on the main thread", async () => {
  const event = new mp.Event();
  const ctl = new AbortController();
  const waiting = event.wait(undefined, { signal: ctl.signal });
  ctl.abort(new Error("cancelled"));
  await assert.rejects(waiting, /cancelled/);
  await assert.rejects(event.wait(-1), RangeError);
  await assert.rejects(event.wait(Number.NaN), TypeError);
  assert.throws(() => event.waitSync(0), /main thread/);
  event.set();
  assert.equal(await event.wait(0), true);
});

Deno.test("Event: a set() then clear() while waiting still wakes the waiters with true (threading.Event)", async () => {
  const event = new mp.Event();
  const waits = [event.wait(20_000), event.wait()];
  event.set();
  event.clear();
  assert.deepEqual(await Promise.all(waits), [true, true]);
  assert.equal(event.isSet(), false);
  assert.equal(await event.wait(0), false); // a new wait does not see the old pulse
});
