// The hand-written msgpack codec (_msgpack.ts) against msgpackr 1.11.5, the
// dependency it replaced, in the same run: encode and decode of a small
// manager-like request, a 10-record object array, a 64 KiB Uint8Array and a
// 1k-char string; then the start-up of a Worker that imports each.
//
// The msgpackr side is what _msgpack.ts did before: checkSerializable() +
// Packr.pack to encode, Unpackr.unpack to decode (its Buffer → Uint8Array
// pass left out, which favours msgpackr). msgpackr is imported by a computed
// specifier so that `deno check` and deno.lock never see it.
//
// Run: `deno run -A --no-lock bench/msgpack_bench.ts` (BENCH_SECONDS per
// figure, default 0.3). Prints only. `--no-lock` keeps msgpackr out of
// deno.lock (as bench/pool_bench.ts runs piscina).
//
// @module

import { checkSerializable, decode, encode } from "../_msgpack.ts";

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 0.3);
const MSGPACKR = "npm:msgpackr@1.11.5";

type Codec = {
  encode(v: unknown): Uint8Array;
  decode(b: Uint8Array): unknown;
};
const { Packr } = await import(`${MSGPACKR}/pack`);
const { Unpackr } = await import(`${MSGPACKR}/unpack`);
const packr = new Packr({ useRecords: false, moreTypes: false });
const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  copyBuffers: true,
});
const old: Codec = {
  encode(v) {
    checkSerializable(v);
    return packr.pack(v);
  },
  decode: (b) => unpackr.unpack(b),
};
const ours: Codec = { encode, decode };

const values: Record<string, unknown> = {
  'request [id, "call", 3, "put", [1]]': [7, "call", 3, "put", [1]],
  "10-record object array": Array.from({ length: 10 }, (_, i) => ({
    id: i,
    name: `user${i}`,
    active: i % 2 === 0,
    score: i * 1.5,
    tags: ["a", "b"],
  })),
  "64 KiB Uint8Array": new Uint8Array(65536).fill(7),
  "1k-char string": "abcdefghij".repeat(100),
};

/** Operations per second of `f`, best of 3 runs of about SECONDS/3. */
function rate(f: () => void): number {
  for (let i = 0; i < 2000; i++) f();
  let best = 0;
  for (let r = 0; r < 3; r++) {
    let n = 0;
    const t0 = performance.now();
    const until = t0 + SECONDS * 1000 / 3;
    let t = t0;
    while (t < until) {
      for (let i = 0; i < 200; i++) f();
      n += 200;
      t = performance.now();
    }
    best = Math.max(best, n / ((t - t0) / 1000));
  }
  return best;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const rows: string[] = [];
for (const [name, v] of Object.entries(values)) {
  const bytesOld = old.encode(v).slice();
  const bytesOurs = ours.encode(v).slice();
  const same = bytesOld.length === bytesOurs.length &&
    bytesOld.every((x, i) => x === bytesOurs[i]);
  for (const op of ["encode", "decode"] as const) {
    // Interleave so both see the same machine load; keep each one's best.
    let a = 0;
    let b = 0;
    for (let round = 0; round < 3; round++) {
      a = Math.max(
        a,
        rate(
          op === "encode" ? () => old.encode(v) : () => old.decode(bytesOld),
        ),
      );
      b = Math.max(
        b,
        rate(
          op === "encode" ? () => ours.encode(v) : () => ours.decode(bytesOurs),
        ),
      );
    }
    rows.push(
      `| ${op} ${name} | ops/s | ${fmt(b)} | msgpackr 1.11.5 | ${fmt(a)} | ${
        (b / a).toFixed(2)
      }x |${same ? "" : " BYTES DIFFER"}`,
    );
  }
}

// Start-up: a fresh Worker that imports the codec and posts once.
const dir = await Deno.makeTempDir({ prefix: "msgpack-bench-" });
const codecUrl = new URL("../_msgpack.ts", import.meta.url).href;
const oursWorker = `${dir}/ours.ts`;
const oldWorker = `${dir}/old.ts`;
const bareWorker = `${dir}/bare.ts`;
await Deno.writeTextFile(
  oursWorker,
  `import { encode } from ${
    JSON.stringify(codecUrl)
  };\nself.postMessage(encode([1]).length);\n`,
);
await Deno.writeTextFile(
  oldWorker,
  `const { Packr } = await import(${
    JSON.stringify(`${MSGPACKR}/pack`)
  });\nself.postMessage(new Packr({ useRecords: false }).pack([1]).length);\n`,
);
await Deno.writeTextFile(bareWorker, `self.postMessage(2);\n`);

async function startup(path: string): Promise<number> {
  const t0 = performance.now();
  const w = new Worker(new URL(`file://${path}`).href, { type: "module" });
  await new Promise((resolve, reject) => {
    w.onmessage = resolve;
    w.onerror = reject;
  });
  const ms = performance.now() - t0;
  w.terminate();
  return ms;
}
const best = { ours: Infinity, old: Infinity, bare: Infinity };
for (let i = 0; i < 3; i++) await startup(oldWorker); // warm the npm cache
for (let i = 0; i < 15; i++) {
  best.bare = Math.min(best.bare, await startup(bareWorker));
  best.old = Math.min(best.old, await startup(oldWorker));
  best.ours = Math.min(best.ours, await startup(oursWorker));
}
await Deno.remove(dir, { recursive: true });
rows.push(
  `| Worker start importing the codec | ms (lower is better) | ${
    best.ours.toFixed(1)
  } | msgpackr 1.11.5 | ${best.old.toFixed(1)} | ${
    (best.ours / best.old).toFixed(2)
  }x |`,
  `| Worker start importing the codec vs a bare Worker | ms (lower is better) | ${
    best.ours.toFixed(1)
  } | bare Worker | ${best.bare.toFixed(1)} | ${
    (best.ours / best.bare).toFixed(2)
  }x |`,
);

console.log(
  `msgpack codec vs msgpackr (best of 3 interleaved rounds, ~${SECONDS}s each; Worker starts best of 15)\n`,
);
console.log("| figure | unit | ours | anchor | anchor value | ratio |");
console.log("|---|---|---:|---|---:|---:|");
for (const r of rows) console.log(r);
