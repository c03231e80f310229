// Manager proxies as Pool task arguments: CPython's TestSyncManagerTypes
// (test_queue exactly: a Pool worker checks the queue) and a demo-style
// pool task consuming a queue.

import assert from "node:assert/strict";
import { Pool } from "../../pool/mod.ts";
import { RemoteError } from "../../errors.ts";
import { SyncManager } from "../../manager/mod.ts";
import type * as Tasks from "../fixtures/manager_pool_tasks.ts";

const TASKS = new URL("../fixtures/manager_pool_tasks.ts", import.meta.url);

Deno.test("TestSyncManagerTypes: proxies passed to Pool tasks arrive working", async (t) => {
  await using manager = await SyncManager.start();
  await using pool = new Pool<typeof Tasks>(TASKS, { processes: 2 });

  for (const qname of ["Queue", "JoinableQueue"] as const) {
    await t.step(`test_queue (${qname})`, async () => {
      const o = await manager[qname](2);
      await o.put(5);
      await o.put(6);
      assert.equal(await pool.apply("testQueue", [o]), true);
      assert.ok(await o.empty());
      assert.ok(!(await o.full()));
    });
  }

  await t.step("test_event", async () => {
    const o = await manager.Event();
    await o.set();
    assert.equal(await pool.apply("testEvent", [o]), true);
    assert.ok(!(await o.isSet()));
    assert.equal(await o.wait(1), false);
  });

  await t.step(
    "test_lock: held by the task's client until it drops",
    async () => {
      const o = await manager.Lock();
      const held = await manager.Event();
      const release = await manager.Event();
      const task = pool.apply("testLock", [o, held, release]);
      assert.equal(await held.wait(10_000), true);
      assert.equal(await o.acquire({ block: false }), false);
      await release.set();
      assert.equal(await task, true);
      // The task's connection dropped with its proxies: the lock is free.
      assert.equal(await o.acquire({ timeout: 10_000 }), true);
      await o.release();
      await assert.rejects(o.release(), RemoteError);
    },
  );

  await t.step(
    "test_rlock / test_barrier / test_list / test_dict / test_value / test_array / test_namespace",
    async () => {
      assert.equal(
        await pool.apply("testRlock", [await manager.RLock()]),
        true,
      );
      assert.equal(
        await pool.apply("testBarrier", [await manager.Barrier(5)]),
        true,
      );
      const l = await manager.list<number>();
      await l.append(5);
      assert.equal(await pool.apply("testList", [l]), true);
      assert.equal(await l.length(), 0);
      const d = await manager.dict<number>();
      await d.set("foo", 5);
      assert.equal(await pool.apply("testDict", [d]), true);
      assert.equal(await d.size(), 0);
      const v = await manager.Value("i", 1);
      assert.equal(await pool.apply("testValue", [v]), true);
      assert.equal(await v.get(), 2);
      assert.equal(
        await pool.apply("testArray", [await manager.Array("i", [0, 1])]),
        true,
      );
      const n = await manager.Namespace();
      await n.set("x", 0);
      await n.set("y", 1);
      assert.equal(await pool.apply("testNamespace", [n]), true);
    },
  );

  await t.step("test_semaphore / test_bounded_semaphore", async () => {
    for (const sname of ["Semaphore", "BoundedSemaphore"] as const) {
      const o = await manager[sname]();
      assert.equal(await pool.apply("testSemaphore", [o]), 0);
      // The task's client dropped: its unit came back.
      assert.equal(await o.acquire({ timeout: 10_000 }), true);
      await o.release();
    }
  });
});

Deno.test("pool tasks share a job queue and a result queue", async () => {
  await using manager = await SyncManager.start();
  await using pool = new Pool<typeof Tasks>(TASKS, { processes: 2 });
  const jobs = await manager.Queue();
  const results = await manager.Queue();
  const N = 50;
  for (let i = 0; i < N; i++) await jobs.put(i);
  const counts = await pool.starmap("consume", [[jobs, results], [
    jobs,
    results,
  ], [jobs, results]]);
  assert.equal(counts.reduce((a, b) => a + b, 0), N);
  const got: number[] = [];
  for (let i = 0; i < N; i++) {
    got.push(await results.get({ timeout: 10_000 }) as number);
  }
  assert.deepEqual(
    got.sort((a, b) => a - b),
    Array.from({ length: N }, (_, i) => i * i).sort((a, b) => a - b),
  );
  assert.ok(await results.empty());
});

Deno.test("a proxy returned by a Pool task arrives as a working proxy", async () => {
  await using manager = await SyncManager.start();
  await using pool = new Pool<typeof Tasks>(TASKS, { processes: 1 });
  const d = await manager.dict<number>();
  const back = await pool.apply("returnDict", [d]) as unknown as typeof d;
  assert.notEqual(back, d);
  assert.deepEqual(back.token, d.token);
  assert.equal(await back.get("made"), 1);
  await back.set("again", 2);
  assert.equal(await d.get("again"), 2);
  await back[Symbol.asyncDispose]();
});
