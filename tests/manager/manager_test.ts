// Ports of CPython's manager tests (Lib/test/_test_multiprocessing.py:
// _TestQueue, _TestLock, _TestSemaphore, _TestCondition, _TestEvent,
// _TestBarrier, _TestValue, _TestArray, _TestContainers, _TestNamespace)
// against a started SyncManager. CPython's child processes become second
// client connections (SyncManager.connect + fromToken).

import assert from "node:assert/strict";
import { BrokenBarrierError, Empty, Full, RemoteError } from "../../errors.ts";
import { type ListProxy, type Remote, SyncManager } from "../../manager/mod.ts";

const T = 30; // a short timeout, in ms

async function withChild<R>(
  m: SyncManager,
  fn: (child: SyncManager) => Promise<R>,
): Promise<R> {
  await using child = await SyncManager.connect({
    address: m.address,
    authkey: m.authkey,
  });
  return await fn(child);
}

Deno.test("CPython manager tests", async (t) => {
  await using m = await SyncManager.start();

  await t.step("_TestQueue.test_put", async () => {
    const MAXSIZE = 6;
    const q = await m.Queue(MAXSIZE);
    assert.equal(await q.empty(), true);
    assert.equal(await q.full(), false);
    await q.put(1);
    await q.put(2, { block: true });
    await q.put(3, { block: true, timeout: undefined });
    await q.put(4, { block: false });
    await q.put(5, { block: false, timeout: undefined });
    await q.putNowait(6);
    assert.equal(await q.empty(), false);
    assert.equal(await q.full(), true);
    await assert.rejects(q.put(7, { block: false }), Full);
    await assert.rejects(q.putNowait(7), Full);
    await assert.rejects(q.put(7, { block: true, timeout: T }), Full);
    await assert.rejects(q.put(7, { block: false, timeout: T }), Full);
    // The child takes them all.
    await withChild(m, async (child) => {
      const cq = await child.fromToken<unknown>(q.token) as unknown as typeof q;
      for (let i = 1; i <= 6; i++) assert.equal(await cq.get(), i);
    });
    assert.equal(await q.empty(), true);
    assert.equal(await q.full(), false);
    await q[Symbol.asyncDispose]();
  });

  await t.step("_TestQueue.test_get", async () => {
    const q = await m.Queue();
    assert.equal(await q.empty(), true);
    // A blocked get is served by another client's put.
    const got = q.get({ block: true, timeout: undefined });
    await withChild(m, async (child) => {
      const cq = await child.fromToken(q.token) as unknown as typeof q;
      for (const i of [2, 3, 4, 5]) await cq.put(i);
    });
    assert.equal(await got, 2);
    assert.equal(await q.get({ block: true }), 3);
    assert.equal(await q.get({ timeout: 1000 }), 4);
    assert.equal(await q.getNowait(), 5);
    assert.equal(await q.empty(), true);
    await assert.rejects(q.get({ block: false }), Empty);
    await assert.rejects(q.getNowait(), Empty);
    await assert.rejects(q.get({ block: true, timeout: T }), Empty);
    await assert.rejects(q.get({ block: false, timeout: T }), Empty);
    await assert.rejects(q.get({ timeout: T }), Empty);
  });

  await t.step("_TestQueue.test_qsize", async () => {
    const q = await m.Queue();
    assert.equal(await q.qsize(), 0);
    await q.put(1);
    assert.equal(await q.qsize(), 1);
    await q.put(5);
    assert.equal(await q.qsize(), 2);
    await q.get();
    assert.equal(await q.qsize(), 1);
    await q.get();
    assert.equal(await q.qsize(), 0);
  });

  await t.step("_TestQueue.test_task_done", async () => {
    const q = await m.JoinableQueue();
    // Workers (other clients) consume until they get null, marking each done.
    const workers = [0, 1, 2, 3].map(() =>
      withChild(m, async (child) => {
        const cq = await child.fromToken(q.token) as unknown as typeof q;
        // 10 items and 4 nulls in all: no worker takes more than 11.
        for (let i = 0; i < 11; i++) {
          const item = await cq.get({ timeout: 10_000 });
          await cq.taskDone();
          if (item === null) return;
        }
        throw new Error("the worker never got its null");
      })
    );
    for (let i = 0; i < 10; i++) await q.put(i);
    await q.join();
    for (let i = 0; i < 4; i++) await q.put(null);
    await Promise.all(workers);
    await assert.rejects(q.taskDone(), RemoteError);
  });

  await t.step("_TestQueue.test_timeout", async () => {
    const q = await m.Queue();
    await assert.rejects(q.get({ block: true, timeout: T }), Empty);
  });

  await t.step("_TestLock.test_lock", async () => {
    const lock = await m.Lock();
    assert.equal(await lock.acquire(), true);
    assert.equal(await lock.acquire({ block: false }), false);
    assert.equal(await lock.release(), undefined);
    await assert.rejects(lock.release(), RemoteError);
  });

  await t.step("_TestLock.test_rlock", async () => {
    const lock = await m.RLock();
    assert.equal(await lock.acquire(), true);
    assert.equal(await lock.acquire(), true);
    assert.equal(await lock.acquire(), true);
    assert.equal(await lock.release(), undefined);
    assert.equal(await lock.release(), undefined);
    assert.equal(await lock.release(), undefined);
    await assert.rejects(lock.release(), RemoteError);
  });

  await t.step(
    "_TestSemaphore.test_semaphore / test_bounded_semaphore",
    async () => {
      for (const make of [() => m.Semaphore(2), () => m.BoundedSemaphore(2)]) {
        const sem = await make();
        assert.equal(await sem.getValue(), 2);
        assert.equal(await sem.acquire(), true);
        assert.equal(await sem.getValue(), 1);
        assert.equal(await sem.acquire(), true);
        assert.equal(await sem.getValue(), 0);
        assert.equal(await sem.acquire({ block: false }), false);
        assert.equal(await sem.release(), undefined);
        assert.equal(await sem.getValue(), 1);
        assert.equal(await sem.release(), undefined);
        assert.equal(await sem.getValue(), 2);
      }
      const sem = await m.Semaphore(2);
      await sem.release();
      await sem.release();
      assert.equal(await sem.getValue(), 4);
      const bounded = await m.BoundedSemaphore(2);
      await assert.rejects(bounded.release(), RemoteError);
    },
  );

  await t.step("_TestSemaphore.test_timeout", async () => {
    const sem = await m.Semaphore(0);
    assert.equal(await sem.acquire({ block: false }), false);
    assert.equal(
      await sem.acquire({ block: false, timeout: undefined }),
      false,
    );
    assert.equal(await sem.acquire({ block: true, timeout: T }), false);
    assert.equal(await sem.acquire({ timeout: T }), false);
  });

  await t.step(
    "_TestCondition.test_notify / test_notify_all / test_timeout",
    async () => {
      const cond = await m.Condition();
      // Two children wait; notify() wakes one, notifyAll() the other.
      const sleeping = await m.Semaphore(0);
      const woken = await m.Semaphore(0);
      const waiters = [0, 1].map(() =>
        withChild(m, async (child) => {
          const c = await child.fromToken(cond.token) as unknown as typeof cond;
          const s = await child.fromToken(
            sleeping.token,
          ) as unknown as typeof sleeping;
          const w = await child.fromToken(
            woken.token,
          ) as unknown as typeof woken;
          await c.acquire();
          await s.release();
          const r = await c.wait();
          await w.release();
          await c.release();
          return r;
        })
      );
      await sleeping.acquire();
      await sleeping.acquire();
      assert.equal(await woken.getValue(), 0);
      await cond.acquire();
      await cond.notify();
      await cond.release();
      assert.equal(await woken.acquire(), true);
      assert.equal(await woken.acquire({ timeout: T }), false);
      await cond.acquire();
      await cond.notifyAll();
      await cond.release();
      assert.equal(await woken.acquire(), true);
      assert.deepEqual(await Promise.all(waiters), [true, true]);
      // test_timeout
      await cond.acquire();
      assert.equal(await cond.wait(T), false);
      await cond.release();
      // Condition over a given Lock (the proxy arrives as its referent).
      const lock = await m.Lock();
      const c2 = await m.Condition(lock);
      assert.equal(await c2.acquire(), true);
      assert.equal(await lock.acquire({ block: false }), false);
      await c2.release();
      await assert.rejects(c2.notify(), RemoteError);
    },
  );

  await t.step("_TestEvent.test_event", async () => {
    const event = await m.Event();
    assert.equal(await event.isSet(), false);
    assert.equal(await event.wait(0), false);
    assert.equal(await event.wait(T), false);
    await event.set();
    assert.equal(await event.isSet(), true);
    assert.equal(await event.wait(), true);
    assert.equal(await event.wait(T), true);
    await event.clear();
    assert.equal(await event.isSet(), false);
    // A child sets it while we wait.
    const w = event.wait();
    await withChild(m, async (child) => {
      const e = await child.fromToken(event.token) as unknown as typeof event;
      await e.set();
    });
    assert.equal(await w, true);
  });

  await t.step("_TestBarrier: barrier, abort, reset, timeout", async () => {
    const N = 5;
    const barrier = await m.Barrier(N);
    assert.equal(await barrier.parties(), N);
    const results = await Promise.all(
      Array.from({ length: N }, () =>
        withChild(m, async (child) => {
          const b = await child.fromToken(
            barrier.token,
          ) as unknown as typeof barrier;
          return await b.wait();
        })),
    );
    assert.deepEqual(results.sort(), [0, 1, 2, 3, 4]);
    assert.equal(await barrier.nWaiting(), 0);
    assert.equal(await barrier.broken(), false);
    // test_abort
    const w = barrier.wait();
    await barrier.abort();
    await assert.rejects(w, BrokenBarrierError);
    assert.equal(await barrier.broken(), true);
    await assert.rejects(barrier.wait(), BrokenBarrierError);
    // test_reset
    await barrier.reset();
    assert.equal(await barrier.broken(), false);
    // test_timeout / test_default_timeout
    await assert.rejects(barrier.wait(T), BrokenBarrierError);
    await barrier.reset();
    const b2 = await m.Barrier(2, { timeout: T });
    await assert.rejects(b2.wait(), BrokenBarrierError);
  });

  await t.step("_TestValue.test_value", async () => {
    const codes: [string, unknown, unknown][] = [
      ["i", 25, 250],
      ["d", 1.25, 2.5],
      ["h", -232, -2320],
      ["c", "x", "y"],
    ];
    const values = await Promise.all(codes.map(([c, v]) => m.Value(c, v)));
    for (let i = 0; i < codes.length; i++) {
      assert.equal(await values[i]!.get(), codes[i]![1]);
    }
    await withChild(m, async (child) => {
      for (let i = 0; i < codes.length; i++) {
        const v = await child.fromToken(
          values[i]!.token,
        ) as unknown as (typeof values)[0];
        await v.set(codes[i]![2]);
      }
    });
    for (let i = 0; i < codes.length; i++) {
      assert.equal(await values[i]!.get(), codes[i]![2]);
    }
  });

  await t.step("_TestArray.test_array", async () => {
    const seq = [680, 626, 934, 821, 150, 233, 548, 982, 714, 831];
    const arr = await m.Array("i", seq);
    assert.equal(await arr.length(), seq.length);
    assert.equal(await arr.get(3), seq[3]);
    assert.deepEqual(await arr.toArray(), seq);
    await withChild(m, async (child) => {
      const a = await child.fromToken(arr.token) as unknown as typeof arr;
      for (let i = 1; i < seq.length; i++) {
        await a.set(
          i,
          (await a.get(i)) as number + (await a.get(i - 1) as number),
        );
      }
    });
    const expected = seq.slice();
    for (let i = 1; i < expected.length; i++) expected[i]! += expected[i - 1]!;
    assert.deepEqual(await arr.toArray(), expected);
    await assert.rejects(arr.get(100), RemoteError);
    await assert.rejects(m.Array("i", [2 ** 40]), RemoteError);
    const zeros = await m.Array("d", 4);
    assert.deepEqual(await zeros.toArray(), [0, 0, 0, 0]);
  });

  await t.step("_TestContainers.test_list", async () => {
    const a = await m.list([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(await a.slice(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const b = await m.list();
    assert.deepEqual(await b.toArray(), []);
    await b.extend([0, 1, 2, 3, 4]);
    assert.deepEqual(await b.toArray(), [0, 1, 2, 3, 4]);
    assert.equal(await b.get(2), 2);
    assert.deepEqual(await b.slice(2, 10), [2, 3, 4]);
    await b.extend(await b.toArray());
    assert.deepEqual(await b.toArray(), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    assert.equal(await b.count(3), 2);
    assert.equal(await b.index(3), 3);
    await b.reverse();
    assert.equal(await b.get(0), 4);
    await b.sort();
    assert.deepEqual(await b.slice(0, 4), [0, 0, 1, 1]);
    await b.insert(0, "x");
    assert.equal(await b.pop(0), "x");
    await b.remove(4);
    assert.equal(await b.length(), 9);
    await assert.rejects(
      b.remove("nope"),
      (e: unknown) => e instanceof RemoteError && e.remoteName === "ValueError",
    );
    // Nested proxies are refused clearly.
    await assert.rejects((a as ListProxy<unknown>).append(b), /nested proxies/);
  });

  await t.step("_TestContainers.test_dict", async () => {
    const d = await m.dict<string>();
    const indices = [65, 66, 67, 68, 69];
    for (const i of indices) await d.set(i, String.fromCharCode(i));
    assert.deepEqual(
      await d.toObject(),
      Object.fromEntries(indices.map((i) => [i, String.fromCharCode(i)])),
    );
    assert.deepEqual((await d.keys()).sort(), indices);
    assert.deepEqual(
      (await d.values()).sort(),
      indices.map((i) => String.fromCharCode(i)),
    );
    assert.deepEqual(
      await d.items(),
      indices.map((i) => [i, String.fromCharCode(i)]),
    );
    assert.equal(await d.has(65), true);
    assert.equal(await d.size(), 5);
    await d.update({ x: "y" });
    assert.equal(await d.pop("x"), "y");
    await assert.rejects(
      d.delete("x"),
      (e: unknown) => e instanceof RemoteError && e.remoteName === "KeyError",
    );
    assert.equal(await d.setdefault("z", "w"), "w");
    await d.clear();
    assert.equal(await d.size(), 0);
  });

  await t.step("_TestNamespace.test_namespace", async () => {
    const n = await m.Namespace();
    await n.set("ham", "hello");
    await n.set("spam", 2);
    assert.equal(await n.get("ham"), "hello");
    assert.deepEqual(await n.toObject(), { ham: "hello", spam: 2 });
    await n.delete("spam");
    await assert.rejects(
      n.get("spam"),
      (e: unknown) =>
        e instanceof RemoteError && e.remoteName === "AttributeError",
    );
    await withChild(m, async (child) => {
      const c = await child.fromToken(n.token) as Remote<
        { set(k: string, v: unknown): void }
      >;
      await c.set("from", "child");
    });
    assert.equal(await n.get("from"), "child");
  });

  await t.step(
    "proxies are released: the object goes with its last proxy",
    async () => {
      const before = (await m.stats()).objects;
      const l = await m.list([1]);
      const l2 = await m.fromToken(l.token);
      const id = String(l.token.id);
      assert.equal((await m.stats()).refcounts[id], 2);
      await l[Symbol.asyncDispose]();
      assert.equal((await m.stats()).refcounts[id], 1);
      await l2[Symbol.asyncDispose]();
      await l2[Symbol.asyncDispose]();
      const after = await m.stats();
      assert.equal(after.refcounts[id], undefined);
      assert.equal(after.types[id], undefined);
      // Not equal: proxies of the earlier steps, unreachable now, may be
      // collected (and their objects released) at any time meanwhile.
      assert.ok(after.objects <= before, `${after.objects} > ${before}`);
      await assert.rejects(l.append(2), /released/);
      await assert.rejects(m.fromToken(l.token), RemoteError);
    },
  );
});

Deno.test("a blocked get() does not hold back the same client's other calls", async () => {
  await using m = await SyncManager.start();
  const q = await m.Queue();
  const d = await m.dict();
  const pending = q.get(); // blocks on the server: the queue is empty
  await d.set("a", 1); // same connection, answered meanwhile
  assert.equal(await d.get("a"), 1);
  assert.equal(await q.qsize(), 0);
  await q.put("late");
  assert.equal(await pending, "late");
});

Deno.test("a proxy dropped without release is collected and its object released (FinalizationRegistry)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      "--v8-flags=--expose-gc",
      new URL("../fixtures/manager_gc.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
    objects: 0,
  });
});
