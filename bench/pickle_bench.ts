/**
 * Benchmark of the pickle codec, side by side in one run with its anchors:
 *
 * - `loads`/`dumps` against our msgpack codec (`_msgpack.ts`, what
 *   `serializer: "msgpack"` uses) on the same values: a small object
 *   (`{'id': 1, 'op': 'get', 'args': [1, 'x']}`, CPython's own 50-byte
 *   pickle with its FRAME and memo), a manager request tuple, ten records,
 *   and a 1 MiB bytes value. Each figure: ROUNDS interleaved rounds of about
 *   25 ms per subject, timed by this process's CPU time; the median of each
 *   side's ops/s and of the round-by-round ratios.
 * - `send()`/`recv()` round trips of that small object between Deno
 *   (`serializer: "pickle"`) and CPython 3.11, in both roles, against
 *   CPython↔CPython (bench/py/pickle_peer.py: `conn.send(conn.recv())`
 *   echo servers and a driver that times its own loop), TCP, RUNS
 *   interleaved runs of SECONDS each. The process pins itself and its
 *   children to CPU 0 as the connection bench does (`BENCH_PIN=0` not to).
 *
 * Run: `deno run -A bench/pickle_bench.ts` (env: `BENCH_SECONDS`, default 1;
 * `BENCH_RUNS`, default 3; `BENCH_ROUNDS`, default 15; `BENCH_ONLY`: `codec`
 * or `rtt`). Writes
 * bench/results/pickle.json.
 *
 * @module
 */

import process from "node:process";
import { Client, EOFError, Listener } from "../connection/mod.ts";
import { dumps, loads, tuple } from "../pickle/mod.ts";
import { decode, encode } from "../_msgpack.ts";
import {
  type BenchRow,
  cpython,
  median,
  pin,
  row,
  writeResults,
} from "./_common.ts";

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 1);
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 3);
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 15);
/** "codec" or "rtt" to run only that part. */
const ONLY = Deno.env.get("BENCH_ONLY");
const PEER = new URL("./py/pickle_peer.py", import.meta.url).pathname;
const AUTHKEY = "bench-secret";
const OBJ = { id: 1, op: "get", args: [1, "x"] };

function unhex(s: string): Uint8Array {
  return new Uint8Array(s.match(/../g)!.map((x) => parseInt(x, 16)));
}

interface Case {
  name: string;
  /** The JS value (what dumps/encode get). */
  value: unknown;
  /** CPython's pickle of it (what loads gets). */
  pickled: Uint8Array;
}

// CPython 3.11 pickle.dumps(..., 4) of each value.
const CASES: Case[] = [
  {
    name: "small object",
    value: OBJ,
    pickled: unhex(
      "80049528000000000000007d94288c026964944b018c026f70948c03676574948c0461726773945d94284b018c01789465752e",
    ),
  },
  {
    name: "manager request tuple",
    value: tuple("7f8c33b8e570", "put", tuple(5), {}),
    pickled: unhex(
      "8004951f00000000000000288c0c376638633333623865353730948c03707574944b0585947d9474942e",
    ),
  },
  {
    name: "10 records",
    value: Array.from({ length: 10 }, (_, i) => ({
      name: `item${i}`,
      price: i * 1.5 + 0.25,
      tags: tuple("a", "b"),
      qty: i,
    })),
    pickled: new Uint8Array(0), // filled below from our dumps (no memo)
  },
  {
    name: "1 MiB bytes",
    value: new Uint8Array(1 << 20).fill(7),
    pickled: new Uint8Array(0),
  },
];
for (const c of CASES) if (c.pickled.length === 0) c.pickled = dumps(c.value);

/**
 * ops/s of `f` over a batch of about 25 ms, by the CPU time of this process
 * (the codec runs on this thread only; other processes' load on the shared
 * CPUs inflates wall time but not this).
 */
function rate(f: () => unknown, batch: number): number {
  const c0 = process.cpuUsage();
  for (let i = 0; i < batch; i++) f();
  const c = process.cpuUsage(c0);
  return batch / ((c.user + c.system) / 1e6);
}

/** Interleaved rounds of two subjects: their ops/s per round. */
function duel(
  ours: () => unknown,
  anchor: () => unknown,
): [number[], number[]] {
  // Warm up and size the batch for ~25 ms of the slower subject.
  let batch = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) {
      ours();
      anchor();
    }
    if (performance.now() - t0 > 50) break;
    batch *= 2;
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      a.push(rate(ours, batch));
      b.push(rate(anchor, batch));
    } else {
      b.push(rate(anchor, batch));
      a.push(rate(ours, batch));
    }
  }
  return [a, b];
}

// ---------------------------------------------------------------------------
// Round trips with CPython.

/** A Python process speaking JSON lines. */
class Py {
  readonly child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #reader: ReadableStreamDefaultReader<string>;
  #buf = "";

  constructor(exe: string, args: string[]) {
    this.child = new Deno.Command(exe, {
      args: ["-u", PEER, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.child.stdin.getWriter();
    this.#reader = this.child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
  }

  async line(): Promise<Record<string, unknown>> {
    for (;;) {
      const i = this.#buf.indexOf("\n");
      if (i >= 0) {
        const l = this.#buf.slice(0, i);
        this.#buf = this.#buf.slice(i + 1);
        return JSON.parse(l);
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error("python peer exited");
      this.#buf += value;
    }
  }

  async say(s: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(s + "\n"));
  }

  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.#reader.cancel().catch(() => {});
    await this.child.status;
  }
}

/** Round trips/s of our Client (pickle) against a CPython echo server. */
async function oursDriving(
  conn: Awaited<ReturnType<typeof Client>>,
  bytesOnly: boolean,
): Promise<number> {
  const pickled = CASES[0]!.pickled;
  let n = 0;
  const t0 = performance.now();
  for (;;) {
    for (let i = 0; i < 50; i++) {
      if (bytesOnly) {
        await conn.sendBytes(pickled);
        await conn.recvBytes();
      } else {
        await conn.send(OBJ);
        await conn.recv();
      }
    }
    n += 50;
    const dt = (performance.now() - t0) / 1000;
    if (dt >= SECONDS) return n / dt;
  }
}

async function roundTrips(py: string): Promise<BenchRow[]> {
  // CPython ↔ CPython.
  const pyServer = new Py(py, ["serve", "AF_INET"]);
  const { address: pyAddr } = await pyServer.line();
  const pyDriver = new Py(py, ["drive", "AF_INET", JSON.stringify(pyAddr)]);
  await pyDriver.line();
  // Deno client → CPython server.
  const pyServer2 = new Py(py, ["serve", "AF_INET"]);
  const { address: pyAddr2 } = await pyServer2.line();
  const client = await Client(pyAddr2 as [string, number], {
    authkey: AUTHKEY,
    serializer: "pickle",
  });
  // CPython client → Deno server.
  const listener = new Listener({ authkey: AUTHKEY, serializer: "pickle" });
  const accepted = listener.accept();
  const a = listener.address as { hostname: string; port: number };
  const pyDriver2 = new Py(py, [
    "drive",
    "AF_INET",
    JSON.stringify([a.hostname, a.port]),
  ]);
  const server = await accepted;
  await pyDriver2.line();
  const serving = (async () => {
    try {
      for (;;) await server.send(await server.recv());
    } catch (e) {
      if (!(e instanceof EOFError)) throw e;
    }
  })();

  const anchor: number[] = [];
  const denoClient: number[] = [];
  const denoServer: number[] = [];
  const denoBytes: number[] = [];
  const runPy = async (d: Py) => {
    await d.say(`run ${SECONDS}`);
    return (await d.line()).rate as number;
  };
  // Warm-up.
  await pyDriver.say("run 0.3");
  await pyDriver.line();
  await pyDriver2.say("run 0.3");
  await pyDriver2.line();
  for (let r = 0; r < RUNS; r++) {
    anchor.push(await runPy(pyDriver));
    denoClient.push(await oursDriving(client, false));
    denoBytes.push(await oursDriving(client, true));
    denoServer.push(await runPy(pyDriver2));
  }
  client.close();
  await pyDriver.close();
  await pyDriver2.close();
  await serving;
  server.close();
  listener.close();
  await pyServer.close();
  await pyServer2.close();
  const unit = "round trips/s";
  return [
    row(
      "pickle send/recv round trip, Deno client → CPython echo (TCP)",
      unit,
      denoClient,
      "CPython client → CPython echo",
      anchor,
      0.9,
    ),
    row(
      "the same, but sendBytes/recvBytes of CPython's pickle (no codec on our side)",
      unit,
      denoBytes,
      "CPython client → CPython echo",
      anchor,
      null,
    ),
    row(
      "pickle send/recv round trip, CPython client → Deno echo (TCP)",
      unit,
      denoServer,
      "CPython client → CPython echo",
      anchor,
      0.9,
    ),
  ];
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toPrecision(3);
}

async function main(): Promise<void> {
  const pinned = await pin();
  const rows: BenchRow[] = [];
  for (const c of ONLY === "rtt" ? [] : CASES) {
    const packed = encode(c.value).slice();
    const [l, d] = duel(() => loads(c.pickled), () => decode(packed));
    rows.push(
      row(
        `loads, ${c.name} (${c.pickled.length} B)`,
        "ops/s",
        l,
        "msgpack decode",
        d,
        c.name === "small object" ? 0.5 : null,
      ),
    );
    const [p, e] = duel(() => dumps(c.value), () => encode(c.value));
    rows.push(
      row(`dumps, ${c.name}`, "ops/s", p, "msgpack encode", e, null),
    );
  }
  if (ONLY !== "codec") rows.push(...await roundTrips(await cpython()));
  console.log("| figure | ours | anchor | ratio | target |");
  console.log("|---|---:|---|---:|---|");
  for (const r of rows) {
    const ok = r.target === "info"
      ? ""
      : r.ratio >= Number(r.target.slice(3, -1))
      ? " ✅"
      : " ❌";
    console.log(
      `| ${r.name} | ${fmt(r.ours)} ${r.unit} | ${r.anchor}: ${
        fmt(r.anchorValue)
      } | ${r.ratio.toFixed(2)}x | ${r.target}${ok} |`,
    );
  }
  console.log(
    `\ncodec: ${ROUNDS} interleaved rounds of ~25 ms; round trips: ${RUNS} runs of ${SECONDS} s; medians; Deno ${Deno.version.deno}; ${pinned}; ops/s ratio median ${
      median(rows.map((r) => r.ratio)).toFixed(2)
    }x`,
  );
  await writeResults("pickle", rows);
}

if (import.meta.main) await main();
