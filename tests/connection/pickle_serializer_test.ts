// `serializer: "pickle"` (API.md §7) on Pipe, Listener and Client: send()/
// recv() carry pickles, sendBytes()/recvBytes() are unchanged, a refused
// pickle rejects recv() with UnpicklingError with the frame consumed and the
// connection still usable, and bad `pickle` options are refused up front.

import assert from "node:assert/strict";
import { Client, Listener, Pipe } from "../../connection/mod.ts";
import { codecFor } from "../../connection/_serializer.ts";
import {
  dumps,
  isTuple,
  loads,
  tuple,
  UnpicklingError,
} from "../../pickle/mod.ts";
import { rejection, unhex } from "./_helpers.ts";

Deno.test("pickle serializer: Pipe send() writes a protocol 4 pickle, recv() reads it", async () => {
  const [a, b] = Pipe(true, { serializer: "pickle" });
  try {
    const value = new Map<unknown, unknown>([["a", tuple(1, 2n ** 64n)]]);
    await a.send(value);
    const frame = await b.recvBytes();
    assert.deepEqual([frame[0], frame[1]], [0x80, 4]);
    assert.deepEqual(loads(frame), value);
    await b.send({ x: [1.5, null] });
    const back = await a.recv<Map<string, unknown>>();
    assert.ok(back instanceof Map);
    assert.deepEqual(back.get("x"), [1.5, null]);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("pickle serializer: the pickle options reach send() and recv()", async () => {
  const [a, b] = Pipe(true, {
    serializer: "pickle",
    pickle: { protocol: 2, bigints: true },
  });
  try {
    await a.send(tuple(7n, 7));
    const frame = await b.recvBytes();
    assert.equal(frame[1], 2);
    await a.sendBytes(frame);
    const v = await b.recv<unknown[]>();
    // bigints: the int 7 is 7n, the JS number 7 was written as float 7.0.
    assert.ok(isTuple(v));
    assert.deepEqual([...v], [7n, 7]);
    assert.equal(typeof v[1], "number");
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("pickle serializer: a refused pickle rejects recv() with UnpicklingError; the next message arrives", async () => {
  const [a, b] = Pipe(true, { serializer: "pickle" });
  try {
    // pickle.dumps(os.system, 4) on Linux.
    await a.sendBytes(
      unhex("80049514000000000000008c05706f736978948c0673797374656d9493942e"),
    );
    await a.sendBytes(new Uint8Array([0x80, 0x04, 0x4e])); // no STOP
    await a.send("after");
    const first = await rejection(b.recv());
    assert.ok(first instanceof UnpicklingError);
    assert.match(first.message, /global posix\.system is not allowed/);
    const second = await rejection(b.recv());
    assert.ok(second instanceof UnpicklingError);
    assert.equal(await b.recv(), "after");
    assert.equal(b.closed, false);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("pickle serializer: an unpicklable value rejects send() with a TypeError; nothing is written", async () => {
  const [a, b] = Pipe(true, { serializer: "pickle" });
  try {
    const err = await rejection(a.send({ f: () => 1 }));
    assert.ok(err instanceof TypeError);
    assert.match(err.message, /\$\.f is a function/);
    await a.send(1);
    assert.equal(await b.recv(), 1);
    assert.equal(await b.poll(0), false);
  } finally {
    a.close();
    b.close();
  }
});

for (const family of ["AF_INET", "AF_UNIX"] as const) {
  Deno.test(`pickle serializer: Listener and Client over ${family}, with an authkey`, async () => {
    await using listener = new Listener({
      family,
      authkey: "k",
      serializer: "pickle",
    });
    const accepted = listener.accept();
    await using client = await Client(listener.address, {
      authkey: "k",
      serializer: "pickle",
      pickle: { protocol: 5 },
    });
    await using server = await accepted;
    await client.send([new Set([1]), new Uint8Array([1, 2])]);
    const got = await server.recv<unknown[]>();
    assert.ok(got[0] instanceof Set && got[1] instanceof Uint8Array);
    // sendBytes/recvBytes are not pickled.
    await server.sendBytes(new Uint8Array([9]));
    assert.deepEqual(await client.recvBytes(), new Uint8Array([9]));
    // The Client's protocol option: 5.
    await client.send(null);
    const raw = await server.recvBytes();
    assert.deepEqual([...raw], [...dumps(null, { protocol: 5 })]);
  });
}

Deno.test("pickle serializer: bad pickle options are refused before any socket opens", async () => {
  const bad = { serializer: "pickle" as const, pickle: { protocol: 1 as 2 } };
  assert.throws(() => codecFor(bad), RangeError);
  assert.throws(
    () => Pipe(true, bad),
    /Cannot make a Pipe as 'pickle.protocol' must be 2, 3, 4 or 5: current value is 1/,
  );
  assert.throws(() => new Listener(bad), /Cannot listen as 'pickle.protocol'/);
  using listener = new Listener();
  const err = await rejection(Client(listener.address, bad));
  assert.ok(err instanceof RangeError);
  assert.throws(
    () =>
      Pipe(true, {
        serializer: "pickle",
        pickle: { bigints: 1 as unknown as boolean },
      }),
    /'pickle.bigints' must be a boolean/,
  );
});
