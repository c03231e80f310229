// Shared by the pickle tests: hex, and the `expect` notation of
// ../shared/pickle/plain-vectors.json ({t, v}) checked against a value.

import assert from "node:assert/strict";
import { isFrozenset, isTuple } from "../../pickle/mod.ts";
import { bytearrayBranded } from "../../pickle/_brands.ts";

export function unhex(s: string): Uint8Array {
  return new Uint8Array(s.match(/../g)?.map((x) => parseInt(x, 16)) ?? []);
}

export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** One expected value of plain-vectors.json. */
export interface Expect {
  t: string;
  v?: unknown;
}

/** The vectors (a copy of ../shared/pickle/plain-vectors.json). */
export const VECTORS_PATH = new URL(
  "./fixtures/plain-vectors.json",
  import.meta.url,
);

function floatHex(n: number): string {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, n, false);
  return hex(new Uint8Array(dv.buffer));
}

/**
 * Asserts `value` is what `e` describes, as `loads()` maps it (with or
 * without `bigints`).
 */
export function assertExpect(
  value: unknown,
  e: Expect,
  bigints: boolean,
  where = "$",
): void {
  const items = (e.v ?? []) as Expect[];
  switch (e.t) {
    case "none":
      return assert.equal(value, null, where);
    case "bool":
      return assert.equal(value, e.v, where);
    case "int": {
      const n = BigInt(e.v as string);
      if (bigints) return assert.equal(value, n, where);
      if (n >= -(2n ** 53n) + 1n && n <= 2n ** 53n - 1n) {
        return assert.equal(value, Number(n), where);
      }
      return assert.equal(value, n, where);
    }
    case "float":
      assert.equal(typeof value, "number", where);
      return assert.equal(floatHex(value as number), e.v, where);
    case "str":
      assert.equal(typeof value, "string", where);
      return assert.deepEqual(
        Array.from(value as string, (c) => c.codePointAt(0)),
        e.v,
        where,
      );
    case "bytes":
    case "bytearray":
      assert.ok(value instanceof Uint8Array, where);
      assert.equal(bytearrayBranded(value), e.t === "bytearray", where);
      return assert.equal(hex(value as Uint8Array), e.v, where);
    case "list":
    case "tuple":
      assert.ok(Array.isArray(value), where);
      assert.equal(isTuple(value), e.t === "tuple", where);
      assert.equal((value as unknown[]).length, items.length, where);
      items.forEach((x, i) =>
        assertExpect((value as unknown[])[i], x, bigints, `${where}[${i}]`)
      );
      return;
    case "set":
    case "frozenset": {
      assert.ok(value instanceof Set, where);
      assert.equal(isFrozenset(value), e.t === "frozenset", where);
      const got = [...(value as Set<unknown>)];
      assert.equal(got.length, items.length, where);
      // Items of the vectors are scalars: compare as sets of primitives.
      for (const x of items) {
        const want = bigints ? BigInt(x.v as string) : Number(x.v);
        assert.ok((value as Set<unknown>).has(want), `${where} has ${x.v}`);
      }
      return;
    }
    case "dict": {
      assert.ok(value instanceof Map, where);
      const pairs = e.v as [Expect, Expect][];
      const got = [...(value as Map<unknown, unknown>)];
      assert.equal(got.length, pairs.length, where);
      pairs.forEach(([k, v], i) => {
        assertExpect(got[i]![0], k, bigints, `${where} key ${i}`);
        assertExpect(got[i]![1], v, bigints, `${where} value ${i}`);
      });
      return;
    }
  }
  throw new Error(`unknown expect type ${e.t}`);
}

type Part = number | readonly number[] | Uint8Array;

/** Concatenates bytes, byte arrays and Uint8Arrays. */
export function raw(...parts: Part[]): Uint8Array {
  let n = 0;
  for (const x of parts) n += typeof x === "number" ? 1 : x.length;
  const out = new Uint8Array(n);
  let i = 0;
  for (const x of parts) {
    if (typeof x === "number") out[i++] = x;
    else {
      out.set(x, i);
      i += x.length;
    }
  }
  return out;
}

/** `PROTO 4` then `parts`. */
export function p4(...parts: Part[]): Uint8Array {
  return raw(0x80, 0x04, ...parts);
}

/** SHORT_BINUNICODE `s`. */
export function sbu(s: string): number[] {
  const b = new TextEncoder().encode(s);
  return [0x8c, b.length, ...b];
}

export function u32le(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

export function u64le(n: bigint): number[] {
  return Array.from(
    { length: 8 },
    (_, i) => Number((n >> BigInt(8 * i)) & 0xffn),
  );
}
