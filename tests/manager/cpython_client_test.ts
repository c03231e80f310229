// Our client (`connect({ protocol: "cpython" })`) against CPython 3.11,
// 3.12 and 3.13 SyncManager servers: the factories' proxies with camelCase
// methods and ms timeouts, Empty/Full/RemoteError, decref on dispose, and
// concurrent blocking calls on separate channels.

import assert from "node:assert/strict";
import {
  BaseManager,
  type QueueProxy,
  SyncManager,
} from "../../manager/mod.ts";
import {
  BrokenBarrierError,
  Empty,
  Full,
  RemoteError,
  TimeoutError,
} from "../../errors.ts";
import { findPythons, hex, PyProcess } from "./_cpython.ts";

const pythons = await findPythons();

Deno.test("CPython interpreters were found for the CPython-server tests (else they would not run)", () => {
  assert.ok(
    pythons.length > 0,
    "no CPython found (pyenv 3.11.7/3.12.1/3.13.0 or python3)",
  );
});
const KEY = new TextEncoder().encode("cpython server key");

async function startServer(py: (typeof pythons)[number]) {
  const p = await PyProcess.start(py, "server_for_deno.py", [hex(KEY)]);
  const line = await p.line((l) => l.startsWith("{"));
  const port = JSON.parse(line).port as number;
  return { p, address: `127.0.0.1:${port}` };
}

class QueueManager extends SyncManager {}
QueueManager.register("get_queue");
QueueManager.register("get_thrower");
QueueManager.register("get_stats");

type PyRemote = RemoteError & { cause: { type: string; args: unknown[] } };

/** The RemoteError a call rejects with. */
function failure(p: Promise<unknown>): Promise<PyRemote> {
  return p.then(
    () => {
      throw new Error("the call resolved");
    },
    (e) => {
      assert.ok(e instanceof RemoteError, String(e));
      return e as PyRemote;
    },
  );
}

interface Stats {
  objects(): number;
}

for (const py of pythons) {
  Deno.test(`our client on a CPython ${py.version} SyncManager server`, async (t) => {
    const { p, address } = await startServer(py);
    await using _p = p;
    await using m = await QueueManager.connect({
      address,
      authkey: KEY,
      protocol: "cpython",
    });
    const stats = await m.create<Stats>("get_stats");

    await t.step("Queue: put/get, ms timeouts, Empty, Full", async () => {
      const q = await m.Queue();
      await q.put(5);
      await q.putNowait("x");
      assert.equal(await q.qsize(), 2);
      assert.equal(await q.get(), 5);
      assert.equal(await q.getNowait(), "x");
      await assert.rejects(q.get({ timeout: 20 }), Empty);
      await assert.rejects(q.getNowait(), Empty);
      const b = await m.Queue(1);
      await b.put(1);
      assert.equal(await b.full(), true);
      await assert.rejects(b.put(2, { timeout: 10 }), Full);
      await assert.rejects(b.putNowait(2), Full);
      await q[Symbol.asyncDispose]();
      await b[Symbol.asyncDispose]();
    });

    await t.step(
      "concurrent blocking gets use their own channels",
      async () => {
        const q = await m.Queue();
        const gets = [q.get(), q.get(), q.get()];
        await q.put("a");
        await q.put("b");
        await q.put("c");
        assert.deepEqual((await Promise.all(gets)).sort(), ["a", "b", "c"]);
        await q[Symbol.asyncDispose]();
      },
    );

    await t.step("JoinableQueue, Event, Lock, RLock, Semaphore", async () => {
      const jq = await m.JoinableQueue();
      await jq.put("job");
      assert.equal(await jq.get(), "job");
      await jq.taskDone();
      await jq.join();
      const ev = await m.Event();
      assert.equal(await ev.isSet(), false);
      assert.equal(await ev.wait(10), false);
      await ev.set();
      assert.equal(await ev.wait(), true);
      const lk = await m.Lock();
      assert.equal(await lk.acquire(), true);
      assert.equal(await lk.acquire({ block: false }), false);
      assert.equal(await lk.acquire({ timeout: 10 }), false);
      await lk.release();
      const err = await failure(lk.release());
      assert.ok(err instanceof RemoteError);
      assert.equal(err.remoteName, "RuntimeError");
      const rl = await m.RLock();
      assert.equal(await rl.acquire(), true);
      await rl.release();
      const s = await m.BoundedSemaphore(1);
      assert.equal(await s.acquire(), true);
      assert.equal(await s.acquire({ timeout: 10 }), false);
      await s.release();
      const over = await failure(s.release());
      assert.equal(over.remoteName, "ValueError");
      for (const x of [jq, ev, lk, rl, s]) await x[Symbol.asyncDispose]();
    });

    await t.step("Condition, Barrier", async () => {
      const c = await m.Condition();
      assert.equal(await c.acquire(), true);
      assert.equal(await c.wait(10), false);
      await c.notify();
      await c.notifyAll();
      await c.release();
      const b = await m.Barrier(1);
      assert.equal(await b.parties(), 1);
      assert.equal(await b.wait(), 0);
      assert.equal(await b.broken(), false);
      const b2 = await m.Barrier(2);
      await assert.rejects(b2.wait(10), BrokenBarrierError);
      assert.equal(await b2.broken(), true);
      for (const x of [c, b, b2]) await x[Symbol.asyncDispose]();
    });

    await t.step("Value, Array, dict, list, Namespace", async () => {
      const v = await m.Value("i", 7);
      await v.set(8);
      assert.equal(await v.get(), 8);
      const a = await m.Array("i", [1, 2, 3]);
      assert.equal(await a.length(), 3);
      await a.set(1, 20);
      assert.equal(await a.get(1), 20);
      assert.deepEqual(await a.toArray(), [1, 20, 3]);
      const d = await m.dict({ a: 1 });
      await d.set("b", 2);
      assert.equal(await d.get("a"), 1);
      assert.equal(await d.get("zz", 9), 9);
      assert.equal(await d.has("b"), true);
      assert.equal(await d.size(), 2);
      assert.deepEqual(await d.keys(), ["a", "b"]);
      assert.deepEqual(await d.items(), [["a", 1], ["b", 2]]);
      assert.deepEqual(await d.toObject(), { a: 1, b: 2 });
      const missing = await failure(d.delete("zz"));
      assert.equal(missing.remoteName, "KeyError");
      assert.deepEqual(missing.cause.args, ["zz"]);
      const l = await m.list([3, 1, 2]);
      await l.append(4);
      await l.sort();
      assert.deepEqual(await l.toArray(), [1, 2, 3, 4]);
      assert.deepEqual(await l.slice(1, 3), [2, 3]);
      assert.equal(await l.get(-1), 4);
      assert.equal(await l.pop(), 4);
      assert.equal(await l.length(), 3);
      const ns = await m.Namespace({ x: 1 });
      await ns.set("y", "z");
      assert.equal(await ns.get("x"), 1);
      assert.deepEqual(await ns.toObject(), { x: 1, y: "z" });
      const gone = await failure(ns.get("nope"));
      assert.equal(gone.remoteName, "AttributeError");
      for (const x of [v, a, d, l, ns]) await x[Symbol.asyncDispose]();
    });

    await t.step(
      "the docs' get_queue, a remote class named in RemoteError",
      async () => {
        const q = await m.create<QueueProxy>("get_queue");
        await q.put({ job: 1 });
        assert.deepEqual(await q.get({ timeout: 5000 }), new Map([["job", 1]]));
        const th = await m.create<{ boom(): Promise<void> }>("get_thrower");
        const e = await failure(th.boom());
        assert.ok(e instanceof RemoteError);
        assert.equal(e.remoteName, "MyError");
        assert.equal(e.cause.type, "__main__.MyError");
        assert.deepEqual(e.cause.args, ["boom", 42]);
        await q[Symbol.asyncDispose]();
        await th[Symbol.asyncDispose]();
      },
    );

    await t.step(
      "fromToken rebuilds a proxy of the server's object",
      async () => {
        const q = await m.Queue();
        const again = await m.fromToken<QueueProxy>(q.token);
        await again.put("by token");
        assert.equal(await q.get({ timeout: 5000 }), "by token");
        await again[Symbol.asyncDispose]();
        await q[Symbol.asyncDispose]();
      },
    );

    await t.step(
      "a proxy stored on the server comes back as a proxy",
      async () => {
        const q = await m.Queue();
        const d = await m.dict();
        await d.set("q", q);
        const back = await d.get("q") as QueueProxy;
        assert.notEqual(back, q);
        await back.put("via the dict");
        assert.equal(await q.get({ timeout: 5000 }), "via the dict");
        await d.clear();
        for (const x of [q, d, back]) await x[Symbol.asyncDispose]();
      },
    );

    await t.step(
      "decref on dispose: the server holds nothing more",
      async () => {
        assert.equal(await stats.objects(), 0);
      },
    );
    await stats[Symbol.asyncDispose]();
  });
}

Deno.test("connect({ protocol: 'cpython' }) needs an authkey; a wrong key is refused", async () => {
  await assert.rejects(
    BaseManager.connect({ address: "127.0.0.1:1", protocol: "cpython" }),
    TypeError,
  );
  const { p, address } = await startServer(pythons[0]);
  await using _p = p;
  await assert.rejects(
    SyncManager.connect({ address, authkey: "wrong", protocol: "cpython" }),
  );
});

Deno.test("connect() without protocol: 'cpython' to a CPython server rejects naming the option instead of hanging", async () => {
  // A CPython manager server says nothing until it gets a request, so our
  // client waited for a hello forever. Any deadline shows it.
  const { p, address } = await startServer(pythons[0]);
  await using _p = p;
  await assert.rejects(
    SyncManager.connect({ address, authkey: KEY, timeout: 2000 }),
    (e: unknown) =>
      e instanceof TimeoutError &&
      /^Cannot connect to the manager at tcp:\/\/127\.0\.0\.1:\d+ as it sent no hello within 2000 ms: .*pass protocol: "cpython"$/
        .test(e.message),
  );
  await assert.rejects(
    SyncManager.connect({ address, authkey: KEY, timeout: -1 }),
    RangeError,
  );
  // the server is unharmed: the right protocol still works
  await using m = await SyncManager.connect({
    address,
    authkey: KEY,
    protocol: "cpython",
  });
  const q = await m.Queue();
  await q.put(1);
  assert.equal(await q.get(), 1);
  await q[Symbol.asyncDispose]();
});
