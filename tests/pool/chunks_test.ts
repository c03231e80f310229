// CPython's default chunksize rule and chunksize validation.
import assert from "node:assert/strict";
import {
  checkChunksize,
  defaultChunksize,
  readAhead,
} from "../../pool/_chunks.ts";

Deno.test("defaultChunksize() is CPython's ceil(len / (4 * processes))", () => {
  assert.equal(defaultChunksize(200_000, 2), 25_000);
  assert.equal(defaultChunksize(10, 4), 1);
  assert.equal(defaultChunksize(17, 2), 3);
  assert.equal(defaultChunksize(0, 2), 1);
});

Deno.test("checkChunksize() accepts positive integers only", () => {
  assert.equal(checkChunksize(undefined), undefined);
  assert.equal(checkChunksize(5), 5);
  for (const bad of [0, -1, 1.5, Number.NaN, "3"]) {
    assert.throws(() => checkChunksize(bad as number), RangeError);
  }
});

Deno.test("readAhead() is max(8 * processes * chunksize, 8192)", () => {
  assert.equal(readAhead(2, 1), 8192);
  assert.equal(readAhead(2, 1000), 16_000);
});
