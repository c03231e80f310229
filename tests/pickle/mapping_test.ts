// The API.md §7 mapping on our side alone (interop_test.ts checks it
// against CPython): what dumps() writes for JS values and what loads() gives.

import assert from "node:assert/strict";
import {
  dumps,
  frozenset,
  isFrozenset,
  isTuple,
  loads,
  tuple,
} from "../../pickle/mod.ts";
import { hex, p4, sbu } from "./_helpers.ts";

const back = (v: unknown, bigints = false) =>
  loads(dumps(v, { bigints }), { bigints });

Deno.test("mapping: undefined is None; plain objects are dicts with string keys", () => {
  assert.equal(back(undefined), null);
  const d = back({ a: 1, "b c": [undefined] }) as Map<string, unknown>;
  assert.ok(d instanceof Map);
  assert.deepEqual([...d], [["a", 1], ["b c", [null]]]);
  // A '__proto__' key is data: a Map key, never a prototype.
  const evil = loads(p4(0x7d, ...sbu("__proto__"), 0x7d, 0x73, 0x2e)) as Map<
    string,
    unknown
  >;
  assert.ok(evil.get("__proto__") instanceof Map);
  assert.equal(Object.getPrototypeOf(evil), Map.prototype);
});

Deno.test("mapping: ints and floats, with and without bigints", () => {
  assert.equal(hex(dumps(2)), "80044b022e"); // int 2
  assert.ok(hex(dumps(2, { bigints: true })).endsWith("4740000000000000002e")); // float 2.0
  assert.ok(hex(dumps(-0)).endsWith("4780000000000000002e")); // float -0.0
  assert.equal(back(2 ** 53), 2n ** 53n); // past the safe range: bigint
  assert.equal(back(2 ** 53 - 1), 2 ** 53 - 1);
  assert.equal(back(-(2n ** 70n)), -(2n ** 70n));
  assert.equal(back(5, true), 5); // a float stays a number
  assert.equal(back(5n, true), 5n); // an int stays a bigint
  assert.ok(Object.is(back(-0), -0));
  assert.ok(Number.isNaN(back(NaN)));
});

Deno.test("mapping: strings keep lone surrogates and a leading BOM", () => {
  for (
    const s of [
      "\ud800",
      "a\udfffb",
      "\ufeff",
      "\ufeffx",
      "😀",
      "é".repeat(200),
      "x".repeat(70_000),
    ]
  ) {
    assert.equal(back(s), s);
    for (const protocol of [2, 3, 5] as const) {
      assert.equal(loads(dumps(s, { protocol })), s);
    }
  }
});

Deno.test("mapping: tuples are frozen arrays (Object.freeze too), frozensets branded Sets", () => {
  assert.ok(isTuple(back(tuple(1, 2))));
  assert.ok(isTuple(back(Object.freeze([1, 2]))));
  assert.ok(!isTuple(back([1, 2])));
  const t = loads(dumps(tuple(1))) as unknown[];
  assert.ok(Object.isFrozen(t));
  assert.ok(isFrozenset(back(frozenset([1]))));
  assert.ok(!isFrozenset(back(new Set([1]))));
});

Deno.test("mapping: typed arrays and ArrayBuffer are bytes; a read bytearray is written back as one", () => {
  assert.deepEqual(
    back(new Int16Array([1, -1])),
    new Uint8Array([1, 0, 0xff, 0xff]),
  );
  assert.deepEqual(back(new Uint8Array([1, 2]).buffer), new Uint8Array([1, 2]));
  const ba = loads(
    p4(0x96, 2, 0, 0, 0, 0, 0, 0, 0, 0x61, 0x62, 0x2e),
  ) as Uint8Array;
  for (const protocol of [2, 3, 4, 5] as const) {
    const again = loads(dumps(ba, { protocol }));
    assert.ok(again instanceof Uint8Array && again.length === 2);
    // Protocol 5 writes BYTEARRAY8; 2–4 write builtins.bytearray(...).
    const bytes = dumps(ba, { protocol });
    if (protocol === 5) assert.ok(bytes.includes(0x96));
    else assert.ok(new TextDecoder().decode(bytes).includes("bytearray"));
  }
});

Deno.test("mapping: many distinct short keys read back exactly (the short-string cache)", () => {
  const m = new Map<string, number>();
  for (let i = 0; i < 20_000; i++) m.set(`k${i.toString(36)}`, i);
  const got = back(m) as Map<string, number>;
  assert.deepEqual([...got], [...m]);
});

Deno.test("mapping: dumps() refuses a protocol outside 2–5", () => {
  assert.throws(() => dumps(1, { protocol: 1 as 2 }), RangeError);
  assert.throws(() => dumps(1, { protocol: 6 as 2 }), /use 2, 3, 4 or 5/);
});
