// The msgpack codec (_msgpack.ts) alone and through send()/recv().

import assert from "node:assert/strict";
import { checkSerializable, decode, encode } from "../../_msgpack.ts";
import { Pipe } from "../../connection/mod.ts";
import { connectedPair } from "./_helpers.ts";

Deno.test("codec: round-trips every supported kind of value", () => {
  const values: unknown[] = [
    null,
    true,
    false,
    0,
    -1,
    2 ** 31,
    -(2 ** 40),
    1.5,
    Number.MAX_SAFE_INTEGER,
    "",
    "héllo ✓",
    "x".repeat(70_000),
    [],
    [1, [2, [3, []]]],
    {},
    { a: 1, b: { c: [true, null] } },
    { "weird key": 1, "": 2, "0": 3 },
    new Uint8Array([0, 1, 254, 255]),
  ];
  for (const v of values) assert.deepEqual(decode(encode(v)), v);
});

Deno.test("codec: bytes arrive as a plain Uint8Array, typed arrays as their bytes", () => {
  const out = decode(encode({ b: new Uint8Array([9, 8]) })) as {
    b: Uint8Array;
  };
  assert.equal(out.b.constructor, Uint8Array);
  assert.deepEqual(out.b, new Uint8Array([9, 8]));
  const f = decode(encode(new Uint16Array([1]))) as Uint8Array;
  assert.ok(f instanceof Uint8Array);
});

Deno.test("codec: 64-bit bigints round-trip, wider ones are refused with the path", () => {
  const big = 2n ** 63n - 1n;
  const back = decode(encode(big));
  assert.equal(BigInt(back as bigint), big);
  assert.throws(() => encode({ n: [2n ** 64n] }), (e: unknown) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /\$\.n\[0\]/);
    return true;
  });
});

Deno.test("codec: functions, symbols and cycles are refused with a TypeError naming the path", () => {
  const cyc: Record<string, unknown> = { a: 1 };
  cyc.self = cyc;
  const cases: [unknown, RegExp][] = [
    [{ a: [1, function named() {}] }, /\$\.a\[1\].*function/],
    [{ s: Symbol("x") }, /\$\.s.*symbol/],
    [cyc, /\$\.self.*cycle/],
    [{ "bad key": () => 1 }, /\$\["bad key"\]/],
    [() => 1, /\$ .*function/],
  ];
  for (const [v, re] of cases) {
    assert.throws(() => encode(v), (e: unknown) => {
      assert.ok(e instanceof TypeError, String(e));
      assert.match(e.message, re);
      return true;
    });
    assert.throws(() => checkSerializable(v), TypeError);
  }
});

Deno.test("codec: a shared (non-cyclic) reference is not a cycle", () => {
  const shared = { x: 1 };
  assert.deepEqual(decode(encode([shared, shared])), [{ x: 1 }, { x: 1 }]);
});

Deno.test("codec: decode rejects 0xc1, trailing bytes, truncation and empty input with SyntaxError", () => {
  for (
    const bad of [
      [0xc1],
      [0x91, 0xc1],
      [0x01, 0x02],
      [0x92, 0x01],
      [],
      [0xdb, 0xff, 0xff, 0xff, 0xff],
    ]
  ) {
    assert.throws(
      () => decode(new Uint8Array(bad)),
      SyntaxError,
      `bytes ${bad}`,
    );
  }
});

Deno.test('codec: a pickle (a CPython peer\'s send()) is refused naming serializer: "pickle"', () => {
  // pickle.dumps({"a": 1}, protocol=4) from CPython 3.11
  const pickled = new Uint8Array([
    0x80,
    0x04,
    0x95,
    0x0a,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0x7d,
    0x94,
    0x8c,
    0x01,
    0x61,
    0x94,
    0x4b,
    0x01,
    0x73,
    0x2e,
  ]);
  assert.throws(
    () => decode(pickled),
    (e: unknown) =>
      e instanceof SyntaxError &&
      /^Cannot decode the message as it is not one valid msgpack value: .*it is a pickle .*pass `serializer: "pickle"`/
        .test(e.message),
  );
  // other garbage gets no pickle hint
  assert.throws(
    () => decode(new Uint8Array([0x01, 0x02])),
    (e: unknown) => e instanceof SyntaxError && !/pickle/.test(e.message),
  );
});

Deno.test("codec: nesting deeper than the limit is refused, not a stack overflow", () => {
  let deep: unknown = 1;
  for (let i = 0; i < 10_000; i++) deep = [deep];
  assert.throws(() => encode(deep), TypeError);
  // A hand-built 10k-deep msgpack array: 0x91 repeated, then 0x01.
  const bytes = new Uint8Array(10_001).fill(0x91);
  bytes[10_000] = 0x01;
  assert.throws(() => decode(bytes));
});

Deno.test("codec: send() of a non-serializable value names the path and leaves the connection usable (Pipe)", async () => {
  const [a, b] = Pipe();
  try {
    const err = await a.send({ ok: 1, f: [0, () => 0] }).then(
      () => null,
      (e) => e,
    );
    assert.ok(err instanceof TypeError, String(err));
    assert.match(err.message, /\$\.f\[1\]/);
    assert.equal(await b.poll(0), false, "nothing was written");
    await a.send("still fine");
    assert.equal(await b.recv(), "still fine");
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("codec: send() of a non-serializable value names the path and leaves the connection usable (TCP)", async () => {
  await using p = await connectedPair();
  const cyc: unknown[] = [];
  cyc.push(cyc);
  const err = await p.client.send({ list: cyc }).then(() => null, (e) => e);
  assert.ok(err instanceof TypeError, String(err));
  assert.match(err.message, /\$\.list\[0\]/);
  await p.client.send({ after: true });
  assert.deepEqual(await p.server.recv(), { after: true });
});

Deno.test("codec: a malformed msgpack payload rejects that recv() only (0xc1, trailing bytes)", async () => {
  await using p = await connectedPair();
  await p.client.sendBytes(new Uint8Array([0xc1]));
  await p.client.sendBytes(new Uint8Array([0x01, 0x02]));
  await p.client.sendBytes(new Uint8Array([0x92, 0x01]));
  await p.client.send("next");
  for (let i = 0; i < 3; i++) {
    const e = await p.server.recv().then(() => null, (e) => e);
    assert.ok(e instanceof SyntaxError, `frame ${i}: ${e}`);
  }
  assert.equal(p.server.closed, false);
  assert.equal(await p.server.recv(), "next");
  await p.server.send("reply");
  assert.equal(await p.client.recv(), "reply");
});

Deno.test("codec: -0 arrives as 0 (documented deviation: msgpack has no negative zero integer)", () => {
  assert.ok(Object.is(decode(encode(-0)), 0));
  assert.ok(
    Object.is(decode(encode(-0.5)), -0.5),
    "other negative floats keep their sign",
  );
});
