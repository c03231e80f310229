// Ports of CPython's connection tests (Lib/test/_test_multiprocessing.py,
// 3.12.1): _TestConnection, _TestListener, _TestListenerClient (incl.
// test_issue16955 and the _listener/_remote test of _TestPicklingConnections),
// _TestPoll, TestWait, OtherTest and ChallengeResponseTest.
//
// CPython runs these for 'processes' and 'threads'; here a "process" is a
// Worker that receives a Pipe() end (fixtures/pipe_worker.ts) and a "thread"
// is an async task in this thread. Timing assertions (TimingWrapper) are left
// out, as are fd-passing tests (Deno sockets cannot move between threads).

import assert from "node:assert/strict";
import {
  answerChallenge,
  AuthenticationError,
  BufferTooShortError,
  Client,
  type Connection,
  deliverChallenge,
  EOFError,
  type Family,
  Listener,
  Pipe,
  wait,
} from "../../connection/mod.ts";
import {
  createResponse,
  loadCrypto,
  verifyResponse,
} from "../../connection/_auth.ts";
import {
  type ChildKind,
  deadline,
  dec,
  enc,
  rejection,
  spawnChild,
} from "./_helpers.ts";

const KINDS: ChildKind[] = ["worker", "thread"];
const FAMILIES: Family[] = ["AF_INET", "AF_INET6", "AF_UNIX"];
const SENTINEL = new Uint8Array(0);

// ---------------------------------------------------------------- _TestConnection

for (const kind of KINDS) {
  Deno.test(`cpython _TestConnection.test_connection [${kind}]`, async () => {
    const [conn, childConn] = Pipe();
    try {
      using child = await spawnChild(kind, "echoBytes", childConn);
      const seq = [1, 2.25, null];
      const msg = enc.encode("hello world");
      const longmsg = enc.encode("hello world".repeat(10));
      const arr = new Int32Array([0, 1, 2, 3]);

      await conn.send(seq);
      // The child echoes bytes; send() payloads come back as the same frame.
      assert.deepEqual(await conn.recv(), seq);

      await conn.sendBytes(msg);
      assert.deepEqual(await conn.recvBytes(), msg);

      let buffer = new Int32Array(10);
      await conn.sendBytes(new Uint8Array(arr.buffer));
      assert.equal(await conn.recvBytesInto(new Uint8Array(buffer.buffer)), 16);
      assert.deepEqual(Array.from(buffer), [0, 1, 2, 3, 0, 0, 0, 0, 0, 0]);

      buffer = new Int32Array(10);
      await conn.sendBytes(new Uint8Array(arr.buffer));
      assert.equal(
        await conn.recvBytesInto(new Uint8Array(buffer.buffer), 3 * 4),
        16,
      );
      assert.deepEqual(Array.from(buffer), [0, 0, 0, 0, 1, 2, 3, 0, 0, 0]);

      const small = enc.encode(" ".repeat(40));
      await conn.sendBytes(longmsg);
      const e = await rejection(conn.recvBytesInto(small));
      assert.ok(e instanceof BufferTooShortError, String(e));
      assert.deepEqual(e.bytes, longmsg);

      // poll(): CPython's default timeout is 0; API.md's is "forever", so 0 here.
      assert.equal(await conn.poll(0), false);
      assert.equal(await conn.poll(-1), false);
      assert.equal(await conn.poll(20), false);

      await conn.send(null);
      assert.equal(await conn.poll(5000), true);
      assert.equal(await conn.recv(), null);

      const reallyBig = new Uint8Array(16 << 20).fill(0x58); // 16 MiB of "X"
      await conn.sendBytes(reallyBig);
      assert.deepEqual(
        await deadline(conn.recvBytes(), 10_000, "16 MiB echo"),
        reallyBig,
      );

      await conn.sendBytes(SENTINEL); // tell child to quit
      assert.equal(await child.join(), 7, "the child echoed 7 messages");
      // (CPython closes child_conn here; in the thread variant that is the
      // child's own end, which it closed itself on SENTINEL.)
      assert.ok((await rejection(conn.recv())) instanceof EOFError);
      assert.ok((await rejection(conn.recvBytes())) instanceof EOFError);
    } finally {
      conn.close();
      childConn.close();
    }
  });

  Deno.test(`cpython _TestConnection.test_spawn_close [${kind}]`, async () => {
    const [conn, childConn] = Pipe();
    try {
      using child = await spawnChild(kind, "echoBytes", childConn);
      // Might complete before the child starts. (Thread variant: the end is
      // the child's own, so it is not closed here.)
      if (kind === "worker") childConn.close();
      await conn.sendBytes(enc.encode("hello"));
      assert.equal(dec.decode(await conn.recvBytes()), "hello");
      await conn.sendBytes(SENTINEL);
      assert.equal(await child.join(), 1);
    } finally {
      conn.close();
      childConn.close();
    }
  });
}

Deno.test("cpython _TestConnection.test_duplex_false", async () => {
  const [reader, writer] = Pipe(false);
  try {
    await writer.send(1);
    assert.equal(await reader.recv(), 1);
    assert.ok((await rejection(reader.send(2))) instanceof Error);
    assert.ok((await rejection(writer.recv())) instanceof Error);
    assert.ok((await rejection(writer.poll(0))) instanceof Error);
  } finally {
    reader.close();
    writer.close();
  }
});

Deno.test("cpython _TestConnection.test_sendbytes", async () => {
  const msg = enc.encode("abcdefghijklmnopqrstuvwxyz");
  const [a, b] = Pipe();
  try {
    const cases: [number | undefined, number | undefined, string][] = [
      [undefined, undefined, "abcdefghijklmnopqrstuvwxyz"],
      [5, undefined, "fghijklmnopqrstuvwxyz"],
      [7, 8, "hijklmno"],
      [26, undefined, ""],
      [26, 0, ""],
    ];
    for (const [off, size, want] of cases) {
      await a.sendBytes(msg, off, size);
      assert.equal(dec.decode(await b.recvBytes()), want);
    }
    for (
      const [off, size] of [
        [27, undefined],
        [22, 5],
        [26, 1],
        [-1, undefined],
        [4, -1],
      ]
    ) {
      const e = await rejection(
        (async () => await a.sendBytes(msg, off, size))(),
      );
      assert.ok(e instanceof RangeError, `offset ${off} size ${size}: ${e}`);
    }
  } finally {
    a.close();
    b.close();
  }
});

// ------------------------------------------------------------------ _TestListener

Deno.test("cpython _TestListener.test_multiple_bind", () => {
  for (const family of FAMILIES) {
    const l = new Listener({ family });
    try {
      assert.throws(() => new Listener({ address: l.address, family }), family);
    } finally {
      l.close();
    }
  }
});

Deno.test("cpython _TestListener.test_context", async () => {
  let kept: Listener;
  {
    await using l = new Listener();
    kept = l;
    await using c = await Client(l.address);
    await using d = await l.accept();
    await c.send(1729);
    assert.equal(await d.recv(), 1729);
  }
  assert.ok((await rejection(kept.accept())) instanceof Error);
});

Deno.test("cpython _TestListener.test_abstract_socket", async () => {
  let kept: Listener;
  {
    await using listener = new Listener({
      address: `\0something-${crypto.randomUUID()}`,
    });
    kept = listener;
    await using client = await Client(listener.address);
    await using d = await listener.accept();
    await client.send(1729);
    assert.equal(await d.recv(), 1729);
  }
  assert.ok((await rejection(kept.accept())) instanceof Error);
});

// ------------------------------------------------------------ _TestListenerClient

Deno.test("cpython _TestListenerClient.test_listener_client [thread]", async () => {
  for (const family of FAMILIES) {
    await using l = new Listener({ family });
    const sending = (async () => {
      const c = await Client(l.address);
      await c.send("hello");
      c.close();
    })();
    await using conn = await deadline(l.accept(), 5000, family);
    assert.equal(await conn.recv(), "hello");
    await sending;
  }
});

Deno.test("cpython _TestListenerClient.test_issue14725 (client gone before accept)", async () => {
  await using l = new Listener();
  const c = await Client(l.address);
  await c.send("hello");
  c.close();
  await using conn = await l.accept();
  assert.equal(await conn.recv(), "hello");
});

Deno.test("cpython _TestListenerClient.test_issue16955", async () => {
  for (const family of FAMILIES) {
    await using l = new Listener({ family });
    await using c = await Client(l.address);
    await using a = await l.accept();
    await a.sendBytes(enc.encode("hello"));
    assert.equal(await c.poll(1000), true, family);
  }
});

Deno.test("cpython _TestPicklingConnections _listener/_remote: a listener per family, address over a Pipe, the Worker sends msg.upper()", async () => {
  const [lconn, lconn0] = Pipe();
  const [rconn, rconn0] = Pipe();
  try {
    using lp = await spawnChild("worker", "listener", lconn0, FAMILIES);
    using rp = await spawnChild("worker", "remote", rconn0);
    for (const family of FAMILIES) {
      const msg = `This connection uses family ${family}`;
      const address = await deadline(
        lconn.recv(),
        10_000,
        `address for ${family}`,
      );
      await rconn.send([address, msg]);
      assert.equal(
        await deadline(lconn.recv(), 10_000, `msg for ${family}`),
        msg.toUpperCase(),
      );
    }
    await rconn.send(null);
    assert.equal(await lp.join(), FAMILIES.length);
    assert.equal(await rp.join(), FAMILIES.length);
  } finally {
    for (const c of [lconn, lconn0, rconn, rconn0]) c.close();
  }
});

Deno.test("cpython _listener/_remote in this thread, the remote in a Worker", async () => {
  const [rconn, rconn0] = Pipe();
  try {
    using rp = await spawnChild("worker", "remote", rconn0);
    for (const family of FAMILIES) {
      await using l = new Listener({ family });
      const msg = `This connection uses family ${family}`;
      await rconn.send([l.address, msg]);
      await using conn = await deadline(l.accept(), 10_000, family);
      assert.equal(await conn.recv(), msg.toUpperCase());
    }
    await rconn.send(null);
    assert.equal(await rp.join(), FAMILIES.length);
  } finally {
    rconn.close();
    rconn0.close();
  }
});

// ---------------------------------------------------------------------- _TestPoll

Deno.test("cpython _TestPoll.test_empty_string", async () => {
  const [a, b] = Pipe();
  try {
    assert.equal(await a.poll(0), false);
    await b.sendBytes(new Uint8Array(0));
    assert.equal(await a.poll(1000), true);
    assert.equal(await a.poll(0), true);
  } finally {
    a.close();
    b.close();
  }
});

for (const kind of KINDS) {
  Deno.test(`cpython _TestPoll.test_strings [${kind}]`, async () => {
    const strings = ["hello", "", "a", "b", "", "bye", "", "lop"];
    const [a, b] = Pipe();
    try {
      using p = await spawnChild(kind, "strings", b, strings);
      for (const s of strings) {
        for (let i = 0; i < 200; i++) if (await a.poll(10)) break;
        assert.equal(dec.decode(await a.recvBytes()), s);
      }
      assert.equal(await p.join(), true);
    } finally {
      a.close();
      b.close();
    }
  });

  Deno.test(`cpython _TestPoll.test_dont_merge [${kind}]`, async () => {
    const [a, b] = Pipe();
    try {
      assert.equal(await a.poll(0), false);
      assert.equal(await a.poll(10), false);
      using p = await spawnChild(kind, "dontMerge", b);
      assert.equal(dec.decode(await a.recvBytes()), "a");
      assert.equal(await a.poll(1000), true);
      assert.equal(await a.poll(1000), true);
      assert.equal(dec.decode(await a.recvBytes()), "b");
      assert.equal(await a.poll(1000), true);
      assert.equal(await a.poll(1000), true);
      assert.equal(await a.poll(0), true);
      assert.equal(dec.decode(await a.recvBytes()), "cd");
      await p.join();
    } finally {
      a.close();
      b.close();
    }
  });
}

Deno.test("cpython _TestPoll.test_boundaries (a socket poll never splits a frame)", async () => {
  await using l = new Listener();
  const [r, w] = await Promise.all([l.accept(), Client(l.address)]);
  try {
    const polled = r.poll(5000);
    await w.sendBytes(enc.encode("first"));
    await w.sendBytes(enc.encode("second"));
    w.close();
    assert.equal(await polled, true);
    assert.equal(dec.decode(await r.recvBytes()), "first");
    assert.equal(dec.decode(await r.recvBytes()), "second");
  } finally {
    r.close();
    w.close();
  }
});

// ------------------------------------------------------------------------ TestWait

for (const kind of KINDS) {
  for (const slow of [false, true]) {
    Deno.test(`cpython TestWait.test_wait${slow ? "_slow" : ""} [${kind}]`, async () => {
      const readers: Connection[] = [];
      const children: { join(): Promise<unknown>; [Symbol.dispose](): void }[] =
        [];
      const ends: Connection[] = [];
      try {
        for (let i = 0; i < 4; i++) {
          const [r, w] = Pipe(false);
          ends.push(r, w);
          children.push(await spawnChild(kind, "waitChild", w, i, slow));
          readers.push(r);
        }
        const messages: [number, number][] = [];
        let live = [...readers];
        for (let rounds = 0; live.length > 0; rounds++) {
          assert.ok(rounds < 10_000, "bounded");
          for (const r of await deadline(wait(live), 10_000, "wait")) {
            try {
              messages.push(await r.recv<[number, number]>());
            } catch (e) {
              assert.ok(e instanceof EOFError, String(e));
              live = live.filter((x) => x !== r);
              r.close();
            }
          }
        }
        const key = (m: [number, number]) => m[1] * 100 + m[0];
        messages.sort((x, y) => key(x) - key(y));
        const expected: [number, number][] = [];
        for (let id = 0; id < 4; id++) {
          for (let i = 0; i < 10; i++) expected.push([i, id]);
        }
        assert.deepEqual(messages, expected);
        for (const c of children) await c.join();
      } finally {
        for (const c of children) c[Symbol.dispose]();
        for (const c of ends) c.close();
      }
    });
  }
}

Deno.test("cpython TestWait.test_wait_socket", async () => {
  await using l = new Listener();
  const clients = await Promise.all(
    Array.from({ length: 4 }, () => Client(l.address)),
  );
  const readers = await Promise.all(clients.map(() => l.accept()));
  try {
    const writing = clients.map(async (c) => {
      for (let i = 0; i < 10; i++) {
        await c.sendBytes(enc.encode(`${i}
`));
      }
      c.close();
    });
    const got = new Map<Connection, string>(readers.map((r) => [r, ""]));
    let live = [...readers];
    for (let rounds = 0; live.length > 0; rounds++) {
      assert.ok(rounds < 10_000, "bounded");
      for (const r of await deadline(wait(live), 10_000, "wait")) {
        try {
          got.set(r, got.get(r)! + dec.decode(await r.recvBytes()));
        } catch (e) {
          assert.ok(e instanceof EOFError, String(e));
          live = live.filter((x) => x !== r);
        }
      }
    }
    await Promise.all(writing);
    const expected = Array.from({ length: 10 }, (_, i) =>
      `${i}
`).join("");
    for (const v of got.values()) assert.equal(v, expected);
  } finally {
    for (const c of [...clients, ...readers]) c.close();
  }
});

Deno.test("cpython TestWait.test_wait_timeout", async () => {
  const [a, b] = Pipe();
  try {
    assert.deepEqual(await wait([a, b], 50), []);
    await b.send(null);
    assert.deepEqual(await deadline(wait([a, b], 20_000), 5000, "wait"), [a]);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("cpython TestWait.test_neg_timeout", async () => {
  const [a, b] = Pipe();
  try {
    assert.deepEqual(await deadline(wait([a], -1), 1000, "wait(-1)"), []);
  } finally {
    a.close();
    b.close();
  }
});

// ----------------------------------------------------------------------- OtherTest

/**
 * CPython's _FakeConnection: a Pipe() end whose peer has the scripted replies
 * queued in advance (then closes); what we write is never read.
 */
async function fakeConnection(
  replies: Uint8Array[],
): Promise<Connection & { peer: Connection }> {
  const [conn, peer] = Pipe();
  for (const r of replies) await peer.sendBytes(r);
  peer.close();
  return Object.assign(conn, { peer });
}

Deno.test("cpython OtherTest.test_deliver_challenge_auth_failure", async () => {
  const conn = await fakeConnection(
    Array(5).fill(enc.encode("something bogus")),
  );
  const e = await rejection(deliverChallenge(conn, enc.encode("abc")));
  assert.ok(e instanceof AuthenticationError, String(e));
  conn.close();
});

Deno.test("cpython OtherTest.test_answer_challenge_auth_failure", async () => {
  const conn = await fakeConnection([
    enc.encode("#CHALLENGE#"),
    enc.encode("something bogus"),
    new Uint8Array(0),
  ]);
  const e = await rejection(answerChallenge(conn, enc.encode("abc")));
  assert.ok(e instanceof AuthenticationError, String(e));
  conn.close();
});

Deno.test("cpython OtherTest (extended): answerChallenge with a proper challenge but a bogus verdict", async () => {
  const conn = await fakeConnection([
    enc.encode("#CHALLENGE#{sha256}" + "x".repeat(40)),
    enc.encode("something bogus"),
  ]);
  const e = await rejection(answerChallenge(conn, enc.encode("abc")));
  assert.ok(e instanceof AuthenticationError, String(e));
  assert.match((e as Error).message, /rejected/i);
  conn.close();
});

// ----------------------------------------------------------- ChallengeResponseTest

Deno.test("cpython ChallengeResponseTest.test_challengeresponse", async () => {
  await loadCrypto();
  const authkey = enc.encode("supadupasecretkey");
  for (const algo of [undefined, "md5", "sha256"]) {
    const prefix = algo ? `{${algo}}` : "";
    const msg = enc.encode(prefix + "is-twenty-bytes-long");
    const response = createResponse(authkey, msg);
    assert.ok(
      dec.decode(response.subarray(0, prefix.length)) === prefix,
      `algo=${algo}`,
    );
    verifyResponse(authkey, msg, response);
  }
});
