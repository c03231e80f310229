// CPython's _TestMyManager and _TestRemoteManager, plus registration rules.

import assert from "node:assert/strict";
import { RemoteError } from "../../errors.ts";
import { BaseManager, SyncManager } from "../../manager/mod.ts";
import {
  type Counter,
  type FooBar,
  MyManager,
  QueueManager,
  QueueManager2,
} from "../fixtures/manager_types.ts";

const TYPES = new URL("../fixtures/manager_types.ts", import.meta.url);

Deno.test("_TestMyManager: exposed methods, errors and a generator over a started custom manager", async () => {
  await using manager = await MyManager.start({ module: TYPES });
  const foo = await manager.create<FooBar>("Foo");
  const bar = await manager.create<FooBar>("Bar");
  const baz = await manager.create<Generator<number>>("baz");
  const has = (p: object) =>
    ["f", "g", "_h"].filter((n) =>
      typeof (p as Record<string, unknown>)[n] === "function"
    );
  assert.deepEqual(has(foo), ["f", "g"]);
  assert.deepEqual(has(bar), ["f", "_h"]);
  assert.equal(await foo.f(), "f()");
  await assert.rejects(
    foo.g(),
    (e: unknown) => e instanceof RemoteError && e.remoteName === "ValueError",
  );
  assert.equal(await bar.f(), "f()");
  assert.equal(
    await (bar as unknown as { _h(): Promise<string> })._h(),
    "_h()",
  );
  const out: number[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await baz.next() as IteratorResult<number>;
    if (r.done) break;
    out.push(r.value);
  }
  assert.deepEqual(out, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
});

Deno.test("custom types: methodToTypeid returns a proxy; async methods; dynamic creator methods", async () => {
  await using manager = await MyManager.start({ module: TYPES.href });
  const c = await (manager as unknown as {
    Counter(n: number): Promise<ReturnType<typeof manager.create<Counter>>>;
  })
    .Counter(5);
  assert.equal(await c.increment(), 6);
  const child = await c.spawn() as unknown as Awaited<typeof c>;
  assert.equal(await child.increment(10), 16);
  assert.equal(await c.value(), 6);
  assert.equal(await c.slow(1), 6);
  const stats = await manager.stats();
  assert.equal(stats.types[String(child.token.id)], "Counter");
  await assert.rejects(
    c.fail(),
    (e: unknown) =>
      e instanceof RemoteError && e.remoteName === "RangeError" &&
      // The package's one error wire: own fields and the cause chain survive.
      (e as RemoteError & { code?: string }).code === "E_COUNTER" &&
      (e.cause as Error).name === "RangeError" &&
      ((e.cause as Error).cause as Error).message === "inner cause",
  );
  // A result msgpack cannot carry is an error for that caller only.
  await assert.rejects(
    c.func(),
    (e: unknown) =>
      e instanceof RemoteError &&
      /Cannot send the reply as the result is a function/.test(e.message),
  );
  assert.equal(await c.value(), 6);
});

Deno.test("bad arguments: register() throws; start(), connect(), serve() reject (never throw)", async () => {
  // A Promise-returning method that threw would fail here before the
  // `rejects` check: each call must return a promise that rejects.
  await assert.rejects(
    MyManager.start(),
    (e: unknown) => e instanceof TypeError && /module/.test(e.message),
  );
  await assert.rejects(SyncManager.start({ authkey: 5 as never }), TypeError);
  await assert.rejects(SyncManager.start(null as never), TypeError);
  await assert.rejects(
    SyncManager.start({ module: 5 as never }),
    TypeError,
  );
  assert.throws(() => BaseManager.register("", () => ({})), TypeError);
  assert.throws(() => BaseManager.register("X", 5 as never), TypeError);
  assert.throws(
    () => BaseManager.register("X", () => ({}), { exposed: ["then"] }),
    TypeError,
  );
  await assert.rejects(SyncManager.connect({} as never), TypeError);
  await assert.rejects(SyncManager.connect(null as never), TypeError);
  await assert.rejects(
    SyncManager.connect({ address: "127.0.0.1:1", authkey: 5 as never }),
    TypeError,
  );
  await assert.rejects(SyncManager.serve({} as never), TypeError);
  await assert.rejects(
    SyncManager.serve({ address: "127.0.0.1:0", authkey: [] as never }),
    TypeError,
  );
});

Deno.test("create(), fromToken() and the SyncManager creators reject bad arguments (never throw)", async () => {
  await using m = await SyncManager.start();
  await assert.rejects(m.create(5 as never), TypeError);
  await assert.rejects(m.fromToken({ id: 1 } as never), TypeError);
  await assert.rejects(m.Array("i", null as never), TypeError);
  await using other = await SyncManager.start();
  const foreign = await other.list();
  await assert.rejects(m.create("Condition", foreign), /another manager/);
  await assert.rejects(m.fromToken(foreign.token), /another server/);
  await m.close();
  // A closed client rejects too.
  await assert.rejects(m.stats(), /closed|not connected/);
  await assert.rejects(m.Queue(), /closed|not connected/);
});

Deno.test("built-in proxies reject bad blocking options before sending; nothing is sent", async () => {
  await using m = await SyncManager.start();
  const q = await m.Queue();
  const lock = await m.Lock();
  const cond = await m.Condition();
  const ev = await m.Event();
  const barrier = await m.Barrier(2);
  await assert.rejects(q.get({ timeout: -5 }), RangeError);
  await assert.rejects(q.get("soon" as never), TypeError);
  await assert.rejects(q.put(1, { timeout: Number.NaN }), TypeError);
  await assert.rejects(lock.acquire({ block: false, timeout: 5 }), RangeError);
  await assert.rejects(cond.wait(-2), RangeError);
  await assert.rejects(ev.wait("1" as never), TypeError);
  await assert.rejects(barrier.wait(-1), RangeError);
  // Nothing reached the server: the queue is empty and the lock free.
  assert.equal(await q.qsize(), 0);
  assert.equal(await lock.acquire({ block: false }), true);
  // Good options still work, -1 meaning "forever" for acquire as in CPython.
  await lock.release();
  assert.equal(await lock.acquire({ timeout: -1 }), true);
  await q.put(1, { timeout: 10 });
  assert.equal(await q.get({ block: false }), 1);
  assert.equal(await ev.wait(0), false);
});

Deno.test("_TestRemoteManager: a served queue shared by a putter and a getter with an authkey", async () => {
  const authkey = crypto.getRandomValues(new Uint8Array(32));
  await using server = await QueueManager.serve({
    address: ["127.0.0.1", 0],
    authkey,
  });
  assert.notEqual(
    (server.address as [string, number])[1] ??
      (server.address as { port: number }).port,
    0,
  );
  const values = [
    "hello world",
    null,
    true,
    2.25,
    "hallå världen",
    "привіт світ",
    new TextEncoder().encode("hallå världen"),
  ];
  {
    await using putter = await QueueManager2.connect({
      address: server.address,
      authkey,
    });
    const q = await putter.create<{ put(v: unknown): void }>("get_queue");
    await q.put(values);
  }
  await using getter = await QueueManager2.connect({
    address: server.address,
    authkey,
  });
  const queue = await getter.create<{ get(): unknown; put(v: unknown): void }>(
    "get_queue",
  );
  assert.deepEqual(await queue.get(), values);
  // A value msgpack cannot carry is refused before anything is written.
  await assert.rejects(queue.put(() => {}), TypeError);
  await queue.put(1);
  assert.equal(await queue.get(), 1);
  await assert.rejects(getter.shutdown(), /connect\(\)/);
});

Deno.test("start() rejects clearly when its server cannot listen or its module cannot load", async () => {
  await using taken = await SyncManager.serve({ address: "127.0.0.1:0" });
  await assert.rejects(
    SyncManager.start({ address: taken.address }),
    (e: unknown) =>
      e instanceof Error && /Cannot start the manager/.test(e.message),
  );
  await assert.rejects(
    MyManager.start({
      module: new URL("../fixtures/no_such_module.ts", import.meta.url),
    }),
    (e: unknown) =>
      e instanceof Error && /Cannot start the manager/.test(e.message),
  );
});
