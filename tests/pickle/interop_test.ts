// serializer "pickle" against CPython 3.11.7, 3.12.1 and 3.13.0, both
// directions, TCP and Unix, with an authkey. One Python process per
// interpreter (tests/py/pickle_peer.py) runs the whole sequence:
//
// - CPython → Deno: every value of plain_types.py (and EXTRA: BOM, large
//   str/bytes written outside frames, batches of 2500, odd keys, …) sent
//   with conn.send() arrives as API.md §7 says (checked against
//   plain-vectors.json where it has the value), and echoed back by us with
//   protocol 4 and 5 (bigints: true) compares equal in Python with the same
//   type, recursively.
// - Deno → CPython: the same values sent by our send() (protocol 4) and as
//   dumps() protocols 2, 3 and 5 are equal in CPython's pickle.loads, and
//   CPython's echo reads back equal here; JS-native values (plain objects,
//   undefined, typed arrays, -0, Map keys) arrive as §7 says.

import assert from "node:assert/strict";
import {
  type Address,
  Client,
  type Connection,
  Listener,
} from "../../connection/mod.ts";
import { dumps, frozenset, loads, tuple } from "../../pickle/mod.ts";
import { deadline, findPythons } from "../connection/_helpers.ts";
import { pyAddress, PyPeer } from "../_py_peer.ts";
import {
  assertExpect,
  type Expect,
  hex,
  unhex,
  VECTORS_PATH,
} from "./_helpers.ts";
import { samePy } from "./_random.ts";

const SCRIPT = new URL("../py/pickle_peer.py", import.meta.url).pathname;
const KEY = new TextEncoder().encode("pickle-interop");
const BIG = { bigints: true } as const;

const expects = new Map<string, Expect>();
for (
  const v of JSON.parse(Deno.readTextFileSync(VECTORS_PATH)) as {
    name: string;
    expect: Expect;
  }[]
) {
  const [name, proto] = v.name.split(" / ");
  if (proto === "protocol 4") expects.set(name!, v.expect);
}

/** What Deno sends for the peer's JS_VALUES, in the same order. */
const JS_VALUES: [string, unknown][] = [
  ["js plain object", { a: 1, b: [true, null], c: { d: "e" } }],
  ["js undefined", undefined],
  ["js Int16Array [1, -1]", new Int16Array([1, -1])],
  ["js integral number 2**60", 2 ** 60],
  ["js -0", -0],
  ["js 0.1", 0.1],
  [
    "js Map with mixed keys",
    new Map<unknown, unknown>([[1, "one"], ["1", "str one"], [
      tuple(1, 2),
      "t",
    ]]),
  ],
  [
    "js tuple of tuples",
    tuple(tuple(), tuple(1), tuple(1, 2), tuple(1, 2, 3), tuple(1, 2, 3, 4)),
  ],
];

/** A few EXTRA values checked against §7 on arrival, beyond the echo. */
function checkExtra(name: string, v: unknown): void {
  if (name === "str with a leading BOM") assert.equal(v, "\ufeffBOM");
  if (name === "str surrogate pair as two lone halves") {
    assert.equal(v, "a\udbff-\udc00b");
  }
  if (name === "bytes 1 MiB") {
    assert.ok(v instanceof Uint8Array && v.length === 1 << 20 && v[257] === 1);
  }
  if (name === "int -2**2048") assert.equal(v, -(2n ** 2048n));
  if (name === "dict with tuple, frozenset, bytes, None keys") {
    const keys = [...(v as Map<unknown, unknown>).keys()];
    assert.ok(
      Array.isArray(keys[0]) && keys[1] instanceof Set &&
        keys[2] instanceof Uint8Array,
    );
    assert.deepEqual(keys.slice(3), [null, 1.5, true]);
  }
  if (name === "set of 2500") assert.equal((v as Set<unknown>).size, 2500);
}

const pythons = await findPythons();
assert.ok(
  pythons.length > 0,
  "no CPython found (pyenv 3.11.7/3.12.1/3.13.0 or python3)",
);

for (const py of pythons) {
  Deno.test(`pickle interop[CPython ${py.version}]: send/recv both ways, TCP and Unix`, async (t) => {
    const tmp = await Deno.makeTempDir({ prefix: "pickle-interop-" });
    try {
      await using peer = new PyPeer(py.exe, SCRIPT, { TMPDIR: tmp });
      await peer.send({ op: "version" });
      const { version } = await peer.next();
      if (/^\d+\.\d+\.\d+$/.test(py.version)) assert.equal(version, py.version);
      await peer.send({ op: "values" });
      const listing = await peer.next() as {
        names: string[];
        hex: string[];
        js: string[];
      };
      assert.deepEqual(listing.js, JS_VALUES.map(([n]) => n));
      const names = listing.names;
      const values = listing.hex.map((h) => loads(unhex(h), BIG));
      assert.ok(names.length >= expects.size + 10);
      for (const n of expects.keys()) assert.ok(names.includes(n), n);

      for (const family of ["AF_INET", "AF_UNIX"] as const) {
        await t.step(
          `CPython send() -> Deno recv(), echoed with protocols 4 and 5 (${family})`,
          async () => {
            await using listener = new Listener({
              family,
              authkey: KEY,
              serializer: "pickle",
              pickle: BIG,
            });
            const accepted = deadline(
              listener.accept(),
              20_000,
              "accept of CPython",
            );
            await peer.send({
              op: "send_to",
              family,
              address: pyAddress(listener),
              authkey: hex(KEY),
            });
            await using conn = await accepted;
            for (const name of names) {
              const v = await deadline(conn.recv(), 20_000, `recv of ${name}`);
              const e = expects.get(name);
              if (e) assertExpect(v, e, true, name);
              checkExtra(name, v);
              await conn.send(v);
              await conn.sendBytes(dumps(v, { protocol: 5, bigints: true }));
            }
            assert.equal(await conn.recv(), "bye");
            assert.deepEqual(await peer.next(), {
              ok: true,
              count: names.length,
            });
          },
        );

        await t.step(
          `Deno send()/dumps() -> CPython recv()/pickle.loads, echoed back (${family})`,
          async () => {
            await peer.send({ op: "recv_from", family, authkey: hex(KEY) });
            const { address } = await peer.next();
            const conn: Connection = await deadline(
              Client(address as Address, {
                authkey: KEY,
                serializer: "pickle",
                pickle: BIG,
              }),
              20_000,
              "Client to CPython",
            );
            try {
              for (const [i, name] of names.entries()) {
                const v = values[i];
                await conn.send(v);
                for (const protocol of [2, 3, 5] as const) {
                  await conn.sendBytes(dumps(v, { protocol, bigints: true }));
                }
                const echo = await deadline(
                  conn.recv(),
                  20_000,
                  `echo of ${name}`,
                );
                assert.ok(samePy(v, echo), name);
              }
              for (const [, v] of JS_VALUES) await conn.sendBytes(dumps(v));
              assert.deepEqual(await peer.next(), {
                ok: true,
                count: names.length + JS_VALUES.length,
              });
            } finally {
              conn.close();
            }
          },
        );
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });
}

Deno.test("pickle interop: frozenset() and tuple() of the JS side are what the peer compares", () => {
  // A guard that the JS_VALUES above use the brands (not plain arrays/Sets).
  assert.ok(samePy(loads(dumps(frozenset([1]))), frozenset([1])));
  assert.ok(!samePy(loads(dumps(tuple(1))), [1]));
});
