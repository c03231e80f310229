// Nothing is lost without an error: dict keys of different types stay apart
// in every view, values the server cannot hold are refused naming the
// user's argument, and codec errors name arguments, not wire positions.

import assert from "node:assert/strict";
import { Pipe } from "../../connection/mod.ts";
import { RemoteError } from "../../errors.ts";
import { SyncManager } from "../../manager/mod.ts";

Deno.test("dict: 1 and '1' are two keys in every view; toObject() refuses to merge them", async () => {
  await using m = await SyncManager.start();
  const d = await m.dict<string>();
  await d.set(1, "a");
  await d.set("1", "b");
  assert.equal(await d.size(), 2);
  assert.deepEqual(await d.keys(), [1, "1"]);
  assert.deepEqual(await d.values(), ["a", "b"]);
  assert.deepEqual(await d.items(), [[1, "a"], ["1", "b"]]);
  assert.equal(await d.get(1), "a");
  assert.equal(await d.get("1"), "b");
  assert.equal(await d.has(1), true);
  assert.equal(await d.has("1"), true);
  await assert.rejects(
    d.toObject(),
    (e: unknown) =>
      e instanceof RemoteError && e.remoteName === "TypeError" &&
      /keys 1 and '1' would both become the property "1": use items\(\)/
        .test(e.message),
  );
  // Nothing was dropped by the refusal.
  assert.equal(await d.size(), 2);
  await d.delete(1);
  assert.deepEqual(await d.toObject(), { "1": "b" });
  // Booleans and null are keys of their own type too.
  await d.set(true, "t");
  await d.set(null, "n");
  assert.deepEqual(await d.keys(), ["1", true, null]);
});

Deno.test("a Pipe() end stored in a dict, list or queue is refused with a TypeError naming it; nothing is stored", async () => {
  await using m = await SyncManager.start();
  const [a, b] = Pipe();
  try {
    const d = await m.dict();
    const l = await m.list();
    const q = await m.Queue();
    await assert.rejects(
      d.set("p", a),
      (e: unknown) =>
        e instanceof TypeError &&
        /^Cannot call set\(\) as args\[1\] is a live handle \(a Connection\) that the manager's server cannot hold/
          .test(e.message),
    );
    await assert.rejects(
      l.append({ conn: b }),
      /Cannot call append\(\) as args\[0\]\.conn is a live handle \(a Connection\)/,
    );
    await assert.rejects(
      q.put([1, { deep: [a] }]),
      /Cannot call put\(\) as args\[0\]\[1\]\.deep\[0\] is a live handle/,
    );
    await assert.rejects(
      m.list([a]),
      /Cannot create a list as args\[0\]\[0\] is a live handle \(a Connection\)/,
    );
    assert.equal(await d.size(), 0);
    assert.equal(await l.length(), 0);
    assert.equal(await q.qsize(), 0);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("a proxy nested in a value, a function, a Promise and an object of private state are refused naming the argument", async () => {
  await using m = await SyncManager.start();
  const q = await m.Queue();
  const lock = await m.Lock();
  await assert.rejects(
    q.put({ lock }),
    /Cannot call put\(\) as args\[0\]\.lock is a live handle \(a LockProxy\).*store its token/,
  );
  await assert.rejects(
    q.put({ fn: () => 1 }),
    /Cannot call put\(\) as args\[0\]\.fn is a function/,
  );
  await assert.rejects(
    q.put(Promise.resolve(1)),
    /Cannot call put\(\) as args\[0\] is a Promise: await it first/,
  );
  class Secret {
    #x = 1;
    get x(): number {
      return this.#x;
    }
  }
  await assert.rejects(
    q.put(new Secret()),
    /Cannot call put\(\) as args\[0\] is a Secret with no enumerable fields: it would arrive as \{\}/,
  );
  assert.equal(await q.qsize(), 0);
  // Plain data, typed arrays, dates and class instances with fields still go.
  class Point {
    constructor(public x: number, public y: number) {}
  }
  await q.put({
    p: new Point(1, 2),
    b: new Uint8Array([1]),
    when: new Date(0),
  });
  const got = await q.get() as { p: { x: number }; b: Uint8Array; when: Date };
  assert.equal(got.p.x, 1);
  assert.deepEqual([...got.b], [1]);
});

Deno.test("codec errors name the argument or the result, not wire positions", async () => {
  await using m = await SyncManager.start();
  const q = await m.Queue();
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  await assert.rejects(
    q.put(cyclic),
    (e: unknown) =>
      e instanceof TypeError &&
      /^Cannot call put\(\) as args\[0\]\.self is a reference cycle/.test(
        e.message,
      ) && !/\$\[/.test(e.message),
  );
  await assert.rejects(
    q.put({ big: 2n ** 70n }),
    /Cannot call put\(\) as args\[0\]\.big is a bigint wider than 64 bits/,
  );
  await assert.rejects(
    m.dict({ big: 2n ** 70n }),
    /Cannot create a dict as args\[0\]\.big is a bigint wider than 64 bits/,
  );
  assert.equal(await q.qsize(), 0);
});

Deno.test("an idle client whose server went away learns it at its next call (a rejection, no hang)", async () => {
  const server = await SyncManager.serve({
    address: "127.0.0.1:0",
    authkey: "k",
  });
  const m = await SyncManager.connect({
    address: server.address,
    authkey: "k",
  });
  try {
    const q = await m.Queue();
    await q.put(1);
    // Nothing is awaited now: the client has no read pending.
    await server.close();
    await assert.rejects(q.get(), /connection to the manager at .* is closed/);
    await assert.rejects(m.stats(), /is closed/);
  } finally {
    await m.close();
  }
});
