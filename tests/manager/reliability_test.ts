// Reliability: client death, malformed requests, unencodable values,
// throwing referents, wrong authkey, restarted servers, many clients.

import assert from "node:assert/strict";
import { AuthenticationError, Client } from "../../connection/mod.ts";
import { decodeFromPost, encodeForPost } from "../../_transfer.ts";
import { RemoteError } from "../../errors.ts";
import type { ConnLike } from "../../manager/protocol/conn.ts";
import { BUILTIN_SPECS } from "../../manager/types/_sync_registry.ts";
import { type QueueProxy, SyncManager } from "../../manager/mod.ts";
import { ManagerServer } from "../../manager/server/server.ts";
import { decode } from "../../_msgpack.ts";
import { EOFError } from "../../connection/errors.ts";

const WORKER = new URL("../fixtures/manager_worker.ts", import.meta.url);

function runWorker(
  msg: unknown,
  encoded: { value: unknown; transfer: Transferable[] } = encodeForPost(msg),
): {
  worker: Worker;
  reply: Promise<{ ok: boolean; items?: unknown[]; error?: string }>;
} {
  const worker = new Worker(WORKER, { type: "module" });
  const reply = new Promise<{ ok: boolean; items?: unknown[]; error?: string }>(
    (resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(e.message));
      };
    },
  );
  worker.postMessage(encoded.value, encoded.transfer);
  return { worker, reply };
}

Deno.test("a client that disconnects: its lock is released, its waits cancelled, no item lost", async () => {
  await using m = await SyncManager.start();
  const lock = await m.Lock();
  const rlock = await m.RLock();
  const sem = await m.Semaphore(1);
  const q = await m.Queue();
  {
    const other = await SyncManager.connect({
      address: m.address,
      authkey: m.authkey,
    });
    const ol = await other.fromToken(lock.token) as unknown as typeof lock;
    const orl = await other.fromToken(rlock.token) as unknown as typeof rlock;
    const os = await other.fromToken(sem.token) as unknown as typeof sem;
    const oq = await other.fromToken(q.token) as unknown as QueueProxy;
    assert.equal(await ol.acquire(), true);
    assert.equal(await orl.acquire(), true);
    assert.equal(await os.acquire(), true);
    const pending = oq.get(); // waits: the queue is empty
    assert.equal((await m.stats()).clients, 2);
    await other.close(); // the socket closes mid-wait, holding the locks
    await assert.rejects(pending);
  }
  // Its locks come back, and its cancelled get never takes our item.
  assert.equal(await lock.acquire({ timeout: 5000 }), true);
  assert.equal(await rlock.acquire({ timeout: 5000 }), true);
  assert.equal(await sem.acquire({ timeout: 5000 }), true);
  await q.put("kept");
  assert.equal(await q.get({ timeout: 5000 }), "kept");
  assert.equal((await m.stats()).clients, 1);
});

Deno.test("a Worker client that dies holding a lock: the lock is released", async () => {
  await using m = await SyncManager.start();
  const lock = await m.Lock();
  const { worker, reply } = runWorker({ op: "hold-lock", lock });
  try {
    assert.deepEqual(await reply, { ok: true });
    assert.equal(await lock.acquire({ block: false }), false);
  } finally {
    worker.terminate();
  }
  assert.equal(await lock.acquire({ timeout: 10_000 }), true);
});

/** An in-memory client connection driven by the test. */
class FakeConn implements ConnLike {
  #frames: unknown[] = [];
  #waiter:
    | { resolve: (v: unknown) => void; reject: (e: unknown) => void }
    | undefined;
  #sentWaiters: { n: number; resolve: () => void }[] = [];
  closed = false;
  failWrites = false;
  sent: unknown[] = [];

  push(frame: unknown): void {
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w.resolve(frame);
    } else this.#frames.push(frame);
  }

  /** Resolves once `n` messages were sent to this client. */
  untilSent(n: number): Promise<void> {
    if (this.sent.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.#sentWaiters.push({ n, resolve }));
  }

  sendBytes(b: Uint8Array): Promise<void> {
    if (this.failWrites) return Promise.reject(new Error("broken pipe"));
    this.sent.push(...(decode(b.slice()) as unknown[]));
    for (const w of this.#sentWaiters.filter((w) => this.sent.length >= w.n)) {
      w.resolve();
    }
    this.#sentWaiters = this.#sentWaiters.filter((w) => this.sent.length < w.n);
    return Promise.resolve();
  }

  recv<T>(): Promise<T> {
    if (this.#frames.length > 0) {
      return Promise.resolve(this.#frames.shift() as T);
    }
    if (this.closed) return Promise.reject(new EOFError());
    return new Promise<T>((
      resolve,
      reject,
    ) => (this.#waiter = { resolve: resolve as (v: unknown) => void, reject }));
  }

  close(): void {
    this.closed = true;
    this.#waiter?.reject(new EOFError());
    this.#waiter = undefined;
  }
}

Deno.test("an item whose reply cannot be written goes back to the head of its queue", async () => {
  const server = new ManagerServer(new Map(BUILTIN_SPECS));
  const c1 = new FakeConn();
  const served = server.serveConnection(c1);
  c1.push([[1, "create", "Queue", []]]);
  await c1.untilSent(2); // hello + proxy
  const qid = (c1.sent[1] as [number, string, { id: number }])[2].id;
  c1.push([[2, "call", qid, "put", ["a"]], [3, "call", qid, "put", ["b"]]]);
  await c1.untilSent(4);
  const c2 = new FakeConn(); // holds a reference too
  const served2 = server.serveConnection(c2);
  c2.push([[1, "incref", qid, server.epoch]]);
  await c2.untilSent(2);
  c1.failWrites = true;
  c1.push([[4, "call", qid, "get", []]]);
  await served; // the failed write dropped the client
  assert.equal(c1.closed, true);
  c2.push([[2, "call", qid, "get", []], [3, "call", qid, "get", []]]);
  await c2.untilSent(4);
  assert.deepEqual(c2.sent.slice(2), [[2, "return", "a"], [3, "return", "b"]]);
  await server.close();
  await served2;
});

Deno.test("malformed requests get a clear error for that caller only; the server keeps serving", async () => {
  await using server = await SyncManager.serve({
    address: "127.0.0.1:0",
    authkey: "k",
  });
  await using m = await SyncManager.connect({
    address: server.address,
    authkey: "k",
  });
  const q = await m.Queue();
  await q.put(1);
  await using raw = await Client(server.address, { authkey: "k" });
  const [hello] = await raw.recv<unknown[][]>();
  assert.equal(hello![1], "hello");
  const ask = async (frame: unknown) => {
    await raw.send(frame);
    return (await raw.recv<unknown[][]>())[0]!;
  };
  const err = (r: unknown[]) => (r[2] as { message: string }).message;
  let r = await ask("not an array");
  assert.equal(r[0], 0);
  assert.match(err(r), /not an array/);
  r = await ask([["x"]]);
  assert.match(err(r), /\[id, kind/);
  r = await ask([[7, "bogus"]]);
  assert.deepEqual(r.slice(0, 2), [7, "error"]);
  assert.match(err(r), /unknown/);
  r = await ask([[8, "call", 9999, "get", []]]);
  assert.match(err(r), /Cannot find the shared object/);
  r = await ask([[9, "call", q.token.id, "releaseOwned", []]]);
  assert.match(err(r), /not exposed/);
  r = await ask([[10, "call", q.token.id, "get", "no-array"]]);
  assert.match(err(r), /args/);
  r = await ask([[11, "create", "NoSuchType", []]]);
  assert.match(err(r), /not registered/);
  r = await ask([[12, "incref", q.token.id, "wrong-epoch"]]);
  assert.match(err(r), /another server/);
  // Bytes that are not msgpack.
  await raw.sendBytes(new Uint8Array([0xc1]));
  r = (await raw.recv<unknown[][]>())[0]!;
  assert.deepEqual(r.slice(0, 2), [0, "error"]);
  // Still serving, this connection and the others.
  r = await ask([[13, "ping"]]);
  assert.deepEqual(r, [13, "return", null]);
  assert.equal(await q.get(), 1);
  assert.equal((await m.stats()).objects, 1);
});

Deno.test("values that cannot be encoded and throwing referents fail that call only", async () => {
  await using m = await SyncManager.start();
  const d = await m.dict();
  const l = await m.list();
  await assert.rejects(
    d.set("f", (() => {}) as never),
    (e: unknown) => e instanceof TypeError && /function/.test(e.message),
  );
  await assert.rejects(l.append(Symbol("s") as never), TypeError);
  const cyc: Record<string, unknown> = {};
  cyc.self = cyc;
  await assert.rejects(l.append(cyc), /cycle/);
  await assert.rejects(
    l.pop(),
    (e: unknown) => e instanceof RemoteError && e.remoteName === "IndexError",
  );
  await assert.rejects(
    m.create("NoSuchType"),
    (e: unknown) =>
      e instanceof RemoteError && /not registered/.test(e.message),
  );
  await d.set("ok", 1);
  assert.equal(await d.get("ok"), 1);
});

Deno.test("a wrong authkey is refused with AuthenticationError and creates nothing", async () => {
  await using server = await SyncManager.serve({
    address: "127.0.0.1:0",
    authkey: "right",
  });
  await assert.rejects(
    SyncManager.connect({ address: server.address, authkey: "wrong" }),
    AuthenticationError,
  );
  await assert.rejects(
    SyncManager.connect({ address: server.address }),
    AuthenticationError,
  );
  assert.equal(server.stats().objects, 0);
  assert.equal(server.stats().clients, 0);
});

Deno.test("a restarted server is detected: old tokens and transferred proxies fail fast", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/m.sock`;
  try {
    let server = await SyncManager.serve({ address: { path }, authkey: "k" });
    const m1 = await SyncManager.connect({
      address: server.address,
      authkey: "k",
    });
    const q = await m1.Queue();
    await q.put("old");
    const token = q.token;
    const moved = encodeForPost(q);
    await server.close();
    await assert.rejects(q.put("x"), /closed/);
    await m1.close();
    server = await SyncManager.serve({ address: { path }, authkey: "k" });
    try {
      await using m2 = await SyncManager.connect({
        address: server.address,
        authkey: "k",
      });
      const q2 = await m2.Queue(); // gets the same id the old queue had
      assert.equal(q2.token.id, token.id);
      await assert.rejects(
        m2.fromToken(token),
        /another server or an earlier run/,
      );
      const revived = await decodeFromPost(moved.value) as QueueProxy;
      await assert.rejects(revived.put("x"), /restarted/);
      await revived[Symbol.asyncDispose]();
      assert.equal(await q2.qsize(), 0); // nothing acted on the new object
    } finally {
      await server.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("500 concurrent clients doing queue and lock operations: every item once, every lock released", async () => {
  await using m = await SyncManager.start();
  const q = await m.Queue();
  const lock = await m.Lock();
  const counter = await m.Value("i", 0);
  const CLIENTS = 500;
  const got: unknown[] = [];
  await Promise.all(Array.from({ length: CLIENTS }, async (_, i) => {
    await using c = await SyncManager.connect({
      address: m.address,
      authkey: m.authkey,
    });
    const cq = await c.fromToken(q.token) as unknown as typeof q;
    const cl = await c.fromToken(lock.token) as unknown as typeof lock;
    const cv = await c.fromToken(counter.token) as unknown as typeof counter;
    await cq.put(`a${i}`);
    await cq.put(`b${i}`);
    got.push(await cq.get(), await cq.get());
    assert.equal(await cl.acquire(), true);
    await cv.set(await cv.get() as number + 1);
    await cl.release();
  }));
  assert.equal(got.length, 2 * CLIENTS);
  assert.equal(new Set(got).size, 2 * CLIENTS);
  assert.equal(await q.empty(), true);
  assert.equal(await counter.get(), CLIENTS);
  assert.equal(await lock.acquire({ block: false }), true);
  assert.equal((await m.stats()).clients, 1);
});

Deno.test("a proxy posted to a Worker arrives working, to the same object", async () => {
  await using m = await SyncManager.start();
  const q = await m.Queue();
  for (const x of [1, 2, 3]) await q.put(x);
  const { worker, reply } = runWorker({ op: "drain", queue: q, n: 3 });
  try {
    assert.deepEqual(await reply, { ok: true, items: [1, 2, 3] });
  } finally {
    worker.terminate();
  }
  const put = runWorker({ op: "put", queue: q });
  try {
    assert.deepEqual(await put.reply, { ok: true });
  } finally {
    put.worker.terminate();
  }
  assert.equal(await q.get(), "from worker");
});

Deno.test("a proxy in transit keeps its object alive until the receiver holds its own reference", async () => {
  await using m = await SyncManager.start();
  const q = await m.Queue();
  await q.put("kept");
  const id = String(q.token.id);
  const msg = { op: "drain", queue: q, n: 1 };
  const encoded = encodeForPost(msg); // lends a reference to the proxy in transit
  await q[Symbol.asyncDispose](); // the sender lets go before the receiver has it
  assert.equal((await m.stats()).refcounts[id], 1);
  const { worker, reply } = runWorker(msg, encoded);
  try {
    assert.deepEqual(await reply, { ok: true, items: ["kept"] });
  } finally {
    worker.terminate();
  }
  // The receiver took the loan over, then released its proxy: the object is gone.
  assert.equal((await m.stats()).refcounts[id], undefined);
});
