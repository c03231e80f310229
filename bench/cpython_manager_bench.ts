/**
 * Benchmark of the manager's CPython interop, both directions, each side by
 * side in one run with its CPython anchor:
 * - a CPython 3.11 client's put+get pairs/s on a managed Queue against our
 *   server's CPython door (`serve({ python })`, in this process) vs against
 *   CPython's own `SyncManager` server (bench/py/cpython_manager_peer.py);
 * - our `connect({ protocol: "cpython" })` client's pairs/s against that
 *   CPython server vs a CPython client against the same server.
 *
 * A pair is one `put` then one `get`, sequential, from one client thread.
 * Each figure: RUNS runs of about SECONDS after a warm-up, best run; each
 * figure and its anchor run back to back in each of ROUNDS rounds, best
 * round kept (the machine may be shared).
 *
 * Run: `deno run -A --unstable-worker-options bench/cpython_manager_bench.ts`
 * (env: BENCH_SECONDS, default 0.5; BENCH_RUNS, default 3; BENCH_ROUNDS,
 * default 2). Writes bench/results/cpython_manager.json.
 *
 * @module
 */

import { type QueueProxy, SyncManager } from "../manager/mod.ts";
import { type BenchRow, cpython, reportRows } from "./_common.ts";

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 0.5);
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 3);
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 2);
const KEY = new TextEncoder().encode("cpython-manager-bench");
const KEY_HEX = Array.from(KEY, (b) => b.toString(16).padStart(2, "0")).join(
  "",
);
const PEER = new URL("./py/cpython_manager_peer.py", import.meta.url).pathname;

const python = await cpython("3.11.7");

/** A CPython client's best pairs/s against host:port. */
async function pythonClient(host: string, port: number): Promise<number> {
  const out = await new Deno.Command(python, {
    args: [
      PEER,
      "client",
      host,
      String(port),
      KEY_HEX,
      String(SECONDS),
      String(RUNS),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("the CPython client failed");
  return JSON.parse(new TextDecoder().decode(out.stdout)).pairs_per_s;
}

/** Our client's best pairs/s on a Queue proxy. */
async function denoPairs(q: QueueProxy): Promise<number> {
  for (let i = 0; i < 200; i++) {
    await q.put(i);
    await q.get();
  }
  let best = 0;
  for (let r = 0; r < RUNS; r++) {
    let n = 0;
    const t0 = performance.now();
    const deadline = t0 + SECONDS * 1000;
    for (;;) {
      await q.put(n);
      await q.get();
      n++;
      if (n % 50 === 0 && performance.now() >= deadline) break;
    }
    best = Math.max(best, n / ((performance.now() - t0) / 1000));
  }
  return best;
}

// A CPython SyncManager server, for the anchor of direction 1 and the
// target of direction 2.
const pyServer = new Deno.Command(python, {
  args: [PEER, "serve", KEY_HEX],
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const reader = pyServer.stdout.pipeThrough(new TextDecoderStream()).getReader();
let first = "";
while (!first.includes("\n")) {
  const { value, done } = await reader.read();
  if (done) throw new Error("the CPython server did not start");
  first += value;
}
void reader.cancel();
const pyPort = JSON.parse(first).port as number;

const server = await SyncManager.serve({
  address: "127.0.0.1:0",
  authkey: KEY,
  python: { address: "127.0.0.1:0" },
});
const door = server.pythonAddress as { hostname: string; port: number };

const best = { pyOnOurs: 0, pyOnPy: 0, oursOnPy: 0, pyOnPy2: 0 };
try {
  await using client = await SyncManager.connect({
    address: `127.0.0.1:${pyPort}`,
    authkey: KEY,
    protocol: "cpython",
  });
  const q = await client.Queue();
  for (let round = 0; round < ROUNDS; round++) {
    best.pyOnOurs = Math.max(
      best.pyOnOurs,
      await pythonClient(door.hostname, door.port),
    );
    best.pyOnPy = Math.max(
      best.pyOnPy,
      await pythonClient("127.0.0.1", pyPort),
    );
    best.oursOnPy = Math.max(best.oursOnPy, await denoPairs(q));
    best.pyOnPy2 = Math.max(
      best.pyOnPy2,
      await pythonClient("127.0.0.1", pyPort),
    );
  }
  await q[Symbol.asyncDispose]();
} finally {
  await server.close();
  await pyServer.stdin.close();
  await pyServer.status;
}

const rows: BenchRow[] = [
  {
    name: "CPython client put+get pairs on a managed Queue, our server",
    unit: "pairs/s",
    ours: best.pyOnOurs,
    anchor: "same client, CPython 3.11 SyncManager server",
    anchorValue: best.pyOnPy,
    ratio: best.pyOnOurs / best.pyOnPy,
    target: "≥ 1×",
  },
  {
    name: 'our client (protocol: "cpython") put+get pairs, CPython server',
    unit: "pairs/s",
    ours: best.oursOnPy,
    anchor: "CPython 3.11 client, same server",
    anchorValue: best.pyOnPy2,
    ratio: best.oursOnPy / best.pyOnPy2,
    target: "≥ 1×",
  },
];

await reportRows("cpython_manager", rows);
