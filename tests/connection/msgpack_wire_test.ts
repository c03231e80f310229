// The hand-written msgpack codec (_msgpack_codec.ts via _msgpack.ts) writes
// the bytes msgpackr 1.11.5 wrote (fixtures recorded from it), reads them
// back, and refuses what is not one valid value.

import assert from "node:assert/strict";
import { decode, encode } from "../../_msgpack.ts";
import { corpus } from "./_msgpack_corpus.ts";

const fixtures: Record<string, string> = JSON.parse(
  await Deno.readTextFile(
    new URL("./fixtures/msgpack_bytes.json", import.meta.url),
  ),
);

const hex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** The fixture form: hex, or `length:head:sha256` for long encodings. */
async function recorded(bytes: Uint8Array): Promise<string> {
  const h = hex(bytes);
  if (h.length <= 1024) return h;
  const d = await crypto.subtle.digest("SHA-256", bytes.slice());
  return `${bytes.length}:${h.slice(0, 32)}:${hex(new Uint8Array(d))}`;
}

Deno.test("msgpack wire: every corpus value encodes to the bytes msgpackr wrote", async () => {
  assert.deepEqual(Object.keys(fixtures).sort(), Object.keys(corpus).sort());
  for (const [name, make] of Object.entries(corpus)) {
    assert.equal(await recorded(encode(make())), fixtures[name], name);
  }
});

Deno.test("msgpack wire: every corpus value decodes, and plain data re-encodes to the same bytes", () => {
  const reshaped = new Set([
    "map", // non-string keys become property names
    "int -0",
    "toJSON instance",
    "set",
    "error",
    "regexp",
    "class instance",
    "uint8clampedarray",
    "int8array",
    "arraybuffer",
    "uint8array subarray",
    "object null proto",
    "str lone surrogate long",
  ]);
  for (const [name, make] of Object.entries(corpus)) {
    const bytes = encode(make()).slice();
    const back = decode(bytes);
    if (!reshaped.has(name) && !name.startsWith("map ")) {
      assert.equal(hex(encode(back)), hex(bytes), name);
    }
  }
});

Deno.test("msgpack wire: round-trips reshape as the module documents", () => {
  const rt = (v: unknown) => decode(encode(v));
  assert.deepEqual(
    rt(new Map<unknown, unknown>([["a", 1], [2, "b"], [true, null]])),
    {
      a: 1,
      "2": "b",
      true: null,
    },
  );
  assert.deepEqual(rt(new Set([1, "x"])), [1, "x"]);
  assert.deepEqual(rt(new TypeError("bad")), ["TypeError", "bad", undefined]);
  assert.deepEqual(rt(/a+/g), ["a+", "g"]);
  assert.deepEqual(
    rt(new Uint16Array([1, 256])),
    new Uint8Array(new Uint16Array([1, 256]).buffer),
  );
  assert.deepEqual(
    rt(new Float64Array([1.5])),
    new Uint8Array(new Float64Array([1.5]).buffer),
  );
  assert.deepEqual(
    rt(new DataView(new Uint8Array([4, 5]).buffer)),
    new Uint8Array([4, 5]),
  );
  assert.deepEqual(
    rt(new Uint8Array([1, 2, 3, 4]).subarray(1, 3)),
    new Uint8Array([2, 3]),
  );
  for (
    const t of [
      0,
      1_700_000_000_000,
      1_700_000_000_123,
      -1500,
      -86_400_000,
      2 ** 32 * 1000 + 5,
    ]
  ) {
    assert.equal((rt(new Date(t)) as Date).getTime(), t, `date ${t}`);
  }
  assert.ok(Number.isNaN((rt(new Date(NaN)) as Date).getTime()));
  assert.equal(rt(undefined), undefined);
  assert.deepEqual(rt([1, , 3]), [1, undefined, 3]);
  assert.equal(rt(2n ** 64n - 1n), 2n ** 64n - 1n);
  assert.equal(rt(-(2n ** 63n)), -(2n ** 63n));
  for (
    const s of [
      "a\ud800b",
      "\udc00",
      "é".repeat(40),
      "✓".repeat(1000),
      "a😀b".repeat(20),
    ]
  ) {
    assert.equal(rt(s), s);
  }
  assert.equal(rt("a".repeat(70) + "\ud800"), "a".repeat(70) + "\ufffd");
  const wide = Object.fromEntries(
    Array.from({ length: 70_000 }, (_, i) => [`k${i}`, i]),
  );
  const bytes = encode(wide);
  assert.equal(bytes[0], 0xdf, "more than 65535 keys take a map32");
  assert.deepEqual(decode(bytes), wide);
  assert.deepEqual(rt({ ["__proto__"]: 1 }), JSON.parse('{"__proto_":1}'));
  const own = JSON.parse('{"__proto__":{"polluted":1}}');
  assert.equal(Object.getPrototypeOf(rt(own)), Object.prototype);
});

Deno.test("msgpack wire: decoded bytes own their memory; encoded bytes are never overwritten", () => {
  const frame = encode({ b: new Uint8Array([9, 8, 7]), pad: "x".repeat(100) });
  const out = decode(frame) as { b: Uint8Array };
  assert.equal(out.b.constructor, Uint8Array);
  assert.equal(out.b.buffer.byteLength, 3);
  const first = encode([1, "one"]);
  const copy = first.slice();
  for (let i = 0; i < 2000; i++) encode({ i, s: "y".repeat(i % 300) });
  encode(new Uint8Array(3 << 20));
  assert.deepEqual(first, copy);
});

Deno.test("msgpack wire: a toJSON() that itself encodes does not corrupt the outer value", () => {
  class Nested {
    toJSON() {
      return { inner: encode([1, 2, 3]) };
    }
  }
  assert.deepEqual(decode(encode({ a: new Nested(), z: "end" })), {
    a: { inner: new Uint8Array([0x93, 1, 2, 3]) },
    z: "end",
  });
});

Deno.test("msgpack wire: bad input is a SyntaxError (unknown extensions, huge lengths, bad keys, truncation)", () => {
  const bad: number[][] = [
    [0xd4, 0x73, 0x00], // msgpackr's Set extension: not read here
    [0xd4, 0x72, 0x40], // msgpackr's record definition
    [0xc7, 0x02, 0x74, 0x00, 0x00], // msgpackr's typed-array extension
    [0xdd, 0xff, 0xff, 0xff, 0xff], // a 4G-element array in 5 bytes
    [0xdf, 0xff, 0xff, 0xff, 0xff],
    [0xc6, 0xff, 0xff, 0xff, 0xff, 0x00],
    [0xdb, 0x00, 0x00, 0x01, 0x00, 0x61],
    [0x81, 0x90, 0x01], // an array as a map key
    [0x81, 0xa1], // a key cut short
    [0xcb, 0x00, 0x00],
    [0xd3, 0x00],
    [0xd9],
    [0x81],
  ];
  for (const b of bad) {
    assert.throws(() => decode(new Uint8Array(b)), SyntaxError, `bytes ${b}`);
  }
  // Every prefix of a valid frame is refused, never misread.
  const full = encode({
    a: [1, 2.5, "s", new Uint8Array([1]), new Date(5), 7n],
  });
  for (let n = 0; n < full.length; n++) {
    assert.throws(
      () => decode(full.subarray(0, n)),
      SyntaxError,
      `prefix ${n}`,
    );
  }
});

Deno.test("msgpack wire: non-string keys become property names", () => {
  // {1: "a", true: "b", null: "c", 1.5: "d"} written by another encoder.
  const bytes = new Uint8Array([
    0x84,
    0x01,
    0xa1,
    0x61,
    0xc3,
    0xa1,
    0x62,
    0xc0,
    0xa1,
    0x63,
    0xcb,
    0x3f,
    0xf8,
    0,
    0,
    0,
    0,
    0,
    0,
    0xa1,
    0x64,
  ]);
  assert.deepEqual(decode(bytes), {
    "1": "a",
    true: "b",
    null: "c",
    "1.5": "d",
  });
});
