// Every sharedmem object crosses postMessage (toPostable/revive) and Pool
// task arguments as a working handle on the same memory.

import assert from "node:assert/strict";
import * as mp from "../../sharedmem/mod.ts";
import { Pool } from "../../pool/mod.ts";

Deno.test("toPostable/revive: every kind arrives as a live handle on the same memory", async () => {
  const lock = new mp.Lock();
  const rlock = new mp.RLock();
  const sem = new mp.Semaphore(2);
  const event = new mp.Event();
  const cond = new mp.Condition(lock);
  const barrier = new mp.Barrier(1);
  const q = new mp.Queue<string>(3);
  const value = new mp.Value("d", 1.5);
  const raw = new mp.RawValue("Q", 7n);
  const array = new mp.Array("h", [1, 2]);
  const rawArray = new mp.RawArray("B", 3);
  const message = {
    nested: [{ lock, rlock }],
    sem,
    event,
    cond,
    barrier,
    q,
    value,
    raw,
    array,
    rawArray,
    plain: 1,
  };
  const { value: posted, transfer } = mp.toPostable(message);
  assert.deepEqual(transfer, []);
  const got = await mp.revive<typeof message>(structuredClone(posted));
  assert.equal(got.plain, 1);
  assert.ok(got.nested[0]!.lock instanceof mp.Lock);

  await got.nested[0]!.lock.acquire();
  assert.equal(lock.locked(), true);
  assert.equal(await got.cond.acquire({ block: false }), false); // the condition's lock is `lock`
  lock.release();

  await got.nested[0]!.rlock.acquire();
  assert.equal(rlock.isOwned(), true); // same thread, same memory
  rlock.release();

  await got.sem.acquire();
  assert.equal(sem.getValue(), 1);
  got.event.set();
  assert.equal(event.isSet(), true);
  assert.equal(await got.barrier.wait(), 0);
  await got.q.put("hi");
  assert.equal(await q.get(), "hi");
  got.value.value = 2.25;
  assert.equal(value.value, 2.25);
  assert.ok(got.value.getLock() instanceof mp.RLock);
  assert.equal(got.raw.value, 7n);
  got.array.set(1, 20);
  assert.deepEqual(array.toArray(), [1, 20]);
  got.rawArray.set(2, 9);
  assert.equal(rawArray.get(2), 9);
  // The revived Value's lock is the original's lock.
  await got.value.getLock().acquire();
  assert.equal(value.getLock().locked(), true);
  got.value.getLock().release();
});

Deno.test("revive: plain data comes back as it is", async () => {
  assert.deepEqual(await mp.revive({ a: [1, "x"] }), { a: [1, "x"] });
  assert.equal(await mp.revive(null), null);
});

Deno.test("Pool: a Lock, a Value and a Queue passed as task arguments work on the same memory", async () => {
  await using pool = new Pool(
    import.meta.resolve("../fixtures/sharedmem_tasks.ts"),
    { processes: 2 },
  );
  const lock = new mp.Lock();
  const value = new mp.RawValue("i", 0);
  const n = 20_000;
  const done = await pool.starmap("increment", [[lock, value, n], [
    lock,
    value,
    n,
  ]]);
  assert.deepEqual(done, [n, n]);
  assert.equal(value.value, 2 * n);

  const q = new mp.Queue<[number, number]>(16);
  const producing = pool.apply("produce", [q, 5, 100]);
  const got: [number, number][] = [];
  for (let i = 0; i < 100; i++) got.push(await q.get({ timeout: 20_000 }));
  assert.equal(await producing, 100);
  assert.deepEqual(
    got.map(([, i]) => i),
    Array.from({ length: 100 }, (_, i) => i),
  );

  const synced = new mp.Value("i", 0);
  await pool.starmap("incrementAsync", [[synced, 500], [synced, 500]]);
  assert.equal(synced.value, 1000);
});
