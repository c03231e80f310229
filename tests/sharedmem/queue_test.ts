// Ports of CPython's _TestQueue (test_put, test_get, test_fork, test_qsize,
// test_timeout, test_closed_queue_put_get_exceptions) plus FIFO/no-loss
// with producers and consumers in workers, ring wrap-around, and sizes.

import assert from "node:assert/strict";
import * as mp from "../../sharedmem/mod.ts";
import { Empty, Full } from "../../errors.ts";
import { workers } from "./_helpers.ts";

Deno.test("Queue: put until full, then Full for non-blocking and timed puts (CPython test_put)", async () => {
  const q = new mp.Queue<number>(6);
  assert.equal(q.empty(), true);
  assert.equal(q.full(), false);
  await q.put(1);
  await q.put(2, { block: true });
  await q.put(3, { block: true, timeout: 1000 });
  await q.put(4, { timeout: 1000 });
  await q.putNowait(5);
  await q.put(6, { block: false });
  assert.equal(q.qsize(), 6);
  assert.equal(q.full(), true);
  await assert.rejects(q.put(7, { block: false }), Full);
  await assert.rejects(q.put(7, { timeout: 10 }), Full);
  await assert.rejects(q.putNowait(7), Full);
  await assert.rejects(q.put(7, { block: false, timeout: 1000 }), Full);
  const got: number[] = [];
  for (let i = 0; i < 6; i++) got.push(await q.get());
  assert.deepEqual(got, [1, 2, 3, 4, 5, 6]);
  assert.equal(q.empty(), true);
});

Deno.test("Queue: Empty for non-blocking and timed gets; items put by a worker arrive in order (CPython test_get)", async () => {
  await using ws = workers(1);
  const q = new mp.Queue<[number, number]>();
  await assert.rejects(q.get({ block: false }), Empty);
  await assert.rejects(q.getNowait(), Empty);
  await assert.rejects(q.get({ timeout: 10 }), Empty);
  await assert.rejects(q.get({ block: true, timeout: 0 }), Empty);
  const waiting = q.get({ timeout: 20_000 }); // woken by the worker's first put
  assert.equal(await ws[0]!.run("produce", { q, id: 3, n: 4 }), 4);
  assert.deepEqual(await waiting, [3, 0]);
  assert.deepEqual(await q.get(), [3, 1]);
  assert.deepEqual(await q.getNowait(), [3, 2]);
  assert.deepEqual(await q.get({ block: false }), [3, 3]);
  assert.equal(q.qsize(), 0);
});

Deno.test("Queue: 2 producers and 2 consumers in workers lose nothing and keep each producer's order", async () => {
  await using ws = workers(4);
  const q = new mp.Queue<[number, number]>(64, { capacity: 1024 });
  const n = 20_000;
  const [, , a, b] = await Promise.all([
    ws[0]!.run("produce", { q, id: 0, n }),
    ws[1]!.run("produce", { q, id: 1, n }),
    ws[2]!.run<[number, number][]>("consume", { q, n }),
    ws[3]!.run<[number, number][]>("consume", { q, n }),
  ]);
  assert.equal(a.length + b.length, 2 * n);
  for (const got of [a, b]) {
    const last = [-1, -1];
    for (const [id, i] of got) {
      assert.ok(i > last[id]!, `producer ${id}: ${i} after ${last[id]}`);
      last[id] = i;
    }
  }
  const seen = [new Set<number>(), new Set<number>()];
  for (const [id, i] of [...a, ...b]) seen[id]!.add(i);
  assert.equal(seen[0]!.size, n);
  assert.equal(seen[1]!.size, n);
  assert.equal(q.qsize(), 0);
});

Deno.test("Queue: one producer, one consumer keep exact FIFO order through a small ring (wrap-around)", async () => {
  await using ws = workers(2);
  const q = new mp.Queue<unknown>(0, { capacity: 100 });
  const n = 10_000;
  const [, got] = await Promise.all([
    ws[0]!.run("produce", { q, id: 9, n }),
    ws[1]!.run<[number, number][]>("consume", { q, n }),
  ]);
  assert.deepEqual(
    got.map(([, i]) => i),
    Array.from({ length: n }, (_, i) => i),
  );
});

Deno.test("Queue: items of many sizes wrap around the ring intact", async () => {
  const q = new mp.Queue<unknown>(0, { capacity: 257 });
  const items: unknown[] = [];
  for (let i = 0; i < 500; i++) {
    items.push(
      i % 3 === 0
        ? "x".repeat(i % 200)
        : i % 3 === 1
        ? { i, bytes: new Uint8Array(i % 97).fill(i & 0xff) }
        : [i, -i, i / 7],
    );
  }
  const out: unknown[] = [];
  for (const item of items) {
    for (let tries = 0;; tries++) {
      assert.ok(tries < items.length, "the ring never made room");
      try {
        await q.putNowait(item);
        break;
      } catch (e) {
        assert.ok(e instanceof Full);
        out.push(await q.get());
      }
    }
  }
  while (!q.empty()) out.push(await q.get());
  assert.deepEqual(out, items);
});

Deno.test("Queue: qsize counts puts and gets (CPython test_qsize)", async () => {
  const q = new mp.Queue<number>();
  assert.equal(q.qsize(), 0);
  await q.put(1);
  assert.equal(q.qsize(), 1);
  await q.put(5);
  assert.equal(q.qsize(), 2);
  await q.get();
  assert.equal(q.qsize(), 1);
  await q.get();
  assert.equal(q.qsize(), 0);
});

Deno.test("Queue: a blocked put resumes when a worker makes room", async () => {
  await using ws = workers(1);
  const q = new mp.Queue<[number, number]>(1);
  await q.put([0, 0]);
  const blocked = q.put([0, 1], { timeout: 20_000 });
  const got = await ws[0]!.run<[number, number][]>("consume", { q, n: 2 });
  await blocked;
  assert.deepEqual(got, [[0, 0], [0, 1]]);
});

Deno.test("Queue: a non-serializable item is a TypeError naming its path, and nothing is written", async () => {
  const q = new mp.Queue<unknown>();
  await assert.rejects(q.put({ a: [1, () => 1] }), /\$\.a\[1\] is a function/);
  await assert.rejects(q.putNowait({ s: Symbol("x") }), TypeError);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  await assert.rejects(q.put(cyclic), /cycle/);
  assert.equal(q.qsize(), 0);
  await q.put("fine");
  assert.equal(await q.get(), "fine");
});

Deno.test("Queue: an item larger than the capacity is a RangeError (a rejection); bad sizes throw in the constructor", async () => {
  const q = new mp.Queue<unknown>(0, { capacity: 64 });
  await assert.rejects(
    q.put("x".repeat(100)),
    /does not fit in the queue capacity of 64 bytes/,
  );
  await assert.rejects(q.put(new Uint8Array(61)), RangeError);
  await q.put(new Uint8Array(50));
  assert.equal((await q.get() as Uint8Array).length, 50);
  assert.throws(() => new mp.Queue(0, { capacity: 8 }), RangeError);
  assert.throws(() => new mp.Queue(1.5), TypeError);
  await assert.rejects(q.put(1, { timeout: -1 }), RangeError);
  await assert.rejects(q.get({ timeout: "x" as never }), TypeError);
  assert.throws(() => q.getSync(), /main thread/);
  assert.throws(() => q.putSync(1), /main thread/);
});

Deno.test("Queue: maxsize <= 0 means no item limit (CPython)", async () => {
  const q = new mp.Queue<number>(-3, { capacity: 1 << 16 });
  for (let i = 0; i < 1000; i++) await q.putNowait(i);
  assert.equal(q.full(), false);
  assert.equal(q.qsize(), 1000);
});

Deno.test("Queue: get and put reject with signal.reason", async () => {
  const q = new mp.Queue<number>(1);
  const ctl = new AbortController();
  const getting = q.get({ signal: ctl.signal });
  ctl.abort(new Error("no more"));
  await assert.rejects(getting, /no more/);
  await q.put(1);
  await assert.rejects(
    q.put(2, { signal: AbortSignal.abort("full") }),
    (e) => e === "full",
  );
  const putting = q.put(2, { signal: AbortSignal.timeout(10) });
  await assert.rejects(putting, (e) => (e as Error).name === "TimeoutError");
  assert.equal(await q.get(), 1);
  assert.equal(q.qsize(), 0);
});

Deno.test("Queue: a closed handle refuses put and get; close is idempotent (CPython test_closed_queue_put_get_exceptions)", async () => {
  const q = new mp.Queue<number>();
  await q.put(1);
  const other = await mp.revive<mp.Queue<number>>(
    structuredClone(mp.toPostable(q).value),
  );
  q.close();
  q.close();
  assert.equal(q.closed, true);
  await assert.rejects(q.put(2), /closed/);
  await assert.rejects(q.get(), /closed/);
  assert.equal(await other.get(), 1); // other handles keep working
  {
    await using q2 = new mp.Queue();
    assert.equal(q2.closed, false);
  }
});
