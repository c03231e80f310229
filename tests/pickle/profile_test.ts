// The internal profile hooks the manager interop builds on (pickle/_reader.ts
// and pickle/_writer.ts file comments): a closed table of reconstructors
// reads every pickled frame CPython 3.12's manager sent in the captures
// (../shared/pickle/vectors-{sync,queue}-3.12.json), and PyGlobalCall writes
// Token/RebuildProxy/_queue.Empty. The table below is a test double of the
// manager's, not the manager's own.

import assert from "node:assert/strict";
import { isTuple, tuple, UnpicklingError } from "../../pickle/mod.ts";
import {
  type GlobalEntry,
  type ReaderProfile,
  unpickle,
} from "../../pickle/_reader.ts";
import { PLAIN_GLOBALS } from "../../pickle/_globals.ts";
import {
  pickle,
  PyGlobal,
  PyGlobalCall,
  type WriterProfile,
} from "../../pickle/_writer.ts";
import { unhex } from "./_helpers.ts";

class Token {
  constructor(
    readonly typeid: unknown,
    readonly address: unknown,
    readonly id: unknown,
  ) {}
}
class ProxyRef {
  constructor(
    readonly proxytype: string,
    readonly token: Token,
    readonly kwds: Map<unknown, unknown>,
  ) {}
}
class PyException {
  constructor(readonly type: string, readonly args: readonly unknown[]) {}
}
class Record {
  constructor(readonly type: string, public state: unknown = undefined) {}
}

const M = "multiprocessing.managers";
const exception = (type: string): GlobalEntry => ({
  reduce: (args) => new PyException(type, args),
});
const record = (type: string): GlobalEntry => ({
  newobj: (args, ctx) => {
    if (args.length !== 0) return ctx.fail("takes no arguments");
    return new Record(type);
  },
  build: (obj, state, ctx) => {
    if (!(state instanceof Map)) return ctx.fail("state is not a dict");
    (obj as Record).state = state;
    return obj;
  },
});

const TABLE = new Map<string, GlobalEntry>([
  ...PLAIN_GLOBALS,
  [`${M}.Token`, {
    newobj: () => new Record("Token"),
    build: (_obj, state, ctx) => {
      if (!Array.isArray(state) || !isTuple(state) || state.length !== 3) {
        return ctx.fail("state is not (typeid, address, id)");
      }
      return new Token(state[0], state[1], state[2]);
    },
  }],
  [`${M}.RebuildProxy`, {
    reduce: (args, ctx) => {
      const [cls, token, serializer, kwds] = args;
      if (
        typeof cls !== "string" || !(token instanceof Token) ||
        serializer !== "pickle" || !(kwds instanceof Map)
      ) return ctx.fail("unexpected arguments");
      if (kwds.has("authkey")) return ctx.fail("an authkey is refused");
      return new ProxyRef(cls, token, kwds);
    },
  }],
  [`${M}.AutoProxy`, { value: "AutoProxy" }],
  [`${M}.AcquirerProxy`, { value: "AcquirerProxy" }],
  [`${M}.Value`, record("Value")],
  [`${M}.Namespace`, record("Namespace")],
  ["_queue.Empty", exception("_queue.Empty")],
  ["builtins.KeyError", exception("KeyError")],
  ["builtins.StopIteration", exception("StopIteration")],
  ["builtins.RuntimeError", exception("RuntimeError")],
  ["builtins.list", {
    reduce: (args, ctx) => {
      if (!Array.isArray(args[0])) return ctx.fail("expects a list");
      return [...args[0]];
    },
  }],
  ["array.array", {
    reduce: ([typecode, bytes]) => ({ typecode, bytes }),
  }],
]);
const PROFILE: ReaderProfile = {
  globals: TABLE,
  // Unknown exception classes become inert records (never resolved).
  unknownGlobal: (module, name) =>
    module === "__main__" ? exception(`${module}.${name}`) : undefined,
};

type Frame = { step: number; dir: string; hex: string; decoded: string };
const frames = [
  "vectors-sync-3.12.json",
  "vectors-queue-3.12.json",
].flatMap((f) =>
  JSON.parse(
    Deno.readTextFileSync(new URL(`./fixtures/${f}`, import.meta.url)),
  ) as Frame[]
).filter((f) => f.hex.startsWith("80"));

Deno.test("a manager profile reads every pickled frame of CPython 3.12's manager", () => {
  assert.ok(frames.length > 100);
  for (const f of frames) {
    const v = unpickle(unhex(f.hex), { profile: PROFILE });
    assert.ok(isTuple(v), f.decoded);
  }
  // And the plain profile refuses the ones with manager globals, by name.
  const proxy = frames.find((f) => f.decoded.includes("'#PROXY'"))!;
  assert.throws(
    () => unpickle(unhex(proxy.hex), { profile: { globals: PLAIN_GLOBALS } }),
    (e) =>
      e instanceof UnpicklingError &&
      e.message.includes(
        "global multiprocessing.managers.Token is not allowed",
      ),
  );
});

Deno.test("profile hooks: NEWOBJ+BUILD, REDUCE, globals as values, inert unknowns", () => {
  const find = (s: string) =>
    unpickle(unhex(frames.find((f) => f.decoded.includes(s))!.hex), {
      profile: PROFILE,
    }) as readonly unknown[];
  const [kind, payload] = find("'#PROXY'");
  assert.equal(kind, "#PROXY");
  const token = (payload as unknown[])[1] as Token;
  assert.ok(token instanceof Token);
  assert.equal(token.typeid, "Iterator");
  assert.ok(isTuple(token.address));
  assert.equal((token.address as unknown[])[0], "127.0.0.1");

  const ref = find("'__setitem__', ('q', multiprocessing.managers.Rebuild")[2];
  const proxy = (ref as unknown[])[1] as ProxyRef;
  assert.ok(proxy instanceof ProxyRef);
  assert.equal(proxy.proxytype, "AutoProxy");
  assert.equal(proxy.token.typeid, "Queue");
  assert.ok(isTuple(proxy.kwds.get("exposed")));

  const empty = find("_queue.Empty()")[1] as PyException;
  assert.deepEqual([empty.type, empty.args.length], ["_queue.Empty", 0]);
  const mine = find("MyError('boom', 42)")[1] as PyException;
  assert.deepEqual([mine.type, ...mine.args], ["__main__.MyError", "boom", 42]);
  const value = find("multiprocessing.managers.Value()")[1] as Record;
  assert.equal((value.state as Map<string, unknown>).get("_value"), 7);
  const list = find("builtins.list(")[1] as unknown[];
  assert.ok(Array.isArray(list) && !isTuple(list));
  assert.equal(list.length, 2);
});

/** A pickle: bytes, or strings as SHORT_BINUNICODE. */
function p(...parts: (number | string)[]): Uint8Array {
  const out: number[] = [0x80, 0x04];
  for (const x of parts) {
    if (typeof x === "number") out.push(x);
    else {
      const b = new TextEncoder().encode(x);
      out.push(0x8c, b.length, ...b);
    }
  }
  return new Uint8Array(out);
}
const refused = (bytes: Uint8Array, text: string) =>
  assert.throws(
    () => unpickle(bytes, { profile: PROFILE }),
    (e) => e instanceof UnpicklingError && e.message.includes(text),
  );

Deno.test("profile: a callable global used as a value is refused", () => {
  // STACK_GLOBAL _queue.Empty, STOP
  refused(
    p("_queue", "Empty", 0x93, 0x2e),
    "global _queue.Empty may only be called",
  );
  // [RebuildProxy] — inside a list
  refused(
    p(0x5d, M, "RebuildProxy", 0x93, 0x61, 0x2e),
    `global ${M}.RebuildProxy may only be called`,
  );
  // A value-only global cannot be called.
  refused(
    p(M, "AutoProxy", 0x93, 0x29, 0x52, 0x2e),
    `global ${M}.AutoProxy may not be called by REDUCE`,
  );
  // REDUCE of a non-global.
  refused(p(0x4e, 0x29, 0x52, 0x2e), "REDUCE calls a NoneType, not a global");
});

Deno.test("profile: BUILD only on an object a reconstructor just made, once", () => {
  const ns = [M, "Namespace", 0x93, 0x29, 0x81] as const;
  // BUILD on a plain dict.
  refused(
    p(0x7d, 0x7d, 0x62, 0x2e),
    "BUILD on a dict that no reconstructor just made",
  );
  // Twice on the same object.
  refused(
    p(...ns, 0x7d, 0x62, 0x7d, 0x62, 0x2e),
    "BUILD on a Record that no reconstructor just made",
  );
  // On the object fetched back from the memo: MEMOIZE, BINGET 0.
  refused(
    p(...ns, 0x94, 0x30, 0x68, 0x00, 0x7d, 0x62, 0x2e),
    "fetched from the memo would be modified",
  );
  // A REDUCE-made object whose entry has no build.
  refused(
    p("_queue", "Empty", 0x93, 0x29, 0x52, 0x7d, 0x62, 0x2e),
    "BUILD on a PyException that no reconstructor just made",
  );
  // The hook's own validation, named after the global.
  refused(
    p(...ns, 0x4e, 0x62, 0x2e),
    `${M}.Namespace: state is not a dict`,
  );
  // Exactly once is fine.
  const v = unpickle(p(...ns, 0x7d, 0x62, 0x2e), { profile: PROFILE });
  assert.ok(v instanceof Record && v.state instanceof Map);
});

Deno.test("profile: unknownGlobal gives inert records only where it says so", () => {
  const v = unpickle(p("__main__", "Boom", 0x93, 0x29, 0x52, 0x2e), {
    profile: PROFILE,
  });
  assert.ok(v instanceof PyException && v.type === "__main__.Boom");
  refused(
    p("posix", "system", 0x93, 0x2e),
    "global posix.system is not allowed",
  );
});

const WRITER: WriterProfile = {
  globals: new Set([
    `${M}.Token`,
    `${M}.RebuildProxy`,
    `${M}.AutoProxy`,
    "_queue.Empty",
  ]),
  reduce: (o) =>
    o instanceof Token
      ? new PyGlobalCall(M, "Token", [], {
        newobj: true,
        state: tuple(o.typeid, o.address, o.id),
      })
      : undefined,
};

Deno.test("writer profile: PyGlobalCall/PyGlobal and reduce() write manager values", () => {
  const token = new Token("Queue", tuple("127.0.0.1", 5000), "7f00");
  const msg = tuple(
    "#RETURN",
    new PyGlobalCall(M, "RebuildProxy", [
      new PyGlobal(M, "AutoProxy"),
      token,
      "pickle",
      new Map([["exposed", tuple("get", "put")]]),
    ]),
  );
  for (const protocol of [2, 3, 4, 5]) {
    const bytes = pickle(msg, { protocol, profile: WRITER });
    const back = unpickle(bytes, { profile: PROFILE }) as unknown[];
    const ref = back[1] as ProxyRef;
    assert.ok(ref instanceof ProxyRef, `protocol ${protocol}`);
    assert.equal(ref.proxytype, "AutoProxy");
    assert.deepEqual(
      [ref.token.typeid, ...(ref.token.address as unknown[]), ref.token.id],
      ["Queue", "127.0.0.1", 5000, "7f00"],
    );
  }
  const empty = unpickle(
    pickle(new PyGlobalCall("_queue", "Empty", []), { profile: WRITER }),
    { profile: PROFILE },
  );
  assert.ok(empty instanceof PyException && empty.type === "_queue.Empty");
});

Deno.test("writer profile: a global outside the closed writer list is refused by path", () => {
  const evil = { x: [new PyGlobalCall("posix", "system", ["echo hi"])] };
  assert.throws(
    () => pickle(evil, { profile: WRITER }),
    (e) =>
      e instanceof TypeError &&
      e.message ===
        "Cannot pickle the value as $.x[0] is global posix.system, which this writer may not emit (plain data only)",
  );
  // The plain writer (no profile) emits none at all.
  assert.throws(
    () => pickle(new PyGlobalCall("_queue", "Empty", [])),
    /global _queue\.Empty, which this writer may not emit/,
  );
  // Class instances without a reduce() mapping are refused.
  assert.throws(
    () =>
      pickle([new ProxyRef("AutoProxy", new Token(1, 2, 3), new Map())], {
        profile: WRITER,
      }),
    /\$\[0\] is an instance of ProxyRef/,
  );
});
