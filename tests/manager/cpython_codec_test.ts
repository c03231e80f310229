// The manager's pickle profiles on CPython 3.12's captured manager frames
// (pickle-wire.md §2, tests/pickle/fixtures/vectors-*-3.12.json): every
// request a CPython client sends is read by our server profile, every reply
// a CPython server sends by our client profile; globals outside the closed
// tables are refused by name, and nothing a peer sent is ever written back
// as a global.

import assert from "node:assert/strict";
import {
  clientCodec,
  isTup,
  loadsMessage,
  mint,
  serverDumps,
  tup,
} from "../../manager/protocol/_cpython_codec.ts";
import {
  PyException,
  PyProxyRef,
  PySlice,
  PyToken,
} from "../../manager/protocol/_cpython_values.ts";
import { UnpicklingError } from "../../pickle/errors.ts";

interface Vector {
  dir: "C>S" | "S>C";
  hex: string;
  decoded: string;
}

function unhex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g)!, (h) => parseInt(h, 16));
}

const vectors: Vector[] = [];
for (const f of ["vectors-sync-3.12.json", "vectors-queue-3.12.json"]) {
  const url = new URL(`../pickle/fixtures/${f}`, import.meta.url);
  vectors.push(...JSON.parse(await Deno.readTextFile(url)));
}

Deno.test("every CPython client request of the captures is read by the server profile", () => {
  const requests = vectors.filter((v) => v.dir === "C>S");
  assert.ok(requests.length > 80);
  let tokens = 0;
  let proxies = 0;
  for (const v of requests) {
    const req = loadsMessage(unhex(v.hex));
    assert.ok(isTup(req) && (req as unknown[]).length === 4, v.decoded);
    const [, name, args, kwds] = req as unknown[];
    assert.equal(typeof name, "string", v.decoded);
    assert.ok(Array.isArray(args) && kwds instanceof Map, v.decoded);
    if (v.decoded.includes("RebuildProxy")) {
      const ref = JSON.stringify(
        args,
        (_k, x) => x instanceof PyProxyRef ? (proxies++, "proxy") : x,
      );
      assert.ok(ref.includes("proxy"), v.decoded);
    }
    if (name === "get_methods") {
      assert.ok((args as unknown[])[0] instanceof PyToken);
      tokens++;
    }
  }
  assert.ok(proxies >= 2, "the captures pass proxies as arguments");
  assert.ok(tokens >= 1, "the captures call get_methods with a Token");
});

Deno.test("every CPython server reply of the captures is read by the client profile", () => {
  const replies = vectors.filter((v) =>
    v.dir === "S>C" && v.hex.startsWith("80")
  );
  assert.ok(replies.length > 80);
  const kinds = new Set<string>();
  for (const v of replies) {
    const reply = clientCodec.loads(unhex(v.hex));
    assert.ok(isTup(reply) && (reply as unknown[]).length === 2, v.decoded);
    const [kind, payload] = reply as unknown[];
    kinds.add(kind as string);
    if (kind === "#ERROR") assert.ok(payload instanceof PyException, v.decoded);
    if (kind === "#PROXY") {
      assert.ok((payload as unknown[])[1] instanceof PyToken, v.decoded);
    }
  }
  for (const k of ["#RETURN", "#ERROR", "#PROXY"]) assert.ok(kinds.has(k), k);
});

Deno.test("the server profile refuses globals outside CPython's manager names, naming them", () => {
  // (None, 'create', ('list', posix.system('id')), {}) as CPython 3.12 pickles it.
  const call = unhex(
    "8004953500000000000000284e8c06637265617465948c046c697374948c05706f736978948c0673797374656d9493948c026964948594529486947d9474942e",
  );
  assert.throws(
    () => loadsMessage(call),
    (e) =>
      e instanceof UnpicklingError &&
      /posix\.system is not allowed/.test(e.message),
  );
  // An exception class is data a client reads, never what a server reads.
  const keyError = unhex(
    "80049521000000000000008c086275696c74696e73948c084b65794572726f729493948c017894859452942e",
  );
  assert.throws(() => loadsMessage(keyError), /builtins\.KeyError/);
  assert.ok(clientCodec.loads(keyError) instanceof PyException);
});

Deno.test("nothing read from a peer is written back as a global", () => {
  const dumps = serverDumps(tup("127.0.0.1", 1));
  // A Token and an exception read from a peer: data, refused by the writers.
  const token = (loadsMessage(
    clientCodec.dumps(
      tup(
        null,
        "get_methods",
        tup(mint(new PyToken("Queue", tup("127.0.0.1", 1), "1"))),
        new Map(),
      ),
    ),
  ) as unknown[][])[2][0];
  assert.ok(token instanceof PyToken);
  assert.throws(() => dumps(tup("#RETURN", token)), TypeError);
  assert.throws(() => clientCodec.dumps(token), TypeError);
  const unknown = clientCodec.loads(
    unhex(
      "80049523000000000000008c085f5f6d61696e5f5f948c074d794572726f729493948c04626f6f6d94859452942e",
    ),
  );
  assert.ok(unknown instanceof PyException);
  assert.equal(unknown.type, "__main__.MyError");
  assert.throws(() => clientCodec.dumps(tup(unknown)), TypeError);
  assert.throws(() => dumps(tup("#ERROR", unknown)), TypeError);
  // What we make ourselves is written.
  assert.ok(dumps(tup("#ERROR", mint(new PyException("_queue.Empty")))));
  assert.ok(clientCodec.dumps(mint(new PySlice(0, 2, null))));
});
