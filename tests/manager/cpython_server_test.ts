// CPython clients (3.11, 3.12, 3.13, unmodified) against a Deno manager
// server's CPython door: every built-in type, errors, nested proxies,
// hostile pickles, a SIGKILLed client holding a lock, a wrong key; the same
// objects seen from a Deno client.

import assert from "node:assert/strict";
import { SharedQueue, SyncManager } from "../../manager/mod.ts";
import { SharedLock } from "../../manager/types/lock.ts";
import { FooBar } from "../fixtures/manager_types.ts";
import { findPythons, hex, PyProcess, type PyRun, runPy } from "./_cpython.ts";

const pythons = await findPythons();

Deno.test("CPython interpreters were found for the CPython-client tests (else they would not run)", () => {
  assert.ok(
    pythons.length > 0,
    "no CPython found (pyenv 3.11.7/3.12.1/3.13.0 or python3)",
  );
});
const KEY = new TextEncoder().encode("not the default key");

class PyManager extends SyncManager {}
const sharedQueue = new SharedQueue();
const sharedLock = new SharedLock();
PyManager.register("get_queue", () => sharedQueue);
PyManager.register("get_lock", () => sharedLock);

async function serve() {
  const server = await PyManager.serve({
    address: "127.0.0.1:0",
    authkey: KEY,
    python: { address: "127.0.0.1:0" },
  });
  const a = server.pythonAddress as { hostname: string; port: number };
  return { server, host: a.hostname, port: String(a.port) };
}

/**
 * serve() plus a Deno (msgpack) client of the same server; disposing closes
 * the client, then the server.
 */
async function serveWithDenoClient() {
  const { server, host, port } = await serve();
  let m;
  try {
    m = await PyManager.connect({ address: server.address, authkey: KEY });
  } catch (e) {
    await server[Symbol.asyncDispose]();
    throw e;
  }
  return {
    server,
    host,
    port,
    m,
    async [Symbol.asyncDispose]() {
      try {
        await m[Symbol.asyncDispose]();
      } finally {
        await server[Symbol.asyncDispose]();
      }
    },
  };
}

/** Runs a driver of tests/manager/py/ against host:port; it must exit 0. */
async function drive(
  py: (typeof pythons)[number],
  script: string,
  host: string,
  port: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<PyRun> {
  const r = await runPy(py, script, [host, port, hex(KEY), ...extra], env);
  assert.deepEqual(r.code, 0, r.stderr);
  return r;
}

function checks(oks: Record<string, unknown>[]): string[] {
  return oks.map((o) => o.ok as string);
}

for (const py of pythons) {
  Deno.test(`cpython ${py.version} client: every SyncManager type on a Deno server`, async () => {
    const { server, host, port } = await serve();
    await using _s = server;
    const r = await drive(py, "client_of_deno.py", host, port, ["types"]);
    assert.deepEqual(checks(r.oks), [
      "queue",
      "queue_blocking_get",
      "queue_shutdown",
      "joinable_queue",
      "event",
      "lock",
      "rlock",
      "semaphore",
      "condition",
      "barrier",
      "value",
      "array",
      "dict",
      "list",
      "namespace",
      "nested_proxies",
      "get_queue",
      "not_exposed",
      "control_calls",
    ]);
    // The queue fed from Python is drained from Deno.
    await using m = await PyManager.connect({
      address: server.address,
      authkey: KEY,
    });
    const q = await m.create<SharedQueue>("get_queue");
    // A dict put by Python, read by a msgpack client: a plain object.
    assert.deepEqual(await q.get({ timeout: 10_000 }), {
      from: "python",
      t: [1, 2.5],
      b: new Uint8Array([0x78, 0x79]),
      n: null,
    });
  });
}

Deno.test("cpython client: hostile pickles are refused by name, nothing runs, the server keeps serving", async () => {
  const py = pythons[pythons.length - 1];
  const { server, host, port } = await serve();
  await using _s = server;
  const dir = await Deno.makeTempDir({ prefix: "cpyman-evil-" });
  try {
    const marker = `${dir}/ran`;
    const r = await drive(py, "client_of_deno.py", host, port, ["hostile"], {
      EVIL_MARKER: marker,
    });
    assert.deepEqual(checks(r.oks), [
      "hostile_create",
      "hostile_method",
      "relayed_global",
      "still_serving",
    ]);
    assert(String(r.oks[0].payload).includes("posix.system"));
    assert.deepEqual(
      await Deno.stat(marker).then(() => true, () => false),
      false,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cpython client: a SIGKILLed client's lock is released and its pending get cancelled", async () => {
  const py = pythons[0];
  await using served = await serveWithDenoClient();
  const { host, port, m } = served;
  const lock = await m.create<SharedLock>("get_lock");
  const q = await m.create<SharedQueue>("get_queue");
  {
    await using p = await PyProcess.start(py, "client_of_deno.py", [
      host,
      port,
      hex(KEY),
      "hold",
    ]);
    await p.line((l) => l === "HELD");
    assert.deepEqual(await lock.acquire({ block: false }), false);
  }
  // Killed: its lock comes free, and its waiting get never takes this item.
  assert.deepEqual(await lock.acquire({ timeout: 30_000 }), true);
  await lock.release();
  await q.put("for a live client");
  assert.deepEqual(await q.get({ timeout: 10_000 }), "for a live client");
});

Deno.test("cpython client: a wrong key is refused", async () => {
  const py = pythons[0];
  const { server, host, port } = await serve();
  await using _s = server;
  const r = await drive(py, "client_of_deno.py", host, port, ["wrongkey"]);
  assert.deepEqual(checks(r.oks), ["wrongkey"]);
});

Deno.test("cpython client: a queue fed by Python is drained by Deno", async () => {
  const py = pythons[0];
  await using served = await serveWithDenoClient();
  const { host, port, m } = served;
  const q = await m.create<SharedQueue>("get_queue");
  const before = await m.stats();
  const r = await drive(py, "client_of_deno.py", host, port, ["feed", "50"]);
  assert.deepEqual(checks(r.oks), ["fed"], r.stderr);
  // The Python client's references (create, incref, decref on throwaway
  // connections, decref at its exit) are all given back.
  assert.deepEqual((await m.stats()).refcounts, before.refcounts);
  const got: unknown[] = [];
  for (let i = 0; i < 50; i++) got.push(await q.get({ timeout: 10_000 }));
  assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => i));
});

// CPython's _TestMyManager / _TestRemoteManager types, served by Deno
// (FooBar is the manager tests' own; Squares is an iterator CPython's
// IteratorProxy drives by __next__).

class Squares {
  #i = 0;
  __next__(): number {
    if (this.#i >= 10) {
      const e = new Error("");
      e.name = "StopIteration";
      throw e;
    }
    const i = this.#i++;
    return i * i;
  }
}

class MyManager extends SyncManager {}
const remoteQueue = new SharedQueue();
MyManager.register("Foo", FooBar);
MyManager.register("Bar", FooBar, { exposed: ["f", "_h"] });
MyManager.register("baz", () => new Squares(), { exposed: ["__next__"] });
MyManager.register("get_queue", () => remoteQueue);

for (const py of pythons) {
  Deno.test(`cpython ${py.version}: CPython's _TestMyManager and _TestRemoteManager against a Deno server`, async () => {
    await using server = await MyManager.serve({
      address: "127.0.0.1:0",
      authkey: KEY,
      python: { address: "127.0.0.1:0" },
    });
    const a = server.pythonAddress as { hostname: string; port: number };
    const r = await drive(
      py,
      "ported_cpython_tests.py",
      a.hostname,
      String(a.port),
      [],
    );
    assert.deepEqual(checks(r.oks), [
      "_TestMyManager.common",
      "_TestRemoteManager.test_remote",
    ]);
  });
}

Deno.test("start({ python }) serves CPython clients from the manager's Worker, on the objects Deno sees", async () => {
  const py = pythons[0];
  await using m = await SyncManager.start({
    authkey: KEY,
    python: { address: "127.0.0.1:0" },
  });
  const a = m.pythonAddress as { hostname: string; port: number };
  assert.ok(a && a.port > 0);
  const r = await drive(py, "client_of_deno.py", a.hostname, String(a.port), [
    "wrongkey",
  ]);
  assert.deepEqual(checks(r.oks), ["wrongkey"], r.stderr);
  // A Python-created object is visible to the Deno client's stats.
  const before = (await m.stats()).objects;
  const made = await drive(py, "make_list.py", a.hostname, String(a.port), []);
  assert.ok(made.lines.includes("DONE"), made.stderr);
  const stats = await m.stats();
  assert.equal(stats.objects, before + 1);
  const [id] = Object.entries(stats.types).find(([, t]) => t === "list")!;
  const l = await m.fromToken<{ toArray(): unknown[] }>({
    typeid: "list",
    id: Number(id),
    address: m.address,
    epoch: stats.epoch,
  });
  assert.deepEqual(await l.toArray(), [1, "two", 3]);
});

Deno.test("serve({ python }) needs an authkey", async () => {
  await assert.rejects(
    SyncManager.serve({
      address: "127.0.0.1:0",
      python: { address: "127.0.0.1:0" },
    }),
    TypeError,
  );
});

Deno.test("cpython client: an item pickle cannot carry stays in the queue for a Deno client", async () => {
  const py = pythons[0];
  await using served = await serveWithDenoClient();
  const { host, port, m } = served;
  const q = await m.create<SharedQueue>("get_queue");
  const when = new Date(0);
  await q.put(when);
  const r = await drive(py, "client_of_deno.py", host, port, ["take"]);
  assert.deepEqual(r.oks, [{
    ok: "take",
    error: "RemoteError",
    unserializable: true,
  }]);
  assert.deepEqual(await q.get({ timeout: 10_000 }), when);
});

Deno.test("cpython client over a Unix socket door (CPython's local default): every type, nested proxies", async () => {
  const py = pythons[pythons.length - 1];
  const dir = await Deno.makeTempDir({ prefix: "cpyman-unix-" });
  try {
    const path = `${dir}/py.sock`;
    await using _server = await PyManager.serve({
      address: "127.0.0.1:0",
      authkey: KEY,
      python: { address: { path } },
    });
    const r = await drive(py, "client_of_deno.py", "unix", path, ["types"]);
    assert.ok(checks(r.oks).includes("nested_proxies"));
    assert.ok(checks(r.oks).includes("control_calls"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
