// Every refusal of the reader (API.md §7, issue 12 "Safety"), each with the
// message naming what was refused. The pickles are written out by hand;
// where CPython writes the same bytes, the comment says so.

import assert from "node:assert/strict";
import { dumps, loads, UnpicklingError } from "../../pickle/mod.ts";
import { MAX_DEPTH, MAX_ITEMS } from "../../pickle/_reader.ts";
import { p4, raw, sbu, u32le, u64le, unhex } from "./_helpers.ts";

function refused(bytes: Uint8Array, ...texts: string[]): void {
  assert.throws(
    () => loads(bytes),
    (e) => {
      assert.ok(e instanceof UnpicklingError, String(e));
      assert.ok(e instanceof SyntaxError);
      for (const t of texts) {
        assert.ok(e.message.includes(t), `"${e.message}" lacks "${t}"`);
      }
      return true;
    },
  );
}

const STOP = 0x2e;
const EMPTY_LIST = 0x5d;
const MARK = 0x28;
const APPENDS = 0x65;

Deno.test("refused: unknown opcodes, named by value", () => {
  for (const code of [0xff, 0x99, 0x00, 0x7e]) {
    refused(
      p4(code, STOP),
      `opcode 0x${code.toString(16).padStart(2, "0")} is unknown`,
    );
  }
});

Deno.test("refused: PERSID, BINPERSID, EXT1/2/4, INST, OBJ and the other named opcodes", () => {
  const cases: [string, Uint8Array][] = [
    ["PERSID", p4(0x50, ...new TextEncoder().encode("42\n"), STOP)],
    ["BINPERSID", p4(0x4e, 0x51, STOP)],
    ["EXT1", p4(0x82, 0x01, STOP)],
    ["EXT2", p4(0x83, 0x01, 0x00, STOP)],
    ["EXT4", p4(0x84, 0x01, 0x00, 0x00, 0x00, STOP)],
    // pickle.dumps(os.system, 0)-style call by name.
    ["INST", p4(MARK, 0x69, ...new TextEncoder().encode("os\nsystem\n"), STOP)],
    ["OBJ", p4(MARK, 0x4e, 0x6f, STOP)],
    ["NEWOBJ_EX", p4(0x4e, 0x29, 0x7d, 0x92, STOP)],
    ["NEXT_BUFFER", p4(0x97, STOP)],
    ["READONLY_BUFFER", p4(0x98, STOP)],
    ["INT", p4(0x49, ...new TextEncoder().encode("1\n"), STOP)],
    ["STRING", p4(0x53, ...new TextEncoder().encode("'a'\n"), STOP)],
    ["SHORT_BINSTRING", p4(0x55, 0x01, 0x61, STOP)],
    ["GET", p4(0x67, ...new TextEncoder().encode("0\n"), STOP)],
  ];
  for (const [name, bytes] of cases) {
    refused(bytes, `opcode ${name} (0x`, "is not allowed");
  }
});

Deno.test("refused: a global outside the closed table, by name (os.system is posix.system)", () => {
  // pickle.dumps(os.system, 4) on Linux, CPython 3.12.
  refused(
    unhex("80049514000000000000008c05706f736978948c0673797374656d9493942e"),
    "global posix.system is not allowed",
  );
  // The classic payload, protocol 2: posix.system('echo hi') with GLOBAL.
  refused(
    raw(
      0x80,
      0x02,
      0x63,
      ...new TextEncoder().encode("posix\nsystem\n"),
      0x58,
      ...u32le(7),
      ...new TextEncoder().encode("echo hi"),
      0x85,
      0x52,
      STOP,
    ),
    "global posix.system is not allowed",
  );
  for (
    const g of [
      "builtins.eval",
      "builtins.getattr",
      "builtins.list",
      "copyreg._reconstructor",
    ]
  ) {
    const [m, n] = [
      g.slice(0, g.lastIndexOf(".")),
      g.slice(g.lastIndexOf(".") + 1),
    ];
    refused(p4(...sbu(m), ...sbu(n), 0x93, STOP), `global ${g} is not allowed`);
  }
  // Protocol 2 names are mapped first: __builtin__.eval is builtins.eval.
  refused(
    raw(
      0x80,
      0x02,
      0x63,
      ...new TextEncoder().encode("__builtin__\neval\n"),
      STOP,
    ),
    "global builtins.eval is not allowed",
  );
  // A legal global that is never called is refused too.
  refused(
    p4(...sbu("builtins"), ...sbu("set"), 0x93, STOP),
    "global builtins.set may only be called",
  );
});

Deno.test("refused: a stream without PROTO 2–5, or a second PROTO", () => {
  // Protocol 0: cos\nsystem\n(S'echo hi'\ntR.
  refused(
    new TextEncoder().encode("cos\nsystem\n(S'echo hi'\ntR."),
    "does not start with PROTO",
  );
  refused(raw(0x80, 0x01, 0x4e, STOP), "protocol 1 is not supported");
  refused(raw(0x80, 0x06, 0x4e, STOP), "protocol 6 is not supported");
  refused(raw(), "does not start with PROTO");
  refused(p4(0x80, 0x04, 0x4e, STOP), "PROTO appears again");
});

function nestedLists(n: number): Uint8Array {
  // [[[...]]]: n EMPTY_LISTs, then n-1 APPENDs.
  return p4(
    ...new Array(n).fill(EMPTY_LIST),
    ...new Array(n - 1).fill(0x61),
    STOP,
  );
}

Deno.test(`refused: nesting deeper than ${MAX_DEPTH} levels (lists, tuples, dicts)`, () => {
  let v = loads(nestedLists(MAX_DEPTH));
  let depth = 0;
  while (Array.isArray(v)) {
    depth++;
    v = v[0];
  }
  assert.equal(depth, MAX_DEPTH);
  refused(nestedLists(MAX_DEPTH + 1), `nested deeper than ${MAX_DEPTH} levels`);
  // TUPLE1 chains nest without growing the stack: (((None,),),)…
  refused(
    p4(0x4e, ...new Array(MAX_DEPTH + 1).fill(0x85), STOP),
    `nested deeper than ${MAX_DEPTH}`,
  );
  // {'a': {'a': …}} by SETITEM.
  const dicts: number[] = [];
  for (let i = 0; i < MAX_DEPTH + 1; i++) dicts.push(0x7d, ...sbu("a"));
  dicts.push(0x7d);
  for (let i = 0; i < MAX_DEPTH + 1; i++) dicts.push(0x73);
  refused(p4(...dicts, STOP), `nested deeper than ${MAX_DEPTH}`);
  // Our writer refuses what it could not read back.
  let deep: unknown = null;
  for (let i = 0; i < MAX_DEPTH + 1; i++) deep = [deep];
  assert.throws(() => dumps(deep), /nested deeper than 512 levels/);
});

Deno.test("refused: the 500-byte billion laughs (10^19 values after memo expansion)", () => {
  // L0 = [1]*10; Lk = [L(k-1)]*10 by BINGET: 20 levels.
  const parts: number[] = [
    EMPTY_LIST,
    0x94,
    MARK,
    ...new Array(10).fill([0x4b, 1]).flat(),
    APPENDS,
  ];
  for (let k = 1; k < 19; k++) {
    parts.push(EMPTY_LIST, 0x94, MARK);
    for (let i = 0; i < 10; i++) parts.push(0x68, k - 1);
    parts.push(APPENDS, 0x30); // POP: keep the stack small
  }
  parts.push(0x68, 18);
  const bytes = p4(...parts, STOP);
  assert.ok(bytes.length <= 500, `${bytes.length} bytes`);
  refused(bytes, `more than ${MAX_ITEMS} values after memo expansion`);
  // Large strings fetched again and again count by size.
  const big = "x".repeat(1 << 20);
  const reps: number[] = [EMPTY_LIST, MARK, 0x58, ...u32le(big.length)];
  const fetches: number[] = [];
  for (let i = 0; i < 1000; i++) fetches.push(0x68, 0);
  refused(
    raw(
      0x80,
      0x04,
      reps,
      new TextEncoder().encode(big),
      0x94,
      fetches,
      APPENDS,
      STOP,
    ),
    "after memo expansion",
  );
});

Deno.test(`refused: more than ${MAX_ITEMS} values even without the memo`, () => {
  const list = (n: number) => {
    const b = new Uint8Array(5 + n + 1);
    b.set([0x80, 0x04, EMPTY_LIST, MARK]);
    b.fill(0x4e, 4, 4 + n);
    b[4 + n] = APPENDS;
    b[5 + n] = STOP;
    return b;
  };
  // The list and its items: 10^6 values in all is the most.
  assert.equal((loads(list(MAX_ITEMS - 1)) as unknown[]).length, MAX_ITEMS - 1);
  refused(list(MAX_ITEMS), `more than ${MAX_ITEMS} values`);
});

Deno.test("refused: cycles (a list, dict or set holding itself; DUP)", () => {
  // l = []; l.append(l): pickle.dumps(l, 4), CPython 3.12.
  refused(
    unhex("80049506000000000000005d946800612e"),
    "a list fetched from the memo would be modified",
  );
  // d = {}; d['d'] = d
  refused(
    p4(0x7d, 0x94, ...sbu("d"), 0x68, 0, 0x73, STOP),
    "a dict fetched from the memo",
  );
  // l.extend([l]) with APPENDS
  refused(
    p4(EMPTY_LIST, 0x94, MARK, 0x68, 0, APPENDS, STOP),
    "a list fetched from the memo",
  );
  // DUP then APPEND: l.append(l)
  refused(p4(EMPTY_LIST, 0x32, 0x61, STOP), "a list fetched from the memo");
  // An indirect cycle: a = []; b = [a]; a.append(b)
  refused(
    p4(EMPTY_LIST, 0x94, EMPTY_LIST, 0x68, 0, 0x61, 0x61, STOP),
    "fetched from the memo would be modified",
  );
  // Sharing without a cycle is fine: [l, l] (CPython's bytes).
  const shared = loads(
    unhex("8004950c000000000000005d94285d944b01616801652e"),
  ) as unknown[][];
  assert.equal(shared[0], shared[1]);
  // Our writer refuses cycles too.
  const l: unknown[] = [];
  l.push({ l });
  assert.throws(() => dumps(l), /\$\[0\]\.l is a reference cycle/);
});

Deno.test("refused: a length larger than what remains, checked before allocating (cpython#115952)", () => {
  const huge = (code: number, width: number) =>
    p4(
      code,
      ...(width === 4 ? u32le(0xfffffff0) : u64le(1n << 60n)),
      0x61,
      STOP,
    );
  refused(
    huge(0x58, 4),
    "a str of 4294967280 bytes is longer than the 2 bytes that remain",
  );
  refused(huge(0x42, 4), "a bytes of 4294967280 bytes is longer");
  refused(
    huge(0x8e, 8),
    "a bytes of",
    "is longer than the 2 bytes that remain",
  );
  refused(huge(0x8d, 8), "a str of");
  refused(huge(0x96, 8), "a bytearray of");
  refused(
    p4(0x8b, ...u32le(0x7ffffff0), STOP),
    "a LONG of 2147483632 bytes is longer",
  );
  refused(p4(0x8b, ...u32le(0xfffffff0), STOP), "LONG4 has a negative length");
  refused(
    p4(0x8c, 0xff, 0x61, STOP),
    "a str of 255 bytes is longer than the 2 bytes",
  );
  refused(
    p4(0x95, ...u64le(1n << 40n), 0x4e, STOP),
    "a FRAME of 1099511627776 bytes is longer",
  );
  // Inside a frame: FRAME 4 holds `C 05 'ab'`; the bytes run past the frame.
  refused(
    p4(0x95, ...u64le(4n), 0x43, 0x05, 0x61, 0x62, 0x63, 0x64, 0x65, STOP),
    "remain of the data or frame",
  );
  refused(
    p4(0x95, ...u64le(2n), 0x4e, 0x95, ...u64le(1n), STOP),
    "a FRAME starts inside another frame",
  );
  // Fixed-size operands cut off.
  refused(p4(0x4a, 0x01, 0x02), "an operand of 4 bytes is cut off");
  refused(p4(0x47, 0x01), "an operand of 8 bytes is cut off");
  // A huge memo index costs one entry (CPython 3.11–3.13 raise MemoryError).
  assert.equal(
    loads(
      p4(
        0x4e,
        0x72,
        ...u32le(0x7fffffff),
        0x30,
        0x6a,
        ...u32le(0x7fffffff),
        STOP,
      ),
    ),
    null,
  );
});

Deno.test("refused: BINGET of a memo slot never set", () => {
  refused(p4(0x68, 0x03, STOP), "BINGET of memo slot 3, which was never set");
  refused(p4(0x4e, 0x94, 0x6a, ...u32le(1), STOP), "BINGET of memo slot 1");
});

Deno.test("refused: unhashable dict keys and set items (list, dict, set, bytearray)", () => {
  const keys: [string, number[]][] = [
    ["list", [EMPTY_LIST]],
    ["dict", [0x7d]],
    ["set", [0x8f]],
    ["bytearray", [0x96, ...u64le(0n)]],
    ["tuple", [EMPTY_LIST, 0x85]], // ([],) — a tuple holding a list
  ];
  for (const [name, key] of keys) {
    const type = name === "tuple" ? "tuple" : name;
    refused(
      p4(0x7d, ...key, 0x4e, 0x73, STOP),
      `unhashable type '${type}' is used as a dict key`,
    );
    refused(
      p4(0x7d, MARK, ...key, 0x4e, 0x75, STOP),
      `unhashable type '${type}' is used as a dict key`,
    );
    refused(
      p4(0x8f, MARK, ...key, 0x90, STOP),
      `unhashable type '${type}' is used as a set item`,
    );
    refused(
      p4(MARK, ...key, 0x91, STOP),
      `unhashable type '${type}' is used as a frozenset item`,
    );
  }
  // Protocol 2's set([[1]]): builtins.set with a list of lists.
  refused(
    raw(
      0x80,
      0x02,
      0x63,
      ...new TextEncoder().encode("__builtin__\nset\n"),
      EMPTY_LIST,
      EMPTY_LIST,
      0x61,
      0x85,
      0x52,
      STOP,
    ),
    "unhashable type 'list' is used as a set item",
  );
  // Hashable keys are fine: tuples, frozensets, bytes, None.
  const ok = loads(
    p4(
      0x7d,
      0x29,
      0x4e,
      0x73,
      MARK,
      0x91,
      0x4e,
      0x73,
      0x43,
      0,
      0x4e,
      0x73,
      0x4e,
      0x4e,
      0x73,
      STOP,
    ),
  );
  assert.equal((ok as Map<unknown, unknown>).size, 4);
  // And our writer refuses what Python could not read.
  assert.throws(
    () => dumps(new Map([[[1], 2]])),
    /\(key array\) is an array \(a Python list\), which cannot be a dict key/,
  );
  assert.throws(
    () => dumps({ s: new Set([new Set()]) }),
    /\$\.s\(item 0\) is a Set \(a Python set\), which cannot be a set item/,
  );
});

Deno.test("refused: bytes after STOP, truncation, and stack shapes CPython tolerates", () => {
  refused(p4(0x4e, STOP, 0x00), "1 bytes follow STOP");
  refused(p4(0x4e, STOP, 0x80, 0x04, 0x4e, STOP), "4 bytes follow STOP");
  refused(p4(0x4e), "the data ends before STOP");
  refused(p4(0x4e, 0x4e, STOP), "2 values are left at STOP");
  refused(p4(STOP), "the stack is empty at STOP");
  refused(p4(MARK, 0x4e, STOP), "a MARK is still open at STOP");
  refused(p4(0x61, STOP), "APPEND finds too few values");
  refused(
    p4(0x4e, MARK, 0x85, STOP),
    "TUPLE1 finds too few values on the stack (or above its MARK)",
  );
  refused(p4(0x74, STOP), "TUPLE without a MARK");
  refused(p4(0x4e, 0x4e, 0x61, STOP), "APPEND to a NoneType");
  refused(p4(0x29, 0x4e, 0x61, STOP), "APPEND to a tuple");
  refused(
    p4(0x7d, MARK, 0x4e, 0x75, STOP),
    "SETITEMS has a key without a value",
  );
  refused(p4(0x8c, 0x02, 0xc3, 0x28, STOP), "a str is not valid UTF-8");
  refused(p4(0x4b, 1, 0x4b, 2, 0x93, STOP), "STACK_GLOBAL needs two str");
});

Deno.test("every refusal names the byte offset", () => {
  assert.throws(() => loads(p4(0x4e, 0xff, STOP)), /\(at byte 3\)$/);
});
