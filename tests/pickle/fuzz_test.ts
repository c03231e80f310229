// Seeded, bounded fuzzing of the reader (issue 12 "Safety"): random opcode
// streams and mutated valid pickles. loads() only ever returns or throws
// UnpicklingError; a child process with a small heap shows no input makes it
// keep more than a small multiple of its size (fixtures/fuzz_memory.ts). And
// the writer: loads(dumps(v)) is v for random values, protocols 2–5.

import assert from "node:assert/strict";
import { dumps, loads, UnpicklingError } from "../../pickle/mod.ts";
import { prng, randomValue, samePy } from "./_random.ts";
import { unhex } from "./_helpers.ts";

const vectors = (JSON.parse(
  Deno.readTextFileSync(
    new URL("./fixtures/plain-vectors.json", import.meta.url),
  ),
) as { hex: string }[]).map((v) => unhex(v.hex));

/** Opcodes the reader knows, weighted in so streams get past the first op. */
const KNOWN = [
  0x28,
  0x2e,
  0x30,
  0x31,
  0x32,
  0x42,
  0x43,
  0x47,
  0x4a,
  0x4b,
  0x4d,
  0x4e,
  0x52,
  0x58,
  0x5d,
  0x61,
  0x62,
  0x63,
  0x65,
  0x68,
  0x6a,
  0x71,
  0x72,
  0x73,
  0x74,
  0x75,
  0x7d,
  0x29,
  0x81,
  0x85,
  0x86,
  0x87,
  0x88,
  0x89,
  0x8a,
  0x8b,
  0x8c,
  0x8d,
  0x8e,
  0x8f,
  0x90,
  0x91,
  0x93,
  0x94,
  0x95,
  0x96,
];

function randomStream(r: () => number): Uint8Array {
  const out: number[] = [0x80, 2 + ((r() * 4) | 0)];
  const n = 1 + ((r() * 48) | 0);
  for (let i = 0; i < n; i++) {
    const x = r();
    if (x < 0.6) out.push(KNOWN[(r() * KNOWN.length) | 0]!);
    else if (x < 0.7) out.push((r() * 256) | 0);
    else if (x < 0.8) out.push(0x8c, 3, 0x61, 0x62, 0x63); // a short str
    else if (x < 0.85) {
      out.push(0x8c, 8, ...new TextEncoder().encode("builtins"));
    } else if (x < 0.9) out.push(0x8c, 3, ...new TextEncoder().encode("set"));
    else out.push((r() * 4) | 0); // small operand bytes
  }
  if (r() < 0.7) out.push(0x2e);
  return new Uint8Array(out);
}

function mutate(r: () => number, src: Uint8Array): Uint8Array {
  const b = [...src];
  const edits = 1 + ((r() * 3) | 0);
  for (let e = 0; e < edits; e++) {
    const i = (r() * b.length) | 0;
    const k = r();
    if (k < 0.4) b[i] = (r() * 256) | 0;
    else if (k < 0.55) b[i] = b[i]! ^ (1 << ((r() * 8) | 0));
    else if (k < 0.7) b.splice(i, 0, (r() * 256) | 0);
    else if (k < 0.8) b.splice(i, 1);
    else if (k < 0.9) b.length = i;
    else b.splice(i, 0, ...b.slice(i, i + 1 + ((r() * 8) | 0)));
  }
  return new Uint8Array(b);
}

function survive(bytes: Uint8Array): "ok" | "refused" {
  try {
    loads(bytes);
    loads(bytes, { bigints: true });
    return "ok";
  } catch (e) {
    if (e instanceof UnpicklingError) return "refused";
    throw new Error(
      `loads threw a ${(e as Error)?.name}: ${e} for ${[...bytes]}`,
    );
  }
}

Deno.test("fuzz: random opcode streams only return or throw UnpicklingError", () => {
  const r = prng(12);
  const seen = { ok: 0, refused: 0 };
  for (let i = 0; i < 20_000; i++) seen[survive(randomStream(r))]++;
  // Both outcomes happen, so the streams reach past the first opcodes.
  assert.ok(seen.ok > 50 && seen.refused > 10_000, JSON.stringify(seen));
});

Deno.test("fuzz: mutated valid pickles only return or throw UnpicklingError", () => {
  const r = prng(34);
  const sources = [...vectors];
  for (let i = 0; i < 40; i++) {
    sources.push(dumps(randomValue(r), { protocol: (2 + (i % 4)) as 2 }));
  }
  const seen = { ok: 0, refused: 0 };
  for (let i = 0; i < 20_000; i++) {
    seen[survive(mutate(r, sources[(r() * sources.length) | 0]!))]++;
  }
  assert.ok(seen.ok > 500 && seen.refused > 5000, JSON.stringify(seen));
});

Deno.test("fuzz: loads(dumps(v)) is v for 3000 random values, protocols 2–5", () => {
  const r = prng(56);
  for (let i = 0; i < 3000; i++) {
    const v = randomValue(r);
    const protocol = (2 + (i % 4)) as 2 | 3 | 4 | 5;
    const back = loads(dumps(v, { protocol }));
    assert.ok(samePy(v, back), `value ${i}, protocol ${protocol}`);
  }
});

Deno.test("fuzz: no input makes loads() keep more than a small multiple of its size (child with a 96 MB heap)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--v8-flags=--max-old-space-size=96,--expose-gc,--single-threaded-gc",
      new URL("./fixtures/fuzz_memory.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, stdout + new TextDecoder().decode(out.stderr));
  const report = JSON.parse(stdout) as {
    inputs: number;
    worst: number;
    bound: number;
  };
  assert.ok(report.inputs >= 250, stdout);
  assert.ok(report.worst <= report.bound, stdout);
});
