// Ports of CPython's _TestValue (test_value, test_rawvalue,
// test_getobj_getlock) and _TestArray (test_array, test_array_from_size,
// test_rawarray, test_getobj_getlock_obj), plus ctypes-like wrap-around.

import assert from "node:assert/strict";
import * as mp from "../../sharedmem/mod.ts";
import { Array as SharedArray } from "../../sharedmem/mod.ts";
import { workers } from "./_helpers.ts";

const CODES_VALUES: [mp.Typecode, number | bigint, number | bigint][] = [
  ["i", 4343, 24234],
  ["d", 3.625, -4.25],
  ["h", -232, 234],
  ["q", 2n ** 33n, 2n ** 34n],
  ["Q", 2 ** 40, 2n ** 63n + 5n],
  ["f", 0.5, -1.25],
  ["B", 200, 7],
];

for (const raw of [false, true]) {
  const name = raw ? "RawValue" : "Value";
  Deno.test(`${name}: a worker writes, this thread reads the same memory (CPython test_${raw ? "rawvalue" : "value"})`, async () => {
    await using ws = workers(1);
    const values = CODES_VALUES.map(([code, init]) =>
      raw ? new mp.RawValue(code, init) : new mp.Value(code, init)
    );
    for (const [i, v] of values.entries()) {
      const init = CODES_VALUES[i]![1];
      assert.equal(v.value, typeof v.value === "bigint" ? BigInt(init) : init);
    }
    const news = CODES_VALUES.map(([, , b]) => b);
    await ws[0]!.run("setValues", { values, news });
    for (const [i, v] of values.entries()) {
      const want = news[i]!;
      assert.equal(
        v.value,
        typeof v.value === "bigint" ? BigInt(want) : want,
        `typecode ${v.typecode}`,
      );
    }
  });
}

Deno.test("Value: getLock() follows the lock option (CPython test_getobj_getlock)", async () => {
  const v1 = new mp.Value("i", 5);
  assert.ok(v1.getLock() instanceof mp.RLock);
  const lock = new mp.Lock();
  const v2 = new mp.Value("i", 5, { lock });
  assert.equal(v2.getLock(), lock);
  const v3 = new mp.Value("i", 5, { lock: false });
  assert.throws(() => v3.getLock(), /lock: false/);
  assert.throws(
    () => new mp.Value("i", 5, { lock: "navalue" as unknown as boolean }),
    TypeError,
  );
  const r = new mp.RawValue("i", 5);
  assert.equal("getLock" in r, false);
  {
    await using _held = await v1.getLock().scope();
    v1.value += 1;
  }
  assert.equal(v1.get(), 6);
  v1.set(7);
  assert.equal(v1.value, 7);
});

Deno.test("Value: integers wrap around like ctypes; 64-bit codes are bigint", () => {
  const cases: [mp.Typecode, number | bigint, number | bigint][] = [
    ["b", 127 + 1, -128],
    ["b", -129, 127],
    ["B", 256, 0],
    ["B", -1, 255],
    ["h", 32768, -32768],
    ["H", 65536 + 3, 3],
    ["i", 2 ** 31, -(2 ** 31)],
    ["I", -1, 2 ** 32 - 1],
    ["l", 2n ** 63n, -(2n ** 63n)],
    ["L", -1, 2n ** 64n - 1n],
    ["q", 2n ** 64n + 5n, 5n],
    ["Q", -2n, 2n ** 64n - 2n],
    ["i", 2n ** 40n + 9n, 9],
  ];
  for (const [code, input, want] of cases) {
    assert.equal(new mp.RawValue(code, input).value, want, `${code} ${input}`);
  }
  const b = new mp.Value("b", 127);
  b.value += 1;
  assert.equal(b.value, -128);
  const q = new mp.RawValue("q", 1);
  assert.equal(typeof q.value, "bigint");
  q.value = 3; // numbers are accepted
  assert.equal(q.value, 3n);
  assert.equal(new mp.RawValue("f", 0.1).value, Math.fround(0.1));
  assert.equal(new mp.RawValue("i", true as unknown as number).value, 1);
});

Deno.test("Value: bad typecodes and values are TypeErrors", () => {
  assert.throws(() => new mp.Value("c" as mp.Typecode, 1), /typecode/);
  assert.throws(() => new mp.RawValue("x" as mp.Typecode), TypeError);
  assert.throws(() => new mp.RawValue("i", 1.5), /needs an integer/);
  assert.throws(() => new mp.RawValue("q", 0.5), TypeError);
  assert.throws(
    () => new mp.RawValue("d", "1" as unknown as number),
    TypeError,
  );
  const v = new mp.RawValue("i", 1);
  assert.throws(() => (v.value = 2.5), TypeError);
  assert.equal(v.value, 1);
});

for (const raw of [false, true]) {
  const name = raw ? "RawArray" : "Array";
  Deno.test(`${name}: indexing, and a worker's running sum lands in the same memory (CPython test_${raw ? "rawarray" : "array"})`, async () => {
    await using ws = workers(1);
    const seq = [680, 626, 934, 821, 150, 233, 548, 982, 714, 831];
    const arr = raw ? new mp.RawArray("i", seq) : new SharedArray("i", seq);
    assert.equal(arr.length, seq.length);
    assert.equal(arr.get(3), seq[3]);
    assert.equal(arr.get(-2), seq[seq.length - 2]);
    assert.deepEqual(arr.toArray(), seq);
    assert.deepEqual([...arr], seq);
    const expected = seq.slice();
    for (let i = 1; i < expected.length; i++) expected[i]! += expected[i - 1]!;
    assert.deepEqual(await ws[0]!.run("cumsum", { array: arr }), expected);
    assert.deepEqual(arr.toArray(), expected);
    assert.equal(arr.view[0], 680);
  });
}

Deno.test("Array: from a size is zero-filled (CPython test_array_from_size)", () => {
  for (const size of [0, 10]) {
    const arr = new SharedArray("i", size);
    assert.equal(arr.length, size);
    assert.deepEqual(arr.toArray(), new Array(size).fill(0));
  }
  assert.deepEqual(new mp.RawArray("q", 2).toArray(), [0n, 0n]);
  assert.deepEqual(new SharedArray("d", new Set([1.5, 2])).toArray(), [1.5, 2]);
});

Deno.test("Array: getLock() follows the lock option (CPython test_getobj_getlock_obj)", () => {
  const a1 = new SharedArray("i", 10);
  assert.ok(a1.getLock() instanceof mp.RLock);
  const lock = new mp.Lock();
  assert.equal(new SharedArray("i", 10, { lock }).getLock(), lock);
  assert.throws(
    () => new SharedArray("i", 10, { lock: false }).getLock(),
    /lock: false/,
  );
  assert.throws(
    () => new SharedArray("i", 10, { lock: "navalue" as unknown as boolean }),
    TypeError,
  );
  assert.equal("getLock" in new mp.RawArray("i", 10), false);
});

Deno.test("Array: out-of-range indexes, bad sizes and bad items throw; items wrap like ctypes", () => {
  const arr = new mp.RawArray("b", [1, 2, 3]);
  assert.throws(() => arr.get(3), RangeError);
  assert.throws(() => arr.get(-4), RangeError);
  assert.throws(() => arr.set(1.5, 1), TypeError);
  assert.throws(() => arr.set(0, 0.5), TypeError);
  assert.throws(() => new mp.RawArray("i", -1), RangeError);
  assert.throws(
    () => new mp.RawArray("i", [1, "2" as unknown as number]),
    /item 1/,
  );
  assert.throws(
    () => new mp.RawArray("i", {} as unknown as number[]),
    TypeError,
  );
  arr.set(-1, 128);
  assert.equal(arr.get(2), -128);
  const big = new mp.RawArray("Q", [1, 2n]);
  assert.deepEqual(big.toArray(), [1n, 2n]);
  big.set(0, -1);
  assert.equal(big.get(0), 2n ** 64n - 1n);
});

Deno.test("Value/Array: the lock travels with them to a worker (same lock memory)", async () => {
  await using ws = workers(2);
  const value = new mp.Value("q", 0);
  await Promise.all(ws.map((w) => w.run("incr", { value, n: 10_000 })));
  assert.equal(value.value, 20_000n);
  const array = new SharedArray("H", 4);
  await ws[0]!.run("fill", { array, v: 65535 + 2 });
  assert.deepEqual(array.toArray(), [1, 1, 1, 1]);
});
