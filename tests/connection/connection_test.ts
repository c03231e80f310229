// Connection behaviour, over every transport: TCP, Unix socket and Pipe().

import assert from "node:assert/strict";
import {
  BufferTooShortError,
  Client,
  type Connection,
  EOFError,
  Listener,
  Pipe,
  wait,
} from "../../connection/mod.ts";
import {
  connectedPair,
  deadline,
  enc,
  pattern,
  prng,
  rejection,
} from "./_helpers.ts";

type Kind = "tcp" | "unix" | "pipe";
const KINDS: Kind[] = ["tcp", "unix", "pipe"];

/** A connected pair [a, b] of the given kind, plus a disposer for all of it. */
async function pairOf(
  kind: Kind,
  opts: { maxMessageSize?: number } = {},
): Promise<{ a: Connection; b: Connection } & AsyncDisposable> {
  if (kind === "pipe") {
    const [a, b] = Pipe();
    return {
      a,
      b,
      [Symbol.asyncDispose]() {
        a.close();
        b.close();
        return Promise.resolve();
      },
    };
  }
  const p = await connectedPair({
    family: kind === "unix" ? "AF_UNIX" : "AF_INET",
    ...opts,
  });
  return {
    a: p.client,
    b: p.server,
    [Symbol.asyncDispose]: () => p[Symbol.asyncDispose](),
  };
}

function each(name: string, fn: (kind: Kind) => Promise<void>) {
  for (const kind of KINDS) {
    Deno.test(`connection[${kind}]: ${name}`, () =>
      deadline(fn(kind), 15_000, name));
  }
}

each("send/recv carry structured values both ways, in order", async (kind) => {
  await using p = await pairOf(kind);
  const values = [
    0,
    "s",
    [1, [2]],
    { k: { v: null } },
    true,
    new Uint8Array([5]),
  ];
  for (const v of values) await p.a.send(v);
  for (const v of values) assert.deepEqual(await p.b.recv(), v);
  await p.b.send("back");
  assert.equal(await p.a.recv(), "back");
});

each(
  "recv() calls queued before the data arrive are served in call order",
  async (kind) => {
    await using p = await pairOf(kind);
    const r = [p.b.recv(), p.b.recv(), p.b.recv()];
    await p.a.send(1);
    await p.a.send(2);
    await p.a.send(3);
    assert.deepEqual(await Promise.all(r), [1, 2, 3]);
  },
);

each(
  "sendBytes honours offset and size; out-of-range values are RangeErrors",
  async (kind) => {
    await using p = await pairOf(kind);
    const buf = enc.encode("abcdefghij");
    await p.a.sendBytes(buf);
    await p.a.sendBytes(buf, 3);
    await p.a.sendBytes(buf, 3, 4);
    await p.a.sendBytes(buf, 10);
    await p.a.sendBytes(buf, 2, 0);
    await p.a.sendBytes(new Uint8Array(buf.buffer, 1, 4), 1, 2);
    const dec = new TextDecoder();
    assert.equal(dec.decode(await p.b.recvBytes()), "abcdefghij");
    assert.equal(dec.decode(await p.b.recvBytes()), "defghij");
    assert.equal(dec.decode(await p.b.recvBytes()), "defg");
    assert.equal((await p.b.recvBytes()).length, 0);
    assert.equal((await p.b.recvBytes()).length, 0);
    assert.equal(dec.decode(await p.b.recvBytes()), "cd");
    for (
      const [off, size] of [[-1, undefined], [11, undefined], [0, 11], [5, 6], [
        0,
        -1,
      ], [1.5, 1]]
    ) {
      const e = await rejection(
        (async () => await p.a.sendBytes(buf, off, size))(),
      );
      assert.ok(e instanceof RangeError, `offset ${off} size ${size}: ${e}`);
    }
    await p.a.sendBytes(buf, 9);
    assert.equal(
      dec.decode(await p.b.recvBytes()),
      "j",
      "nothing was sent by the bad calls",
    );
  },
);

each(
  "recvBytes(maxlength): a message that fits is returned; a longer one errors and closes the connection",
  async (kind) => {
    await using p = await pairOf(kind);
    await p.a.sendBytes(pattern(10));
    assert.equal((await p.b.recvBytes(10)).length, 10);
    await p.a.sendBytes(pattern(11));
    const e = await rejection(p.b.recvBytes(10));
    assert.ok(e instanceof Error && !(e instanceof EOFError), String(e));
    assert.equal(p.b.closed, true, "closed after a too-long message");
    assert.ok((await rejection(p.b.recvBytes())) instanceof Error);
    const neg = await rejection((async () => await p.b.recvBytes(-1))());
    assert.ok(neg instanceof Error);
  },
);

each(
  "recvBytes(-1) is a RangeError and the connection stays usable",
  async (kind) => {
    await using p = await pairOf(kind);
    const e = await rejection((async () => await p.b.recvBytes(-1))());
    assert.ok(e instanceof RangeError, String(e));
    await p.a.sendBytes(pattern(3));
    assert.deepEqual(await p.b.recvBytes(), pattern(3));
  },
);

each(
  "recvBytesInto writes at an offset; a too-short buffer gives BufferTooShortError with the whole message, consumed",
  async (kind) => {
    await using p = await pairOf(kind);
    const msg = enc.encode("hello");
    await p.a.sendBytes(msg);
    const buf = new Uint8Array(8).fill(0xee);
    assert.equal(await p.b.recvBytesInto(buf, 3), 5);
    assert.deepEqual(buf, new Uint8Array([0xee, 0xee, 0xee, ...msg]));

    await p.a.sendBytes(msg);
    await p.a.sendBytes(enc.encode("next"));
    const small = new Uint8Array(6);
    const e = await rejection(p.b.recvBytesInto(small, 2));
    assert.ok(e instanceof BufferTooShortError, String(e));
    assert.deepEqual(e.bytes, msg);
    assert.deepEqual(small, new Uint8Array(6), "the buffer is left untouched");
    assert.equal(p.b.closed, false);
    assert.equal(await p.b.recvBytesInto(small), 4);

    // Other typed arrays are written by bytes (CPython accepts any buffer).
    await p.a.sendBytes(new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]));
    const ints = new Int32Array(3);
    assert.equal(await p.b.recvBytesInto(ints as unknown as Uint8Array, 4), 8);
    assert.deepEqual(Array.from(ints), [0, 1, 2]);

    const bad = await rejection(
      (async () => await p.b.recvBytesInto(new Uint8Array(2), 3))(),
    );
    assert.ok(bad instanceof RangeError, String(bad));
  },
);

each(
  "poll(): false when idle, true once a message is there, a timed poll resolves false on timeout",
  async (kind) => {
    await using p = await pairOf(kind);
    assert.equal(await p.b.poll(0), false);
    const ready = p.b.poll();
    await p.a.send("x");
    assert.equal(await ready, true);
    assert.equal(await p.b.poll(0), true, "still there until received");
    assert.equal(await p.b.recv(), "x");
    assert.equal(await p.b.poll(0), false);
    assert.equal(await p.b.poll(20), false);
    const later = p.b.poll(5000);
    await p.a.sendBytes(new Uint8Array(0));
    assert.equal(await later, true);
    assert.equal((await p.b.recvBytes()).length, 0);
  },
);

each(
  "poll() reports the end of stream as ready; the next recv rejects with EOFError",
  async (kind) => {
    await using p = await pairOf(kind);
    const waiting = p.b.poll();
    p.a.close();
    assert.equal(await waiting, true);
    assert.equal(await p.b.poll(0), true);
    assert.ok((await rejection(p.b.recv())) instanceof EOFError);
    assert.ok((await rejection(p.b.recvBytes())) instanceof EOFError);
  },
);

each(
  "a recv pending when the peer closes rejects with EOFError",
  async (kind) => {
    await using p = await pairOf(kind);
    const pending = [p.b.recv(), p.b.recvBytes()].map((x) => rejection(x));
    p.a.close();
    for (const e of await Promise.all(pending)) {
      assert.ok(e instanceof EOFError, String(e));
    }
  },
);

each(
  "messages sent before close() (even not awaited) reach the peer before EOF",
  async (kind) => {
    await using p = await pairOf(kind);
    const big = pattern(300_000);
    const sends = [p.a.send("one"), p.a.sendBytes(big), p.a.send("three")];
    p.a.close();
    assert.equal(await p.b.recv(), "one");
    assert.deepEqual(await p.b.recvBytes(), big);
    assert.equal(await p.b.recv(), "three");
    assert.ok((await rejection(p.b.recv())) instanceof EOFError);
    for (const r of await Promise.allSettled(sends)) {
      assert.equal(r.status, "fulfilled");
    }
  },
);

each("concurrent sends never interleave and keep call order", async (kind) => {
  await using p = await pairOf(kind);
  const msgs = Array.from(
    { length: 40 },
    (_, i) => pattern(i % 4 === 0 ? 200_000 : i * 7, i),
  );
  const sent = Promise.all(
    msgs.map((m, i) => i % 2 ? p.a.sendBytes(m) : p.a.send(m)),
  );
  for (let i = 0; i < msgs.length; i++) {
    const got = i % 2 ? await p.b.recvBytes() : await p.b.recv();
    assert.deepEqual(got, msgs[i], `message ${i}`);
  }
  await sent;
});

each(
  "async iteration yields received values and ends without throwing when the peer closes",
  async (kind) => {
    await using p = await pairOf(kind);
    for (let i = 0; i < 5; i++) await p.a.send({ i });
    p.a.close();
    const got: unknown[] = [];
    for await (const v of p.b) got.push(v);
    assert.deepEqual(got, [0, 1, 2, 3, 4].map((i) => ({ i })));
  },
);

each(
  "close() is idempotent; after it every operation rejects and pending receives reject",
  async (kind) => {
    await using p = await pairOf(kind);
    const pending = rejection(p.b.recv());
    p.b.close();
    p.b.close();
    assert.equal(p.b.closed, true);
    assert.ok((await pending) instanceof Error);
    for (
      const op of [
        () => p.b.send(1),
        () => p.b.recv(),
        () => p.b.sendBytes(new Uint8Array(1)),
        () => p.b.recvBytes(),
        () => p.b.recvBytesInto(new Uint8Array(4)),
        () => p.b.poll(0),
      ]
    ) {
      const e = await rejection((async () => await op())());
      assert.ok(e instanceof Error, String(e));
    }
  },
);

each("await using closes the connection", async (kind) => {
  await using p = await pairOf(kind);
  {
    await using _a = p.a;
  }
  assert.equal(p.a.closed, true);
  assert.ok((await rejection(p.b.recv())) instanceof EOFError);
  await p.a[Symbol.asyncDispose](); // again: no throw
});

each("a 4 MiB message round-trips intact", async (kind) => {
  await using p = await pairOf(kind);
  const big = pattern(4 << 20, 1);
  const [, got] = await Promise.all([p.a.sendBytes(big), p.b.recvBytes()]);
  assert.deepEqual(got, big);
  const obj = { data: big, list: Array.from({ length: 1000 }, (_, i) => i) };
  const [, back] = await Promise.all([p.b.send(obj), p.a.recv()]);
  assert.deepEqual(back, obj);
});

each(
  "maxMessageSize: a longer message errors and closes that connection",
  async (kind) => {
    if (kind === "pipe") return; // Pipe() has no size option
    await using p = await pairOf(kind, { maxMessageSize: 1000 });
    await p.a.sendBytes(pattern(1000));
    assert.equal((await p.b.recvBytes()).length, 1000);
    await p.a.sendBytes(pattern(1001));
    const e = await rejection(p.b.recvBytes());
    assert.ok(e instanceof Error && !(e instanceof EOFError), String(e));
    assert.equal(p.b.closed, true);
  },
);

Deno.test("connection: Client({maxMessageSize}) limits what the client accepts", async () => {
  await using l = new Listener();
  const [server, client] = await Promise.all([
    l.accept(),
    Client(l.address, { maxMessageSize: 100 }),
  ]);
  try {
    await server.sendBytes(pattern(100));
    assert.equal((await client.recvBytes()).length, 100);
    await server.sendBytes(pattern(101));
    const e = await rejection(client.recv());
    assert.ok(e instanceof Error && !(e instanceof EOFError), String(e));
    assert.equal(client.closed, true);
  } finally {
    server.close();
    client.close();
  }
});

Deno.test("connection: a socket Connection cannot be transferred to another thread", async () => {
  const { encodeForPost } = await import("../../_transfer.ts");
  await using p = await connectedPair();
  assert.throws(() => encodeForPost({ c: p.client }), TypeError);
  await p.client.send("still usable");
  assert.equal(await p.server.recv(), "still usable");
});

Deno.test("connection: bad arguments reject, never throw synchronously, and send nothing", async () => {
  const [a, b] = Pipe();
  /** Passes only if `fn` returns a promise rejecting with `cls` (a synchronous throw fails). */
  const rejects = async (
    what: string,
    fn: () => Promise<unknown>,
    cls: ErrorConstructor,
  ) => {
    let p: Promise<unknown>;
    try {
      p = fn();
    } catch (e) {
      assert.fail(`${what}: threw ${e} synchronously instead of rejecting`);
    }
    assert.ok(p instanceof Promise, `${what}: returned no promise`);
    const e = await rejection(p, 5000, what);
    assert.ok(e instanceof cls, `${what}: ${e}`);
  };
  try {
    const buf = new Uint8Array(4);
    await rejects("sendBytes(buf, 5)", () => a.sendBytes(buf, 5), RangeError);
    await rejects(
      "sendBytes(buf, 0, 5)",
      () => a.sendBytes(buf, 0, 5),
      RangeError,
    );
    await rejects(
      "sendBytes(buf, 1.5)",
      () => a.sendBytes(buf, 1.5),
      RangeError,
    );
    await rejects("sendBytes('x')", () => a.sendBytes("x" as never), TypeError);
    await rejects("recvBytes(-1)", () => a.recvBytes(-1), RangeError);
    await rejects(
      "recvBytesInto(buf, 5)",
      () => a.recvBytesInto(buf, 5),
      RangeError,
    );
    await rejects(
      "recvBytesInto('x')",
      () => a.recvBytesInto("x" as never),
      TypeError,
    );
    await rejects("send(() => 1)", () => a.send(() => 1), TypeError);
    await rejects("Client('nonsense')", () => Client("nonsense"), TypeError);
    await rejects(
      "Client(addr, {timeout: -1})",
      () => Client("127.0.0.1:1", { timeout: -1 }),
      RangeError,
    );
    await rejects(
      "Client(addr, {authkey: 1})",
      () => Client("127.0.0.1:1", { authkey: 1 as never }),
      TypeError,
    );
    await rejects(
      "Client(addr, {family})",
      () => Client("127.0.0.1:1", { family: "AF_UNIX" }),
      TypeError,
    );
    await rejects("wait('x')", () => wait("x" as never), TypeError);
    // Nothing was sent by the refused calls: the next message is the first.
    await a.sendBytes(new Uint8Array([9]));
    assert.deepEqual(await b.recvBytes(), new Uint8Array([9]));
    assert.ok(!(await b.poll(0)));
  } finally {
    a.close();
    b.close();
  }
});

each(
  "received messages stay intact after later receives (no aliasing of a shared read buffer)",
  async (kind) => {
    await using p = await pairOf(kind);
    const kept: Uint8Array[] = [];
    const keptObjs: unknown[] = [];
    const expected: Uint8Array[] = [];
    const expectedObjs: unknown[] = [];
    for (let round = 0; round < 3; round++) {
      // A burst of frames that land together in the receiver's read buffer.
      const burst = Array.from(
        { length: 200 },
        (_, i) => pattern(1 + ((i * 37) % 700), round * 1000 + i),
      );
      const objs = burst.map((b, i) => ({
        i,
        round,
        b: b.subarray(0, 20),
        s: `r${round}-${i}`,
      }));
      await Promise.all([
        ...burst.map((b) => p.a.sendBytes(b)),
        ...objs.map((o) => p.a.send(o)),
      ]);
      for (let i = 0; i < burst.length; i++) kept.push(await p.b.recvBytes());
      for (let i = 0; i < objs.length; i++) keptObjs.push(await p.b.recv());
      expected.push(...burst.map((b) => b.slice()));
      expectedObjs.push(...objs.map((o) => ({ ...o, b: o.b.slice() })));
    }
    assert.equal(kept.length, expected.length);
    for (let i = 0; i < kept.length; i++) {
      assert.deepEqual(kept[i], expected[i], `message ${i}`);
    }
    assert.deepEqual(keptObjs, expectedObjs);
  },
);

each(
  "malformed msgpack payloads (0xc1, trailing bytes, truncated) reject that recv() only",
  async (kind) => {
    await using p = await pairOf(kind);
    for (const bad of [[0xc1], [0x01, 0x02], [0x92, 0x01], []]) {
      await p.a.sendBytes(new Uint8Array(bad));
    }
    await p.a.send({ after: "bad ones" });
    for (let i = 0; i < 4; i++) {
      const e = await rejection(p.b.recv());
      assert.ok(e instanceof SyntaxError, `payload ${i}: ${e}`);
    }
    assert.equal(p.b.closed, false);
    assert.deepEqual(await p.b.recv(), { after: "bad ones" });
  },
);

each(
  "seeded random objects of mixed sizes round-trip via send/recv and stay intact",
  async (kind) => {
    await using p = await pairOf(kind);
    const rand = prng(kind.length * 97);
    const objs = Array.from({ length: 300 }, (_, i) => {
      const r = rand();
      const n = r < 0.6
        ? Math.floor(rand() * 200)
        : r < 0.9
        ? 40_000 + Math.floor(rand() * 40_000)
        : 200_000;
      return {
        i,
        b: pattern(n, i),
        s: "x".repeat(i % 50),
        nested: [i, { k: -i - 1 }],
      };
    });
    const sending = Promise.all(objs.map((o) => p.a.send(o)));
    const got: unknown[] = [];
    for (let i = 0; i < objs.length; i++) {
      got.push(await deadline(p.b.recv(), 10_000, `object ${i}`));
    }
    await sending;
    assert.deepEqual(got, objs);
  },
);

each(
  "a received message owns its buffer: transferring or viewing msg.buffer cannot touch another message",
  async (kind) => {
    await using p = await pairOf(kind);
    await p.a.sendBytes(new Uint8Array([1, 2, 3]));
    await p.a.sendBytes(new Uint8Array([4, 5, 6]));
    const m1 = await p.b.recvBytes();
    const m2 = await p.b.recvBytes();
    // `new Float64Array(msg.buffer)`-style code sees exactly the message.
    assert.equal(m1.byteOffset, 0, "the message starts its buffer");
    assert.equal(
      m1.buffer.byteLength,
      m1.length,
      "the buffer holds only this message",
    );
    // Handing one message's buffer to a Worker (transfer) leaves the other intact.
    structuredClone(m1, { transfer: [m1.buffer as ArrayBuffer] });
    assert.deepEqual(Array.from(m2), [4, 5, 6]);
  },
);

each(
  "breaking out of async iteration leaves the connection open and in sync",
  async (kind) => {
    await using p = await pairOf(kind);
    for (let i = 0; i < 3; i++) await p.a.send(i);
    for await (const v of p.b) {
      assert.equal(v, 0);
      break;
    }
    assert.equal(p.b.closed, false);
    assert.equal(await p.b.recv(), 1);
    const rest: unknown[] = [];
    const loop = (async () => {
      for await (const v of p.b) rest.push(v);
    })();
    p.a.close();
    await deadline(loop, 3000, "iteration to EOF");
    assert.deepEqual(rest, [2]);
  },
);
