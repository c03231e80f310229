// imap/imapUnordered read their input lazily with bounded read-ahead.
import assert from "node:assert/strict";
import { collect, makePool } from "./_helpers.ts";

Deno.test("Pool.imap() over an infinite generator yields the first results and stops reading", async () => {
  await using pool = makePool();
  let read = 0;
  function* naturals(): Generator<number> {
    for (let i = 0;; i++) {
      read++;
      yield i;
    }
  }
  const out: number[] = [];
  for await (const sq of pool.imap("sqr", naturals(), 3)) {
    out.push(sq);
    if (out.length === 10) break;
  }
  assert.deepEqual(out, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
  // read-ahead bound: max(8 * processes * chunksize, 8192)
  assert.ok(read <= 10 + 8192 + 3, `read ${read} items`);
});

Deno.test("Pool.imap() does not read past the window while the consumer is idle", async () => {
  await using pool = makePool({ processes: 2 });
  let read = 0;
  function* counting(): Generator<number> {
    for (let i = 0; i < 100_000; i++) {
      read++;
      yield i;
    }
  }
  const it = pool.imap("sqr", counting(), 1);
  assert.equal((await it.next()).value, 0);
  // let the pool run what it may: wait until it stops reading (bounded)
  let last = -1;
  for (let i = 0; i < 50 && last !== read; i++) {
    last = read;
    await pool.map("sqr", [1]); // a round trip through the pool
  }
  assert.ok(read <= 1 + 8192 + 1, `read ${read} items`);
  await it.return!();
});

Deno.test("Pool.imapUnordered() over an async generator", async () => {
  await using pool = makePool();
  async function* gen(): AsyncGenerator<number> {
    for (let i = 0; i < 50; i++) {
      if (i % 10 === 0) await Promise.resolve();
      yield i;
    }
  }
  const got = await collect(pool.imapUnordered("sqr", gen(), 4));
  assert.deepEqual(
    got.sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i * i),
  );
  const ordered = await collect(pool.imap("sqr", gen(), 7));
  assert.deepEqual(ordered, Array.from({ length: 50 }, (_, i) => i * i));
});

Deno.test("Pool.imap() over an infinite async generator and an error in it", async () => {
  await using pool = makePool();
  async function* forever(): AsyncGenerator<number> {
    for (let i = 0;; i++) yield i;
  }
  const out: number[] = [];
  for await (const v of pool.imap("sqr", forever(), 2)) {
    if (out.push(v) === 5) break;
  }
  assert.deepEqual(out, [0, 1, 4, 9, 16]);
  async function* failing(): AsyncGenerator<number> {
    yield 1;
    yield 2;
    throw new Error("input broke");
  }
  const it = pool.imap("sqr", failing(), 1);
  assert.equal((await it.next()).value, 1);
  assert.equal((await it.next()).value, 4);
  await assert.rejects(it.next(), /input broke/);
});

Deno.test("A failing task in imap rejects next() once and iteration continues", async () => {
  await using pool = makePool();
  const it = pool.imap("toInt", ["1", "x", "3"], 1);
  assert.equal((await it.next()).value, 1);
  await assert.rejects(it.next(), /invalid literal/);
  assert.equal((await it.next()).value, 3);
  assert.equal((await it.next()).done, true);
});

Deno.test("map() reads a Set, a generator and an async iterable", async () => {
  await using pool = makePool();
  assert.deepEqual(await pool.map("sqr", new Set([1, 2, 3])), [1, 4, 9]);
  assert.deepEqual(
    await pool.map(
      "sqr",
      (function* () {
        yield 4;
        yield 5;
      })(),
    ),
    [16, 25],
  );
  assert.deepEqual(
    await pool.map(
      "sqr",
      (async function* () {
        yield 6;
      })(),
    ),
    [36],
  );
});

Deno.test("close() lets an unconsumed imap finish so join() resolves", async () => {
  const pool = makePool();
  const it = pool.imap("sqr", Array.from({ length: 5000 }, (_, i) => i), 1);
  pool.close();
  await pool.join();
  const all = await collect(it);
  assert.equal(all.length, 5000);
  assert.equal(all[4999], 4999 * 4999);
});
