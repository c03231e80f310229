// CPython framing on the wire (cpython-wire.md §1), checked byte by byte
// against raw Deno sockets on both sides.

import assert from "node:assert/strict";
import { Client, type Connection, Listener } from "../../connection/mod.ts";
import { encode } from "../../_msgpack.ts";
import {
  closeQuietly,
  concat,
  deadline,
  enc,
  frame,
  header,
  longHeader,
  pattern,
  prng,
  rawConnect,
  readExactly,
  readRawFrame,
  writeAll,
} from "./_helpers.ts";

/** A Deno Listener's accepted Connection with a raw socket as the peer. */
async function rawPeer(
  family: "AF_INET" | "AF_UNIX" = "AF_INET",
): Promise<
  { listener: Listener; conn: Connection; raw: Deno.Conn } & AsyncDisposable
> {
  const listener = new Listener({ family });
  const [conn, raw] = await deadline(
    Promise.all([listener.accept(), rawConnect(listener.address)]),
    5000,
    "accept",
  );
  return {
    listener,
    conn,
    raw,
    [Symbol.asyncDispose]() {
      closeQuietly(raw);
      conn.close();
      listener.close();
      return Promise.resolve();
    },
  };
}

/** A raw Deno server socket with a Deno Client connected to it. */
async function rawServer(): Promise<
  { conn: Connection; raw: Deno.Conn } & AsyncDisposable
> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const [raw, conn] = await deadline(
      Promise.all([l.accept(), Client(l.addr as Deno.NetAddr)]),
      5000,
      "raw accept",
    );
    return {
      conn,
      raw,
      [Symbol.asyncDispose]() {
        closeQuietly(raw);
        conn.close();
        return Promise.resolve();
      },
    };
  } finally {
    l.close();
  }
}

Deno.test("framing: sendBytes writes a 4-byte big-endian length then the payload", async () => {
  await using p = await rawServer();
  const sizes = [0, 1, 5, 16383, 16384, 16385, 65535, 65536, 65537, 200_000];
  for (const n of sizes) {
    const data = pattern(n, n);
    const sent = p.conn.sendBytes(data);
    const h = await deadline(readExactly(p.raw, 4), 5000, `header of ${n}`);
    assert.deepEqual(h, header(n), `header for ${n} bytes`);
    if (n > 0) {
      const body = await deadline(readExactly(p.raw, n), 5000, `body of ${n}`);
      assert.deepEqual(body, data, `payload for ${n} bytes`);
    }
    await sent;
  }
});

Deno.test("framing: a zero-length message is the 4 bytes 00 00 00 00 and nothing else", async () => {
  await using p = await rawServer();
  await p.conn.sendBytes(new Uint8Array(0));
  await p.conn.sendBytes(new Uint8Array([7]));
  const got = await readExactly(p.raw, 9);
  assert.deepEqual(got, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1, 7]));
});

Deno.test("framing: send(obj) is sendBytes(msgpack(obj))", async () => {
  await using p = await rawServer();
  const value = { a: [1, 2, "three"], b: null };
  await p.conn.send(value);
  assert.deepEqual(await readRawFrame(p.raw), new Uint8Array(encode(value)));
});

Deno.test("framing: recvBytes parses frames split at every byte boundary", async () => {
  await using p = await rawPeer();
  const msgs = [new Uint8Array(0), enc.encode("hi"), pattern(300)];
  const wire = concat(...msgs.map((m) => frame(m)));
  const got = (async () => {
    const out: Uint8Array[] = [];
    for (let i = 0; i < msgs.length; i++) out.push(await p.conn.recvBytes());
    return out;
  })();
  for (let i = 0; i < wire.length; i++) {
    await writeAll(p.raw, wire.subarray(i, i + 1));
  }
  assert.deepEqual(await deadline(got, 5000, "split frames"), msgs);
});

Deno.test("framing: many frames in one write are all delivered, in order", async () => {
  await using p = await rawPeer("AF_UNIX");
  const msgs = Array.from({ length: 500 }, (_, i) => pattern(i % 97, i));
  await writeAll(p.raw, concat(...msgs.map((m) => frame(m))));
  for (const m of msgs) assert.deepEqual(await p.conn.recvBytes(), m);
});

Deno.test("framing: sizes around the read-buffer boundaries arrive intact", async () => {
  await using p = await rawPeer();
  const sizes = [
    48 * 1024 - 1,
    48 * 1024,
    48 * 1024 + 1,
    64 * 1024 - 4,
    64 * 1024,
    64 * 1024 + 1,
    3,
    1 << 20,
    7,
  ];
  const msgs = sizes.map((n, i) => pattern(n, i));
  const writer = writeAll(p.raw, concat(...msgs.map((m) => frame(m))));
  for (const m of msgs) {
    const got = await deadline(
      p.conn.recvBytes(),
      5000,
      `frame of ${m.length}`,
    );
    assert.equal(got.length, m.length);
    assert.deepEqual(got, m);
  }
  await writer;
});

Deno.test("framing: a 1 MiB frame trickling in random-size chunks is reassembled", async () => {
  await using p = await rawPeer();
  const rand = prng(42);
  const msg = pattern(1 << 20, 3);
  const wire = concat(frame(msg), frame("after"));
  const got = p.conn.recvBytes();
  const next = p.conn.recvBytes();
  let off = 0;
  while (off < wire.length) {
    const n = 1 + Math.floor(rand() * 100_000);
    await writeAll(p.raw, wire.subarray(off, off + n));
    off += n;
  }
  assert.deepEqual(await deadline(got, 10_000, "1 MiB"), msg);
  assert.deepEqual(await deadline(next, 5000, "after"), enc.encode("after"));
});

Deno.test("framing: the -1 + uint64 long form is accepted for any size (as CPython)", async () => {
  await using p = await rawPeer();
  await writeAll(
    p.raw,
    concat(
      longHeader(5),
      enc.encode("hello"),
      longHeader(0),
      longHeader(70_000),
      pattern(70_000),
      frame("x"),
    ),
  );
  assert.deepEqual(await p.conn.recvBytes(), enc.encode("hello"));
  assert.deepEqual(await p.conn.recvBytes(), new Uint8Array(0));
  assert.deepEqual(await p.conn.recvBytes(), pattern(70_000));
  assert.deepEqual(await p.conn.recvBytes(), enc.encode("x"));
});

Deno.test("framing: concurrent sends of mixed sizes never interleave and keep call order", async () => {
  await using p = await rawServer();
  const msgs = Array.from(
    { length: 60 },
    (_, i) => pattern(i % 3 === 0 ? 300_000 + i : i * 13, i),
  );
  const sends = Promise.all(msgs.map((m) => p.conn.sendBytes(m)));
  for (const m of msgs) {
    const got = await deadline(readRawFrame(p.raw), 5000, "frame");
    assert.deepEqual(got, m);
  }
  await sends;
});

Deno.test("framing: a poll() during a large recv does not steal bytes from it", async () => {
  await using p = await rawPeer();
  const big = pattern(1 << 20, 9);
  const wire = concat(frame(big), frame("tail"));
  // Header and a first part: the receive is now reading the large payload.
  await writeAll(p.raw, wire.subarray(0, 100_000));
  const got = p.conn.recvBytes();
  // Let the receive start its direct reads of the payload.
  const polled = p.conn.poll(1);
  await writeAll(p.raw, wire.subarray(100_000, 400_000));
  await polled;
  const polled2 = p.conn.poll(1);
  await writeAll(p.raw, wire.subarray(400_000));
  await polled2;
  assert.deepEqual(await deadline(got, 3000, "large recv"), big);
  assert.deepEqual(
    await deadline(p.conn.recvBytes(), 5000, "tail"),
    enc.encode("tail"),
  );
});

/** A size from a distribution that hits the channel's internal boundaries. */
function randomSize(rand: () => number): number {
  const r = rand();
  if (r < 0.4) return Math.floor(rand() * 64);
  if (r < 0.6) return Math.floor(rand() * 4096);
  if (r < 0.8) {
    const edges = [16384, 48 * 1024, 64 * 1024, 128 * 1024];
    return Math.max(
      0,
      edges[Math.floor(rand() * edges.length)]! + Math.floor(rand() * 9) - 4,
    );
  }
  return Math.floor(rand() * 300_000);
}

Deno.test("framing: seeded random frames, split points and receive calls (raw writer -> Connection)", async () => {
  await using p = await rawPeer();
  const rand = prng(7);
  const N = 600;
  const frames = Array.from(
    { length: N },
    (_, i) => pattern(randomSize(rand), i),
  );
  const wire = concat(...frames.map((f) => frame(f)));
  const writing = (async () => {
    let off = 0;
    while (off < wire.length) {
      const n = 1 + Math.floor(rand() * (rand() < 0.5 ? 100 : 200_000));
      await writeAll(p.raw, wire.subarray(off, off + n));
      off += n;
    }
  })();
  const kept: Uint8Array[] = [];
  for (let i = 0; i < N; i++) {
    const how = i % 4;
    if (how === 3) await p.conn.poll(0);
    let got: Uint8Array;
    if (how === 1) {
      const buf = new Uint8Array(frames[i]!.length + 8);
      const n = await deadline(
        p.conn.recvBytesInto(buf, 8),
        10_000,
        `frame ${i}`,
      );
      got = buf.subarray(8, 8 + n);
    } else {
      got = await deadline(p.conn.recvBytes(), 10_000, `frame ${i}`);
    }
    kept.push(got);
  }
  await writing;
  for (let i = 0; i < N; i++) {
    assert.deepEqual(kept[i], frames[i], `frame ${i}`);
  }
});

Deno.test("framing: seeded random concurrent sends (Connection -> raw reader) arrive byte-exact", async () => {
  await using p = await rawServer();
  const rand = prng(11);
  const N = 400;
  const frames = Array.from(
    { length: N },
    (_, i) => pattern(randomSize(rand), i + 1),
  );
  const reading = (async () => {
    const out: Uint8Array[] = [];
    for (let i = 0; i < N; i++) {
      out.push(
        (await deadline(readRawFrame(p.raw), 10_000, `raw frame ${i}`))!,
      );
    }
    return out;
  })();
  // Bursts of sends issued without awaiting, separated by awaited ones.
  const sends: Promise<void>[] = [];
  for (let i = 0; i < N; i++) {
    const s = p.conn.sendBytes(frames[i]!);
    sends.push(s);
    if (rand() < 0.1) await s;
  }
  await Promise.all(sends);
  const got = await reading;
  for (let i = 0; i < N; i++) assert.deepEqual(got[i], frames[i], `frame ${i}`);
});
