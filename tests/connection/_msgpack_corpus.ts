// Values whose msgpack bytes were recorded from msgpackr 1.11.5
// (`useRecords: false, moreTypes: false`) in fixtures/msgpack_bytes.json:
// the hand-written codec in _msgpack.ts must write the same bytes.

class Point {
  constructor(public x: number, public y: number) {}
  get norm(): number {
    return Math.hypot(this.x, this.y);
  }
}

class WithToJSON {
  secret = 1;
  toJSON(): unknown {
    return { shown: true };
  }
}

/** name → a function making the value (fresh each call). */
export const corpus: Record<string, () => unknown> = {
  "null": () => null,
  "undefined": () => undefined,
  "true": () => true,
  "false": () => false,
  "int 0": () => 0,
  "int -0": () => -0,
  "int 1": () => 1,
  "int 31": () => 31,
  "int 32": () => 32,
  "int 127": () => 127,
  "int 128": () => 128,
  "int 255": () => 255,
  "int 256": () => 256,
  "int 65535": () => 65535,
  "int 65536": () => 65536,
  "int 2^32-1": () => 2 ** 32 - 1,
  "int 2^32": () => 2 ** 32,
  "int -1": () => -1,
  "int -32": () => -32,
  "int -33": () => -33,
  "int -128": () => -128,
  "int -129": () => -129,
  "int -32768": () => -32768,
  "int -32769": () => -32769,
  "int -2^31": () => -(2 ** 31),
  "int -2^31-1": () => -(2 ** 31) - 1,
  "max safe": () => Number.MAX_SAFE_INTEGER,
  "min safe": () => Number.MIN_SAFE_INTEGER,
  "float 1.5": () => 1.5,
  "float -0.1": () => -0.1,
  "NaN": () => NaN,
  "Infinity": () => Infinity,
  "-Infinity": () => -Infinity,
  "tiny float": () => 5e-324,
  "bigint 0": () => 0n,
  "bigint -1": () => -1n,
  "bigint 2^63-1": () => 2n ** 63n - 1n,
  "bigint 2^63": () => 2n ** 63n,
  "bigint 2^64-1": () => 2n ** 64n - 1n,
  "bigint -2^63": () => -(2n ** 63n),
  "str empty": () => "",
  "str a": () => "a",
  "str 31": () => "x".repeat(31),
  "str 32": () => "x".repeat(32),
  "str 63": () => "y".repeat(63),
  "str 64": () => "y".repeat(64),
  "str 255": () => "z".repeat(255),
  "str 256": () => "z".repeat(256),
  "str 65535": () => "w".repeat(65535),
  "str 65536": () => "w".repeat(65536),
  "str 2-byte short": () => "héllo",
  "str 3-byte short": () => "✓✓✓",
  "str 4-byte short": () => "a😀b",
  "str 11 e-acute (22 bytes)": () => "é".repeat(11),
  "str 16 e-acute (32 bytes)": () => "é".repeat(16),
  "str 20 checks (60 bytes)": () => "✓".repeat(20),
  "str 100 checks (300 bytes)": () => "✓".repeat(100),
  "str 30000 checks": () => "✓".repeat(30000),
  "str mixed long": () => "abc é ✓ 😀 ".repeat(50),
  "str lone surrogate short": () => "a\ud800b",
  "str lone low surrogate short": () => "\udc00",
  "str lone surrogate long": () => "a".repeat(70) + "\ud800",
  "str 1k ascii": () => "k".repeat(1000),
  "array empty": () => [],
  "array 15": () => Array.from({ length: 15 }, (_, i) => i),
  "array 16": () => Array.from({ length: 16 }, (_, i) => i),
  "array 65536": () => new Array(65536).fill(1),
  "array holes": () => [1, , 3],
  "array nested": () => [1, [2, [3, []]]],
  "object empty": () => ({}),
  "object small": () => ({ a: 1, b: "two", c: [3] }),
  "object 20 keys": () =>
    Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
  "object weird keys": () => ({ "weird key": 1, "": 2, "0": 3, "é": 4 }),
  "object long key": () => ({ ["q".repeat(40)]: 1 }),
  "object undefined value": () => ({ a: undefined }),
  "object null proto": () => {
    const o = Object.create(null);
    o.k = 1;
    return o;
  },
  "class instance": () => new Point(3, 4),
  "toJSON instance": () => new WithToJSON(),
  "map": () => new Map<unknown, unknown>([["a", 1], [2, "b"], [true, null]]),
  "map 16": () => new Map(Array.from({ length: 16 }, (_, i) => [`m${i}`, i])),
  "set": () => new Set([1, "two", 3]),
  "uint8array empty": () => new Uint8Array(0),
  "uint8array 4": () => new Uint8Array([0, 1, 254, 255]),
  "uint8array 255": () => new Uint8Array(255).fill(7),
  "uint8array 256": () => new Uint8Array(256).fill(8),
  "uint8array 65536": () => new Uint8Array(65536).fill(9),
  "uint8array subarray": () => new Uint8Array([1, 2, 3, 4, 5]).subarray(1, 4),
  "uint8clampedarray": () => new Uint8ClampedArray([1, 2, 255]),
  "int8array": () => new Int8Array([1, 2, 3]),
  "arraybuffer": () => new Uint8Array([5, 6, 7]).buffer,
  "date epoch": () => new Date(0),
  "date seconds": () => new Date(1_700_000_000_000),
  "date millis": () => new Date(1_700_000_000_123),
  "date negative": () => new Date(-1500),
  "date negative whole": () => new Date(-86_400_000),
  "date far future": () => new Date(2 ** 32 * 1000 + 5),
  "date invalid": () => new Date(NaN),
  "error": () => new TypeError("bad thing"),
  "regexp": () => /a+b/gi,
  "manager request": () => [7, "call", 3, "put", [1]],
  "records": () =>
    Array.from({ length: 10 }, (_, i) => ({
      id: i,
      name: `user${i}`,
      active: i % 2 === 0,
      score: i * 1.5,
      tags: ["a", "b"],
    })),
  "deep mix": () => ({
    list: [null, true, { x: [1.25, "s", new Uint8Array([1])] }],
    n: -5,
    big: 123n,
    when: new Date(86_400_000),
  }),
};
