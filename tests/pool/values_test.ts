// What crosses to and from the workers: clone checks, transfer, live handles.
import assert from "node:assert/strict";
import { RemoteError } from "../../pool/mod.ts";
import { PortBox } from "../fixtures/pool_handle.ts";
import { makePool } from "./_helpers.ts";

Deno.test("An argument that cannot be cloned rejects with a TypeError naming it, before anything is posted", async () => {
  await using pool = makePool({ processes: 1 });
  await assert.rejects(
    pool.applyAsync("identity", [1, { fn: () => 1 }] as never).get(),
    {
      name: "TypeError",
      message: /args\[1\]\.fn .*function/,
    },
  );
  await assert.rejects(
    pool.applyAsync("identity", [Symbol("s")] as never).get(),
    /args\[0\] .*symbol/,
  );
  await assert.rejects(
    pool.applyAsync("identity", [[1, new WeakMap()]] as never).get(),
    /args\[0\]\[1\] .*WeakMap/,
  );
  await assert.rejects(
    pool.map("identity", [1, 2, { deep: [() => 0] }]),
    /iterable\[2\]\.deep\[0\] .*function/,
  );
  await assert.rejects(
    pool.starmap("mul", [[1, 2], 3 as never]),
    /iterable\[1\] .*not an array/,
  );
  // lazily read imap input: the error surfaces at its position
  const it = pool.imap("identity", [1, () => 2] as never, 1);
  assert.equal((await it.next()).value, 1);
  await assert.rejects(it.next(), /iterable\[1\] .*function/);
  // the pool is still fine
  assert.equal(await pool.apply("sqr", [3]), 9);
  // cycles and rich values are fine
  const cyc: Record<string, unknown> = { a: 1 };
  cyc.self = cyc;
  const back = await pool.apply("identity", [cyc]) as Record<string, unknown>;
  assert.equal(back.self, back);
  const rich = [
    new Map([[1, new Set([2])]]),
    new Date(0),
    /x/g,
    new Uint8Array([1, 2]),
    10n,
    undefined,
    null,
  ];
  assert.deepEqual(await pool.apply("identity", [rich]), rich);
});

Deno.test("A result that cannot be cloned rejects with a RemoteError naming it", async () => {
  await using pool = makePool({ processes: 1 });
  await assert.rejects(pool.apply("unclonable"), (e: unknown) => {
    return e instanceof RemoteError && e.remoteName === "TypeError" &&
      /result\.fn/.test(e.message);
  });
  // in a map, only that chunk fails (and so the map)
  await assert.rejects(
    pool.map("unclonable", [undefined, undefined]),
    RemoteError,
  );
});

Deno.test("transfer: true moves ArrayBuffers instead of copying them", async () => {
  await using pool = makePool({ processes: 1, transfer: true });
  const bytes = new Uint8Array(1 << 16).fill(7);
  assert.deepEqual(await pool.apply("bytesInfo", [bytes]), [1 << 16, 7]);
  assert.equal(bytes.byteLength, 0, "the sender's buffer was detached");
  const made = await pool.apply("makeBytes", [1024, 9]);
  assert.ok(made instanceof Uint8Array);
  assert.equal(made.byteLength, 1024);
  assert.equal(made[0], 9);
});

Deno.test("transfer: true over many buffers, one of them in two items, moves each once", async () => {
  await using pool = makePool({ processes: 2, transfer: true });
  const bufs = Array.from(
    { length: 5000 },
    (_, i) => new Uint8Array(8).fill(i & 0xff),
  );
  const shared = new Uint8Array(4).fill(42);
  const items = [...bufs, shared, shared];
  const got = await pool.map("bytesInfo", items, 100);
  assert.equal(got.length, 5002);
  got.slice(0, 5000).forEach(([n, b], i) => {
    assert.equal(n, 8);
    assert.equal(b, i & 0xff);
  });
  assert.deepEqual(got.slice(5000), [[4, 42], [4, 42]]);
  assert.ok(bufs.every((b) => b.byteLength === 0), "the buffers were moved");
});

Deno.test("without transfer, arguments are copied", async () => {
  await using pool = makePool({ processes: 1 });
  const bytes = new Uint8Array(16).fill(3);
  assert.deepEqual(await pool.apply("bytesInfo", [bytes]), [16, 3]);
  assert.equal(bytes.byteLength, 16);
});

Deno.test("A live handle passed as an argument arrives working in the worker", async () => {
  await using pool = makePool({ processes: 1 });
  const ch = new MessageChannel();
  const got = new Promise((
    resolve,
  ) => (ch.port1.onmessage = (e) => resolve(e.data)));
  assert.equal(
    await pool.apply("sendOn", [new PortBox(ch.port2), "hello from a worker"]),
    "sent",
  );
  assert.equal(await got, "hello from a worker");
  ch.port1.close();
});

Deno.test("A live handle returned by a task arrives working in the main thread", async () => {
  await using pool = makePool({ processes: 1 });
  const { box } = await pool.apply("makeBox", ["hi"]) as { box: PortBox };
  assert.ok(box instanceof PortBox);
  const got = await new Promise((
    resolve,
  ) => (box.port.onmessage = (e) => resolve(e.data)));
  assert.equal(got, "hi");
  box.close();
});

Deno.test("Live handles inside map items arrive working", async () => {
  await using pool = makePool({ processes: 2 });
  const chans = [
    new MessageChannel(),
    new MessageChannel(),
    new MessageChannel(),
  ];
  const got = chans.map((c) =>
    new Promise((r) => (c.port1.onmessage = (e) => r(e.data)))
  );
  const out = await pool.starmap(
    "sendOn",
    chans.map((c, i) => [new PortBox(c.port2), i] as [PortBox, number]),
    1,
  );
  assert.deepEqual(out, ["sent", "sent", "sent"]);
  assert.deepEqual(await Promise.all(got), [0, 1, 2]);
  for (const c of chans) c.port1.close();
});

Deno.test("Large numeric maps round-trip exactly (packed fast path)", async () => {
  await using pool = makePool({ processes: 2 });
  const xs = Array.from(
    { length: 10_000 },
    (_, i) => (i % 7 === 0 ? -i / 3 : i),
  );
  xs[5] = NaN;
  xs[6] = -0;
  const out = await pool.map("identity", xs, 1000);
  assert.equal(out.length, xs.length);
  assert.ok(Number.isNaN(out[5]));
  assert.ok(Object.is(out[6], -0));
  for (let i = 7; i < xs.length; i++) assert.equal(out[i], xs[i]);
  // numeric input, mixed results (leaves the packed path midway)
  const mixed = await pool.map(
    "sevens",
    xs.slice(0, 3000).map((_, i) => i),
    1000,
  );
  for (let i = 0; i < 3000; i++) {
    assert.equal(mixed[i], i % 7 === 0 ? `seven*${i / 7}` : i * 2);
  }
  // mixed results are not packed
  assert.deepEqual(
    await pool.map("identity", [1, "a", 2, 3, 4, 5, 6, 7, 8, 9]),
    [1, "a", 2, 3, 4, 5, 6, 7, 8, 9],
  );
});
