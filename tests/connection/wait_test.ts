// wait(): readiness over several connections (CPython TestWait, adapted).

import assert from "node:assert/strict";
import {
  Client,
  type Connection,
  EOFError,
  Listener,
  Pipe,
  wait,
} from "../../connection/mod.ts";
import { deadline } from "./_helpers.ts";

/** n socket pairs (half TCP, half Unix) and n pipes: [readers, writers]. */
async function mixed(
  n: number,
): Promise<{ readers: Connection[]; writers: Connection[]; close(): void }> {
  const readers: Connection[] = [];
  const writers: Connection[] = [];
  const tcp = new Listener();
  const unix = new Listener({ family: "AF_UNIX" });
  try {
    for (let i = 0; i < n; i++) {
      const l = i % 2 ? unix : tcp;
      const [s, c] = await Promise.all([l.accept(), Client(l.address)]);
      readers.push(s);
      writers.push(c);
      const [r, w] = Pipe(false);
      readers.push(r);
      writers.push(w);
    }
  } finally {
    tcp.close();
    unix.close();
  }
  return {
    readers,
    writers,
    close() {
      for (const c of [...readers, ...writers]) c.close();
    },
  };
}

Deno.test("wait: collects every message from many writers until each reaches EOF (TestWait.test_wait)", async () => {
  const m = await mixed(4);
  try {
    const expected = new Map<Connection, number[]>();
    // Each writer sends a few messages, interleaved, then closes.
    const writing = (async () => {
      for (let round = 0; round < 5; round++) {
        for (const [i, w] of m.writers.entries()) {
          if ((i + round) % 3 === 0) continue;
          await w.send(i * 100 + round);
          const r = m.readers[i]!;
          expected.set(r, [...(expected.get(r) ?? []), i * 100 + round]);
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      for (const w of m.writers) w.close();
    })();
    const got = new Map<Connection, number[]>();
    let live = [...m.readers];
    let rounds = 0;
    while (live.length > 0) {
      assert.ok(++rounds < 10_000, "bounded");
      const ready = await deadline(wait(live), 5000, "wait()");
      assert.ok(ready.length > 0);
      for (const r of ready) {
        try {
          const v = await r.recv<number>();
          got.set(r, [...(got.get(r) ?? []), v]);
        } catch (e) {
          assert.ok(e instanceof EOFError, String(e));
          live = live.filter((x) => x !== r);
        }
      }
    }
    await writing;
    for (const r of m.readers) {
      assert.deepEqual(got.get(r) ?? [], expected.get(r) ?? []);
    }
  } finally {
    m.close();
  }
});

Deno.test("wait: the timeout elapses with [] when nothing is ready; a later message wakes it (test_wait_timeout)", async () => {
  const m = await mixed(1);
  try {
    assert.deepEqual(await wait(m.readers, 30), []);
    const pending = wait(m.readers, 10_000);
    await m.writers[1]!.send("pipe");
    const ready = await deadline(pending, 5000, "wait with timeout");
    assert.deepEqual(ready, [m.readers[1]]);
    await m.writers[0]!.send("sock");
    assert.equal(await m.readers[0]!.poll(5000), true);
    assert.deepEqual(await wait(m.readers, 0), m.readers, "in the order given");
  } finally {
    m.close();
  }
});

Deno.test("wait: a zero or negative timeout returns at once (test_neg_timeout)", async () => {
  const m = await mixed(1);
  try {
    assert.deepEqual(await wait(m.readers, 0), []);
    assert.deepEqual(await wait(m.readers, -1), []);
  } finally {
    m.close();
  }
});

Deno.test("wait() and poll() reject a timeout that is not a number (null, a string, NaN) instead of not waiting", async () => {
  // Python's poll(None) waits forever; a JS null used to mean "do not wait".
  const [r, w] = Pipe(false);
  try {
    for (const bad of [null, "100", Number.NaN]) {
      await assert.rejects(
        wait([r], bad as never),
        /^TypeError: Cannot wait as the timeout must be a number of milliseconds \(leave it out to wait forever\)/,
      );
      await assert.rejects(
        r.poll(bad as never),
        /^TypeError: Cannot poll as the timeout must be a number of milliseconds/,
      );
    }
    // numbers still behave as before, and the connection is unharmed
    assert.equal(await r.poll(0), false);
    await w.send(1);
    assert.deepEqual(await wait([r], Infinity), [r]);
    assert.equal(await r.poll(), true);
    assert.equal(await r.recv(), 1);
  } finally {
    r.close();
    w.close();
  }
});

Deno.test("wait: a connection whose peer closed is ready; its recv rejects with EOFError", async () => {
  const m = await mixed(1);
  try {
    const pending = wait(m.readers);
    m.writers[0]!.close();
    const ready = await deadline(pending, 5000, "wait for EOF");
    assert.deepEqual(ready, [m.readers[0]]);
    await assert.rejects(m.readers[0]!.recv(), EOFError);
    m.writers[1]!.close();
    assert.deepEqual(await deadline(wait([m.readers[1]!]), 5000, "pipe EOF"), [
      m.readers[1],
    ]);
  } finally {
    m.close();
  }
});

Deno.test("wait: an empty list resolves to []", async () => {
  assert.deepEqual(await deadline(wait([], 10), 1000, "wait([])"), []);
});

Deno.test("wait: many waits on the same connections all resolve and leave the data unread", async () => {
  const [a, b] = Pipe();
  try {
    const waits = Array.from({ length: 10 }, () => wait([b], 10_000));
    await a.send("x");
    for (const r of await deadline(Promise.all(waits), 5000, "10 waits")) {
      assert.deepEqual(r, [b]);
    }
    assert.equal(await b.recv(), "x");
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("wait: a closed connection in the list does not make wait() hang", async () => {
  const [a, b] = Pipe();
  const [c, d] = Pipe();
  b.close();
  try {
    // Only closed connections, no timeout: it must settle (CPython raises
    // OSError "handle is closed"; returning or rejecting are both fine here).
    await deadline(wait([b]).catch(() => []), 2000, "wait([closed])");
    // A closed one next to a live one: the live one still wakes it.
    const pending = wait([b, d]).catch(() => [] as Connection[]);
    await c.send("x");
    const ready = await deadline(pending, 2000, "wait([closed, live])");
    assert.ok(ready.length === 0 || ready.includes(d));
  } finally {
    for (const x of [a, b, c, d]) x.close();
  }
});

Deno.test("wait: entries that are not connections reject with a TypeError, never throw", async () => {
  const [a, b] = Pipe();
  try {
    for (const bad of [[null], [a, {}], [undefined], "ab"]) {
      let p: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        p = wait(bad as unknown as Connection[]);
      });
      await assert.rejects(p!, TypeError);
    }
  } finally {
    a.close();
    b.close();
  }
});
