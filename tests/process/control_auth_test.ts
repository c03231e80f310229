// The control listener of a child (process/_child.ts): only the holder of the
// child's secret gets in, with one frame and no challenge; anyone else is
// dropped after at most 64 bytes, and a crowd of them stops the listener.

import assert from "node:assert/strict";
import { acceptControl, type Acceptor } from "../../process/_child.ts";

const GUARD = 30_000;

/** CPython's framing: a 4-byte big-endian length, then the bytes. */
function frame(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setInt32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

function json(v: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v));
}

async function writeAll(c: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await c.write(bytes.subarray(at));
}

/** Reads until the peer closes; resolves to the bytes read. */
async function readToEnd(c: Deno.Conn): Promise<number> {
  const buf = new Uint8Array(1024);
  let total = 0;
  for (let i = 0; i < 1000; i++) {
    const n = await c.read(buf).catch(() => null);
    if (n === null) return total;
    total += n;
  }
  throw new Error("the listener never closed the connection");
}

function withGuard<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${what}`)), GUARD);
  });
  return Promise.race([p, guard]).finally(() => clearTimeout(timer));
}

async function setUp(): Promise<{
  dir: string;
  path: string;
  listener: Deno.Listener;
  key: Uint8Array;
  acceptor: Acceptor;
}> {
  const dir = await Deno.makeTempDir({ prefix: "mproc-auth-test-" });
  const path = `${dir}/c.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const key = crypto.getRandomValues(new Uint8Array(32));
  return { dir, path, listener, key, acceptor: acceptControl(listener, key) };
}

Deno.test("a peer without the child's secret is dropped; the child still gets in", async () => {
  const { dir, path, listener, key, acceptor } = await setUp();
  let settled = false;
  acceptor.first.then(() => settled = true, () => settled = true);
  try {
    const wrong = key.slice();
    wrong[31] ^= 1;
    const longer = new Uint8Array(65);
    longer.set(key);
    const attempts: Uint8Array[] = [
      frame(wrong), // one bit off
      frame(key.subarray(0, 31)), // a prefix of the secret
      frame(longer), // the secret with more behind it, over the 64-byte cap
      frame(new Uint8Array(0)), // nothing
    ];
    for (const first of attempts) {
      const c = await Deno.connect({ transport: "unix", path });
      await writeAll(
        c,
        new Uint8Array([...first, ...frame(json({ role: "control" }))]),
      )
        .catch(() => {});
      // dropped: the listener closes it without sending anything
      assert.equal(await withGuard(readToEnd(c), "bad peer"), 0);
      c.close();
    }
    assert.equal(settled, false, "no bad peer was taken for the child");

    // the right secret, then a hello that is not one: dropped as well
    const odd = await Deno.connect({ transport: "unix", path });
    await writeAll(
      odd,
      new Uint8Array([...frame(key), ...frame(json({ role: "x" }))]),
    );
    assert.equal(await withGuard(readToEnd(odd), "odd hello"), 0);
    odd.close();
    assert.equal(settled, false);

    // the child: secret and hello in one write, no round trip
    const child = await Deno.connect({ transport: "unix", path });
    await writeAll(
      child,
      new Uint8Array([...frame(key), ...frame(json({ role: "control" }))]),
    );
    const { conn } = await withGuard(acceptor.first, "the child");
    await conn.sendBytes(new Uint8Array([7, 8, 9]));
    const got = new Uint8Array(7);
    let n = 0;
    while (n < 7) n += (await child.read(got.subarray(n)))!;
    assert.deepEqual([...got], [0, 0, 0, 3, 7, 8, 9]);

    // an aux connection with the secret reaches onAux with its id
    const aux = new Promise<number>((resolve) => {
      acceptor.onAux = (id, c) => {
        c.close();
        resolve(id);
      };
    });
    const a = await Deno.connect({ transport: "unix", path });
    await writeAll(
      a,
      new Uint8Array([...frame(key), ...frame(json({ role: "aux", id: 5 }))]),
    );
    assert.equal(await withGuard(aux, "aux"), 5);
    a.close();
    conn.close();
    child.close();
  } finally {
    acceptor.stop();
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("16 peers without the secret stop the listener: the start fails, saying so", async () => {
  const { dir, path, listener, acceptor } = await setUp();
  try {
    for (let i = 0; i < 16; i++) {
      const c = await Deno.connect({ transport: "unix", path });
      await writeAll(c, frame(new Uint8Array(32))).catch(() => {});
      await withGuard(readToEnd(c), "bad peer");
      c.close();
    }
    await assert.rejects(
      withGuard(acceptor.first, "rejection"),
      /too many peers failed/,
    );
    // nobody can connect any more
    await assert.rejects(Deno.connect({ transport: "unix", path }));
  } finally {
    try {
      listener.close();
    } catch {
      // closed by the acceptor
    }
    await Deno.remove(dir, { recursive: true });
  }
});
