// loads() of every vector in ../shared/pickle/plain-vectors.json (CPython
// 3.12's bytes for the values of plain_types.py, protocols 2–5), with and
// without bigints; and dumps() of the value loads() gave reads back equal.

import assert from "node:assert/strict";
import { dumps, loads } from "../../pickle/mod.ts";
import { assertExpect, type Expect, unhex, VECTORS_PATH } from "./_helpers.ts";

const vectors = JSON.parse(Deno.readTextFileSync(VECTORS_PATH)) as {
  name: string;
  hex: string;
  expect: Expect;
}[];

Deno.test("loads() reads every plain vector as API.md §7 maps it", async (t) => {
  assert.ok(vectors.length >= 196);
  for (const v of vectors) {
    await t.step(v.name, () => {
      assertExpect(loads(unhex(v.hex)), v.expect, false);
      assertExpect(loads(unhex(v.hex), { bigints: true }), v.expect, true);
    });
  }
});

Deno.test("dumps() of each vector's value reads back the same, protocols 2–5", () => {
  for (const v of vectors) {
    for (const bigints of [false, true]) {
      const value = loads(unhex(v.hex), { bigints });
      for (const protocol of [2, 3, 4, 5] as const) {
        const again = loads(dumps(value, { protocol, bigints }), { bigints });
        assertExpect(again, v.expect, bigints, `${v.name} p${protocol}`);
      }
    }
  }
});
