// Referent semantics without sockets: each client is a Caller, calls run
// attributed to it with runAs(), as the server does.

import assert from "node:assert/strict";
import { BrokenBarrierError, Empty, Full } from "../../errors.ts";
import { Caller, runAs } from "../../manager/types/_caller.ts";
import { Undoable } from "../../manager/types/undoable.ts";
import { SharedArray } from "../../manager/types/array.ts";
import { SharedBarrier } from "../../manager/types/barrier.ts";
import { SharedCondition } from "../../manager/types/condition.ts";
import { SharedDict } from "../../manager/types/dict.ts";
import { SharedEvent } from "../../manager/types/event.ts";
import { SharedList } from "../../manager/types/list.ts";
import { SharedLock } from "../../manager/types/lock.ts";
import { SharedNamespace } from "../../manager/types/namespace.ts";
import { SharedQueue } from "../../manager/types/queue.ts";
import { SharedRLock } from "../../manager/types/rlock.ts";
import {
  SharedBoundedSemaphore,
  SharedSemaphore,
} from "../../manager/types/semaphore.ts";

async function value<T>(r: T | Promise<T>): Promise<unknown> {
  const v = await r;
  return v instanceof Undoable ? v.value : v;
}

Deno.test("SharedQueue hands a put item to the oldest waiting getter", async () => {
  const q = new SharedQueue();
  const a = new Caller();
  const b = new Caller();
  const ga = runAs(a, () => q.get());
  const gb = runAs(b, () => q.get());
  runAs(a, () => q.put(1));
  runAs(a, () => q.put(2));
  assert.equal(await value(ga), 1);
  assert.equal(await value(gb), 2);
  assert.equal(q.qsize(), 0);
});

Deno.test("SharedQueue rejects with Empty and Full without blocking or after the timeout", async () => {
  const q = new SharedQueue(1);
  assert.throws(() => q.get({ block: false }), Empty);
  assert.throws(() => q.getNowait(), Empty);
  await assert.rejects(
    Promise.resolve().then(() => q.get({ timeout: 5 })),
    Empty,
  );
  q.put(1);
  assert.equal(q.full(), true);
  assert.throws(() => q.putNowait(2), Full);
  await assert.rejects(
    Promise.resolve().then(() => q.put(2, { timeout: 5 })),
    Full,
  );
  assert.throws(() => q.get({ timeout: -1 }), RangeError);
});

Deno.test("SharedQueue moves a waiting putter's item in when room frees up", async () => {
  const q = new SharedQueue(1);
  q.put("a");
  const p = q.put("b");
  assert.ok(p instanceof Promise);
  assert.equal(await value(q.get()), "a");
  await p;
  assert.equal(q.qsize(), 1);
  assert.equal(await value(q.get()), "b");
});

Deno.test("SharedQueue puts an undelivered item back at the head", async () => {
  const q = new SharedQueue();
  q.put(1);
  q.put(2);
  const r = q.get() as Undoable<unknown>;
  assert.equal(r.value, 1);
  r.undo();
  assert.equal(await value(q.get()), 1);
  assert.equal(await value(q.get()), 2);
});

Deno.test("SharedQueue cancels the waits of a client that goes away; no item is lost", async () => {
  const q = new SharedQueue();
  const gone = new Caller();
  const stays = new Caller();
  const g1 = runAs(gone, () => q.get()) as Promise<unknown>;
  const g2 = runAs(stays, () => q.get());
  gone.drop();
  await assert.rejects(g1);
  q.put("x");
  assert.equal(await value(g2), "x");
  assert.equal(q.qsize(), 0);
});

Deno.test("SharedQueue taskDone() and join() follow CPython", async () => {
  const q = new SharedQueue();
  assert.equal(q.join(), undefined);
  q.put(1);
  q.put(2);
  let joined = false;
  const j = (q.join() as Promise<void>).then(() => (joined = true));
  q.get();
  q.taskDone();
  await Promise.resolve();
  assert.equal(joined, false);
  q.get();
  q.taskDone();
  await j;
  assert.equal(joined, true);
  assert.throws(() => q.taskDone(), RangeError);
});

Deno.test("SharedLock is released when its holder drops, and handed to the next live waiter", async () => {
  const lock = new SharedLock();
  const a = new Caller();
  const b = new Caller();
  const c = new Caller();
  assert.equal(runAs(a, () => lock.acquire()), true);
  assert.equal(runAs(b, () => lock.acquire({ block: false })), false);
  const wb = runAs(b, () => lock.acquire()) as Promise<boolean>;
  const wc = runAs(c, () => lock.acquire()) as Promise<boolean>;
  b.drop();
  await assert.rejects(wb);
  a.drop();
  assert.equal(await wc, true);
  assert.equal(lock.isOwnedBy(c), true);
  runAs(a, () => lock.release()); // any client may release a Lock
  assert.equal(lock.locked(), false);
  assert.throws(() => lock.release(), /unlocked/);
});

Deno.test("SharedLock acquire options: timeouts resolve false; bad ones are refused", async () => {
  const lock = new SharedLock();
  lock.acquire();
  assert.equal(await lock.acquire({ timeout: 5 }), false);
  assert.equal(lock.acquire({ timeout: 0 }), false);
  assert.throws(() => lock.acquire({ block: false, timeout: 5 }), RangeError);
  assert.throws(() => lock.acquire({ timeout: -2 }), RangeError);
  lock.release();
  assert.equal(lock.acquire({ timeout: -1 }), true);
  lock.release();
});

Deno.test("SharedRLock is owned by one client, reentrant, and released for good when it drops", async () => {
  const lock = new SharedRLock();
  const a = new Caller();
  const b = new Caller();
  assert.equal(runAs(a, () => lock.acquire()), true);
  assert.equal(runAs(a, () => lock.acquire()), true);
  assert.throws(() => runAs(b, () => lock.release()), /un-acquired/);
  const wb = runAs(b, () => lock.acquire()) as Promise<boolean>;
  runAs(a, () => lock.release());
  assert.equal(lock.isOwnedBy(a), true);
  a.drop();
  assert.equal(await wb, true);
  assert.equal(lock.isOwnedBy(b), true);
  runAs(b, () => lock.release());
  assert.throws(() => runAs(b, () => lock.release()), /un-acquired/);
});

Deno.test("SharedSemaphore counts units, gives back a dropped client's units, and BoundedSemaphore refuses overflow", async () => {
  const sem = new SharedSemaphore(2);
  const a = new Caller();
  const b = new Caller();
  assert.equal(runAs(a, () => sem.acquire()), true);
  assert.equal(runAs(a, () => sem.acquire()), true);
  assert.equal(sem.getValue(), 0);
  assert.equal(runAs(b, () => sem.acquire({ block: false })), false);
  const wb = runAs(b, () => sem.acquire()) as Promise<boolean>;
  a.drop();
  assert.equal(await wb, true);
  assert.equal(sem.getValue(), 1);
  runAs(b, () => sem.release());
  assert.equal(sem.getValue(), 2);
  const bs = new SharedBoundedSemaphore(1);
  bs.acquire();
  bs.release();
  assert.throws(() => bs.release(), RangeError);
  assert.throws(() => new SharedSemaphore(-1), RangeError);
});

Deno.test("SharedCondition wait/notify hands the lock back; a dropped waiter never reacquires", async () => {
  const cond = new SharedCondition();
  const a = new Caller();
  const b = new Caller();
  const c = new Caller();
  assert.throws(() => runAs(a, () => cond.notify()), /un-acquired/);
  await assert.rejects(runAs(a, () => cond.wait()), /un-acquired/);
  runAs(a, () => cond.acquire());
  const wa = runAs(a, () => cond.wait());
  runAs(c, () => cond.acquire());
  const wc = runAs(c, () => cond.wait());
  runAs(b, () => cond.acquire());
  c.drop();
  await assert.rejects(wc);
  runAs(b, () => cond.notifyAll());
  runAs(b, () => cond.release());
  assert.equal(await wa, true);
  runAs(a, () => cond.release());
  runAs(a, () => cond.acquire());
  assert.equal(await runAs(a, () => cond.wait(5)), false);
  runAs(a, () => cond.release());
});

Deno.test("SharedEvent wait resolves on set, or false after the timeout", async () => {
  const ev = new SharedEvent();
  assert.equal(await ev.wait(5), false);
  const w = ev.wait();
  ev.set();
  assert.equal(await w, true);
  assert.equal(ev.isSet(), true);
  ev.clear();
  assert.equal(ev.wait(0), false);
});

Deno.test("SharedBarrier releases parties with their indexes; timeouts and abort break it", async () => {
  const bar = new SharedBarrier(3);
  const idx = await Promise.all([bar.wait(), bar.wait(), bar.wait()]);
  assert.deepEqual(idx.sort(), [0, 1, 2]);
  const w = bar.wait(5);
  await assert.rejects(w, BrokenBarrierError);
  assert.equal(bar.broken(), true);
  await assert.rejects(bar.wait(), BrokenBarrierError);
  bar.reset();
  assert.equal(bar.broken(), false);
  const w1 = bar.wait();
  assert.equal(bar.nWaiting(), 1);
  bar.abort();
  await assert.rejects(w1, BrokenBarrierError);
  assert.equal(bar.parties(), 3);
});

Deno.test("SharedBarrier withdraws a waiter whose client goes away", async () => {
  const bar = new SharedBarrier(2);
  const gone = new Caller();
  const w = runAs(gone, () => bar.wait());
  gone.drop();
  await assert.rejects(w);
  assert.equal(bar.nWaiting(), 0);
  const idx = await Promise.all([bar.wait(), bar.wait()]);
  assert.deepEqual(idx.sort(), [0, 1]);
});

Deno.test("SharedArray checks typecodes, ranges and indexes", () => {
  const a = new SharedArray("i", [1, 2, 3]);
  assert.equal(a.get(-1), 3);
  a.set(0, 10);
  assert.deepEqual(a.toArray(), [10, 2, 3]);
  assert.throws(() => a.set(0, 2 ** 40), RangeError);
  assert.throws(() => a.get(3), RangeError);
  assert.throws(() => new SharedArray("z", []), TypeError);
  const q = new SharedArray("q", [1, 2n]);
  assert.deepEqual(q.toArray(), [1n, 2n]);
  assert.equal(new SharedArray("d", 2).length(), 2);
});

Deno.test("SharedDict and SharedList follow Python's semantics", () => {
  const d = new SharedDict({ a: 1 });
  d.set(65, "A");
  assert.equal(d.get("missing"), undefined);
  assert.equal(d.get("missing", 0), 0);
  assert.equal(d.pop("a"), 1);
  assert.throws(() => d.pop("a"), { name: "KeyError" });
  assert.equal(d.pop("a", null), null);
  assert.throws(() => d.delete("zz"), { name: "KeyError" });
  assert.equal(d.setdefault("s", 5), 5);
  assert.deepEqual(d.items(), [[65, "A"], ["s", 5]]);
  assert.deepEqual(d.toObject(), { 65: "A", s: 5 });
  const l = new SharedList([3, 1, 2]);
  l.sort();
  assert.deepEqual(l.toArray(), [1, 2, 3]);
  l.sort({ reverse: true });
  assert.deepEqual(l.slice(-2), [2, 1]);
  assert.equal(l.pop(), 1);
  assert.throws(() => l.remove(9), { name: "ValueError" });
  assert.throws(() => l.get(5), { name: "IndexError" });
  l.insert(-100, 0);
  assert.deepEqual(l.toArray(), [0, 3, 2]);
  assert.equal(l.index(2), 2);
  l.append([1, 2]);
  assert.equal(l.count([1, 2]), 1);
  assert.throws(() => new SharedList([1, "a"]).sort(), TypeError);
  assert.throws(() => l.append(new SharedList()), /nested proxies/);
  const ns = new SharedNamespace();
  ns.set("x", 1);
  assert.equal(ns.get("x"), 1);
  assert.throws(() => ns.get("y"), { name: "AttributeError" });
});
