// Ports of CPython's _TestPool / _TestPoolWorkerErrors / _TestPoolWorkerLifetime.
import assert from "node:assert/strict";
import {
  AsyncResult,
  Pool,
  PoolTerminatedError,
  RemoteError,
  TimeoutError,
} from "../../pool/mod.ts";
import { sqr } from "../fixtures/pool_tasks.ts";
import {
  collect,
  exceptionThrowingGenerator,
  flag,
  makePool,
  SayWhenError,
  TASKS,
} from "./_helpers.ts";

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

Deno.test("Pool.apply() runs a task by name and by function (CPython test_apply)", async () => {
  await using pool = makePool();
  assert.equal(await pool.apply("sqr_wait", [5]), 25);
  assert.equal(await pool.apply(sqr, [3]), 9);
  assert.equal(await pool.apply("mul", [6, 7]), 42);
});

Deno.test("Pool.map() keeps input order with default and explicit chunksize (CPython test_map)", async () => {
  await using pool = makePool();
  assert.deepEqual(
    await pool.map("sqr_wait", range(10)),
    range(10).map((x) => x * x),
  );
  assert.deepEqual(
    await pool.map("sqr", range(100), 20),
    range(100).map((x) => x * x),
  );
  assert.deepEqual(await pool.map("identity", ["a", { b: 1 }, [2]]), ["a", {
    b: 1,
  }, [2]]);
});

Deno.test("Pool.starmap() and starmapAsync() spread argument arrays (CPython test_starmap)", async () => {
  await using pool = makePool();
  const tuples = range(10).map((i) => [i, 9 - i] as [number, number]);
  assert.deepEqual(
    await pool.starmap("mul", tuples),
    tuples.map(([a, b]) => a * b),
  );
  const t100 = range(100).map((i) => [i, 99 - i] as [number, number]);
  assert.deepEqual(
    await pool.starmap("mul", t100, 20),
    t100.map(([a, b]) => a * b),
  );
  assert.deepEqual(
    await pool.starmapAsync("mul", t100).get(),
    t100.map(([a, b]) => a * b),
  );
});

Deno.test("Pool.mapAsync() returns an AsyncResult and runs callbacks (CPython test_map_async, test_map_async_callbacks)", async () => {
  await using pool = makePool();
  assert.deepEqual(
    await pool.mapAsync("sqr_wait", range(10)).get(),
    range(10).map((x) => x * x),
  );
  const calls: unknown[] = [];
  await pool.mapAsync("toInt", ["1"], undefined, {
    callback: (v) => void calls.push(v),
    errorCallback: (e: unknown) => void calls.push(e),
  }).wait();
  assert.deepEqual([...calls], [[1]]);
  await pool.mapAsync("toInt", ["a"], undefined, {
    callback: (v) => void calls.push(v),
    errorCallback: (e: unknown) => void calls.push(e),
  }).wait();
  assert.equal(calls.length, 2);
  assert.ok(calls[1] instanceof RemoteError);
  assert.equal((calls[1] as RemoteError).remoteName, "TypeError");
});

Deno.test("Pool.mapAsync() with an empty list and chunksize 1 does not stall (CPython test_map_chunksize)", async () => {
  await using pool = makePool();
  assert.deepEqual(await pool.mapAsync("sqr", [], 1).get(10_000), []);
});

Deno.test("Pool.map() rejects with the error of the input iterable (CPython test_map_handle_iterable_exception)", async () => {
  await using pool = makePool();
  await assert.rejects(
    pool.map("sqr", exceptionThrowingGenerator(1, -1), 1),
    SayWhenError,
  );
  await assert.rejects(
    pool.map("sqr", exceptionThrowingGenerator(1, -1), 1),
    SayWhenError,
  );
  await assert.rejects(
    pool.map("sqr", exceptionThrowingGenerator(10, 3), 1),
    SayWhenError,
  );
  const special: Iterable<number> = {
    [Symbol.iterator]: () => ({
      next: (): IteratorResult<number> => {
        throw new SayWhenError();
      },
    }),
  };
  await assert.rejects(pool.map("sqr", special, 1), SayWhenError);
});

Deno.test("AsyncResult.get() waits for an async task (CPython test_async)", async () => {
  await using pool = makePool();
  const res = pool.applyAsync("sqr_wait", [7, 50]);
  assert.ok(res instanceof AsyncResult);
  assert.equal(await res.get(), 49);
  assert.ok(res.ready());
  assert.ok(res.successful());
});

Deno.test("AsyncResult.get(ms) rejects with TimeoutError when not ready (CPython test_async_timeout)", async () => {
  await using pool = makePool({ processes: 3 });
  const res = pool.applyAsync("sqr_wait", [6, 200]);
  await assert.rejects(res.get(10), TimeoutError);
  assert.equal(res.ready(), false);
  assert.throws(() => res.successful(), /not ready/);
  assert.equal(await res.get(), 36);
});

Deno.test("Pool.imap() yields results in order (CPython test_imap)", async () => {
  await using pool = makePool();
  assert.deepEqual(
    await collect(pool.imap("sqr_wait", range(10))),
    range(10).map((x) => x * x),
  );
  const it = pool.imap("sqr", range(10));
  for (let i = 0; i < 10; i++) {
    assert.deepEqual(await it.next(), { value: i * i, done: false });
  }
  assert.equal((await it.next()).done, true);
  const it2 = pool.imap("sqr", range(1000), 100);
  for (let i = 0; i < 1000; i++) assert.equal((await it2.next()).value, i * i);
  assert.equal((await it2.next()).done, true);
});

Deno.test("Pool.imap() surfaces input errors at the failing chunk (CPython test_imap_handle_iterable_exception)", async () => {
  await using pool = makePool();
  let it = pool.imap("sqr", exceptionThrowingGenerator(1, -1), 1);
  await assert.rejects(it.next(), SayWhenError);
  it = pool.imap("sqr", exceptionThrowingGenerator(1, -1), 1);
  await assert.rejects(it.next(), SayWhenError);
  it = pool.imap("sqr", exceptionThrowingGenerator(10, 3), 1);
  for (let i = 0; i < 3; i++) assert.equal((await it.next()).value, i * i);
  await assert.rejects(it.next(), SayWhenError);
  // SayWhenError seen at start of problematic chunk's results
  it = pool.imap("sqr", exceptionThrowingGenerator(20, 7), 2);
  for (let i = 0; i < 6; i++) assert.equal((await it.next()).value, i * i);
  await assert.rejects(it.next(), SayWhenError);
  it = pool.imap("sqr", exceptionThrowingGenerator(20, 7), 4);
  for (let i = 0; i < 4; i++) assert.equal((await it.next()).value, i * i);
  await assert.rejects(it.next(), SayWhenError);
});

Deno.test("Pool.imapUnordered() yields every result (CPython test_imap_unordered)", async () => {
  await using pool = makePool();
  const a = await collect(pool.imapUnordered("sqr_wait", range(10)));
  assert.deepEqual(a.sort((x, y) => x - y), range(10).map((x) => x * x));
  const b = await collect(pool.imapUnordered("sqr", range(1000), 100));
  assert.deepEqual(b.sort((x, y) => x - y), range(1000).map((x) => x * x));
});

Deno.test("Pool.imapUnordered() surfaces input errors (CPython test_imap_unordered_handle_iterable_exception)", async () => {
  await using pool = makePool();
  let it = pool.imapUnordered("sqr", exceptionThrowingGenerator(1, -1), 1);
  await assert.rejects(it.next(), SayWhenError);
  for (const [total, when, c] of [[10, 3, 1], [20, 7, 2]] as const) {
    it = pool.imapUnordered("sqr", exceptionThrowingGenerator(total, when), c);
    const expected = new Set(range(total).map((x) => x * x));
    await assert.rejects(async () => {
      for (let i = 0; i < total; i++) {
        const { value } = await it.next();
        assert.ok(expected.delete(value as number));
      }
    }, SayWhenError);
  }
});

Deno.test("Pool.imapUnordered() yields in completion order", async () => {
  await using pool = makePool();
  // Worker A holds item 1, which waits until this loop has received two
  // results: only another worker taking items 2 and 3 from the shared queue
  // lets it finish.
  const seen = flag();
  const out: number[] = [];
  const items = [[seen, 1, 2], [seen, 2, 0], [seen, 3, 0]] as [
    Int32Array,
    number,
    number,
  ][];
  for await (const v of pool.imapUnordered("sqrAfter", items)) {
    out.push(v);
    Atomics.add(seen, 0, 1);
    Atomics.notify(seen, 0);
  }
  assert.deepEqual(out, [4, 9, 1]);
});

Deno.test("Pool constructor validates its options (CPython test_make_pool)", () => {
  assert.throws(() => new Pool(TASKS, { processes: -1 }), RangeError);
  assert.throws(() => new Pool(TASKS, { processes: 0 }), RangeError);
  for (const v of [0, -1, 0.5, "12"]) {
    assert.throws(
      () => new Pool(TASKS, { maxtasksperchild: v as number }),
      RangeError,
    );
  }
  for (const v of [-1, NaN, 2 ** 31, "5"]) {
    assert.throws(
      () => new Pool(TASKS, { abortGrace: v as number }),
      RangeError,
    );
  }
  assert.throws(() => new Pool(TASKS, { initializer: 5 as never }), TypeError);
  assert.throws(() => new Pool(TASKS, { initargs: 5 as never }), TypeError);
  assert.throws(() => new Pool(TASKS, { signal: {} as never }), TypeError);
  assert.throws(() => new Pool("", {}), TypeError);
});

Deno.test("Pool has the requested number of workers (CPython test_make_pool)", async () => {
  await using pool = makePool({ processes: 3 });
  assert.equal(pool.processes, 3);
  // three tasks that only finish when all three run at once
  const c = flag();
  const ids = await Promise.all(
    range(3).map(() => pool.apply("rendezvous", [c, 3])),
  );
  assert.equal(new Set(ids).size, 3);
  assert.equal(pool.stats().workers.length, 3);
});

Deno.test("Pool.terminate() stops slow tasks and rejects pending results (CPython test_terminate)", async () => {
  const pool = makePool({ processes: 3 });
  const res = pool.mapAsync("sqr_wait", range(10_000).map(() => 60_000), 1);
  pool.terminate();
  await pool.join();
  await assert.rejects(res.get(), PoolTerminatedError);
  assert.equal(pool.stats().workers.length, 0);
});

Deno.test("Pool handles empty iterables (CPython test_empty_iterable)", async () => {
  const pool = makePool({ processes: 1 });
  assert.deepEqual(await pool.map("sqr", []), []);
  assert.deepEqual(await collect(pool.imap("sqr", [])), []);
  assert.deepEqual(await collect(pool.imapUnordered("sqr", [])), []);
  assert.deepEqual(await pool.mapAsync("sqr", []).get(), []);
  pool.close();
  await pool.join();
});

Deno.test("await using closes and joins; a closed pool refuses tasks (CPython test_context)", async () => {
  let outer: Pool<typeof import("../fixtures/pool_tasks.ts")>;
  {
    await using p = makePool();
    outer = p;
    const r = p.mapAsync("sqr", range(10));
    assert.deepEqual(await r.get(), range(10).map((x) => x * x));
  }
  assert.equal(outer.stats().workers.length, 0);
  await assert.rejects(outer.mapAsync("sqr", range(10)).get(), /not running/);
  await assert.rejects(outer.applyAsync("sqr", [1]).get(), /not running/);
});

Deno.test("Pool.join() requires close() or terminate() first", async () => {
  const pool = makePool({ processes: 1 });
  await assert.rejects(pool.join(), /still running/);
  pool.close();
  pool.close(); // idempotent
  await pool.join();
  pool.terminate(); // idempotent after close
  await pool.join();
});

Deno.test("A throwing task rejects with RemoteError carrying the remote stack (CPython test_traceback)", async () => {
  await using pool = makePool({ processes: 1 });
  const err = await pool.apply("raising").then(() => undefined, (e) => e);
  assert.ok(err instanceof RemoteError);
  assert.equal(err.remoteName, "RangeError");
  assert.equal(err.remoteMessage, "123 from raising");
  assert.match(err.remoteStack ?? "", /raising/);
  assert.match(err.stack ?? "", /remote stack/);
  assert.ok(err.cause instanceof Error);
  // input errors are not wrapped
  const e2 = await pool.map("sqr", exceptionThrowingGenerator(1, -1), 1).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(e2 instanceof SayWhenError);
  // async rejection too
  await assert.rejects(pool.apply("rejecting", ["nope"]), (e: unknown) => {
    return e instanceof RemoteError && e.remoteMessage === "nope";
  });
});

Deno.test("Pool.map() rejects when one chunk fails, and close()+join() waits for its other chunks (CPython test_map_no_failfast)", async () => {
  const pool = makePool();
  const counter = flag();
  const failing = pool.starmap(
    "countSqrUnless",
    range(20).map((i) => [counter, i, 0] as [Int32Array, number, number]),
    1,
  );
  await assert.rejects(failing, /bad item 0/);
  pool.close();
  await pool.join();
  // every item ran, the failing one included: no chunk was dropped
  assert.equal(Atomics.load(counter, 0), 20);
});

Deno.test("applyAsync errorCallback receives the error", async () => {
  await using pool = makePool();
  let seen: unknown;
  const res = pool.applyAsync("raising", [], {
    errorCallback: (e) => (seen = e),
  });
  await assert.rejects(res.get(), RemoteError);
  assert.ok(seen instanceof RemoteError);
});

Deno.test("An unclonable result rejects only its task, 20 times, without losing workers", async () => {
  await using pool = makePool();
  for (let i = 0; i < 20; i++) {
    let seen: unknown;
    const res = pool.applyAsync("unclonable", [], {
      errorCallback: (e) => (seen = e),
    });
    await assert.rejects(
      res.get(),
      (e: unknown) =>
        e instanceof RemoteError && /result\.fn.*function/.test(e.message),
    );
    assert.ok(seen);
  }
  assert.equal(await pool.apply("sqr", [2]), 4);
  assert.equal(pool.stats().workers.length, 2);
});

Deno.test("maxtasksperchild replaces workers and results stay correct (CPython test_pool_worker_lifetime)", async () => {
  const pool = makePool({ processes: 3, maxtasksperchild: 10 });
  const before = new Set(
    await Promise.all(range(3).map(() => pool.apply("workerId"))),
  );
  const results = range(100).map((i) => pool.applyAsync("sqr", [i]));
  for (const [j, r] of results.entries()) assert.equal(await r.get(), j * j);
  const after = new Set(
    await Promise.all(range(6).map(() => pool.apply("workerId"))),
  );
  assert.ok([...after].some((id) => !before.has(id)), "worker ids changed");
  assert.equal(pool.stats().workers.length, 3);
  pool.close();
  await pool.join();
});

Deno.test("maxtasksperchild=1 with close() before the tasks finish does not hang join() (CPython test_pool_worker_lifetime_early_close)", async () => {
  const pool = makePool({ processes: 3, maxtasksperchild: 1 });
  const results = range(6).map((i) => pool.applyAsync("sqr_wait", [i, 30]));
  pool.close();
  await pool.join();
  for (const [j, r] of results.entries()) assert.equal(await r.get(), j * j);
});

Deno.test("initializer runs once per worker with initargs (CPython _TestInitializers)", async () => {
  await using pool = makePool({
    initializer: "init",
    initargs: [{ token: 42 }],
  });
  const got = await Promise.all(range(4).map(() => pool.apply("getInit")));
  for (const g of got) assert.deepEqual(g, { token: 42 });
});

Deno.test("A failing initializer rejects pending tasks instead of respawning forever", async () => {
  const pool = makePool({ initializer: "badInit" });
  const err = await pool.apply("sqr", [2]).then(() => undefined, (e) => e);
  assert.ok(err instanceof Error);
  assert.match(String(err.message), /failed to start.*init failed/);
  await pool.join();
  assert.equal(pool.stats().workers.length, 0);
  await assert.rejects(pool.applyAsync("sqr", [1]).get(), /not running/);
});

Deno.test("Pool signal option terminates the pool", async () => {
  const ac = new AbortController();
  const pool = makePool({ signal: ac.signal });
  const res = pool.applyAsync("sqr_wait", [1, 60_000]);
  ac.abort();
  await assert.rejects(res.get(), PoolTerminatedError);
  await pool.join();
});

Deno.test("Pool.stats() counts completed and failed tasks", async () => {
  await using pool = makePool();
  await pool.map("sqr", range(50), 5);
  await pool.apply("raising").catch(() => {});
  const s = pool.stats();
  assert.equal(s.completed, 50);
  assert.equal(s.failed, 1);
  assert.equal(s.running, 0);
  assert.equal(s.queued, 0);
});

Deno.test("Pool accepts a module path string and an unknown function name rejects", async () => {
  await using pool = new Pool(TASKS.href, { processes: 1 });
  await assert.rejects(
    pool.apply("nope"),
    (e: unknown) => e instanceof RemoteError && /nope/.test(e.message),
  );
  await assert.rejects(pool.apply(() => 1), /anonymous/);
});
