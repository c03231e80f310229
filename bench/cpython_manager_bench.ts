/**
 * Benchmark of the manager's CPython interop, both directions, each side by
 * side in one run with its CPython anchor:
 * - a CPython 3.11 client's put+get pairs/s on a managed Queue against our
 *   server's CPython door (`serve({ python })`, in this process) vs against
 *   CPython's own `SyncManager` server (bench/py/cpython_manager_peer.py);
 * - our `connect({ protocol: "cpython" })` client's pairs/s against that
 *   CPython server vs a CPython client against the same server;
 * - (info) the transport floor: the same CPython client doing bare 40-byte
 *   round trips against a `connection/` echo vs a CPython Listener echo.
 *
 * A pair is one `put` then one `get`, sequential, from one client thread.
 * Each figure: RUNS runs of about SECONDS after a warm-up, best run; each
 * figure and its anchor run back to back in each of ROUNDS rounds; the
 * figures are the rounds' medians and the ratio the median of the rounds'
 * ratios (the machine may be shared). Every process is pinned to CPU 0
 * (BENCH_PIN=0 to leave them free).
 *
 * Run: `deno run -A --unstable-worker-options bench/cpython_manager_bench.ts`
 * (env: BENCH_SECONDS, default 0.3; BENCH_RUNS, default 2; BENCH_ROUNDS,
 * default 5). Writes bench/results/cpython_manager.json.
 *
 * @module
 */

import { Listener } from "../connection/mod.ts";
import { type QueueProxy, SyncManager } from "../manager/mod.ts";
import { type BenchRow, cpython, pin, reportRows, row } from "./_common.ts";

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 0.3);
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 2);
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 5);
const KEY = new TextEncoder().encode("cpython-manager-bench");
const KEY_HEX = Array.from(KEY, (b) => b.toString(16).padStart(2, "0")).join(
  "",
);
const PEER = new URL("./py/cpython_manager_peer.py", import.meta.url).pathname;

const python = await cpython("3.11.7");
// One CPU for every process of the run (BENCH_PIN=0 to leave it): on this
// 2-vCPU VM a cross-CPU wake-up costs more than a round trip, so unpinned
// figures swing 2-3x with where the ends land.
const pinned = await pin();
console.log(`cpython_manager bench (${pinned})`);

/** A CPython client's best pairs/s against host:port (`mode`: client or ping). */
async function pythonClient(
  host: string,
  port: number,
  mode = "client",
): Promise<number> {
  const out = await new Deno.Command(python, {
    args: [
      PEER,
      mode,
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

/** Starts a CPython peer in `mode` (serve, echo); resolves its port. */
async function startPeer(mode: string) {
  const child = new Deno.Command(python, {
    args: [PEER, mode, KEY_HEX],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  let first = "";
  while (!first.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the CPython ${mode} peer did not start`);
    first += value;
  }
  void reader.cancel();
  return { child, port: JSON.parse(first).port as number };
}

// A CPython SyncManager server (the anchor of direction 1, the target of
// direction 2), and a CPython echo Listener (the transport floor).
const { child: pyServer, port: pyPort } = await startPeer("serve");
const { child: pyEcho, port: echoPort } = await startPeer("echo");

// The transport floor on our side: a connection/ Listener echoing frames.
const echo = new Listener({ address: "127.0.0.1:0", authkey: KEY });
const echoLoop = (async () => {
  for await (const c of echo) {
    (async () => {
      try {
        for (;;) await c.sendBytes(await c.recvBytes());
      } catch {
        c.close();
      }
    })();
  }
})();
const denoEcho = echo.address as { hostname: string; port: number };

const server = await SyncManager.serve({
  address: "127.0.0.1:0",
  authkey: KEY,
  python: { address: "127.0.0.1:0" },
});
const door = server.pythonAddress as { hostname: string; port: number };

const runs = {
  pyOnOurs: [] as number[],
  pyOnPy: [] as number[],
  oursOnPy: [] as number[],
  pyOnPy2: [] as number[],
  pingDeno: [] as number[],
  pingPy: [] as number[],
};
try {
  await using client = await SyncManager.connect({
    address: `127.0.0.1:${pyPort}`,
    authkey: KEY,
    protocol: "cpython",
  });
  const q = await client.Queue();
  for (let round = 0; round < ROUNDS; round++) {
    runs.pyOnOurs.push(await pythonClient(door.hostname, door.port));
    runs.pyOnPy.push(await pythonClient("127.0.0.1", pyPort));
    runs.oursOnPy.push(await denoPairs(q));
    runs.pyOnPy2.push(await pythonClient("127.0.0.1", pyPort));
    runs.pingDeno.push(
      await pythonClient(denoEcho.hostname, denoEcho.port, "ping"),
    );
    runs.pingPy.push(await pythonClient("127.0.0.1", echoPort, "ping"));
  }
  await q[Symbol.asyncDispose]();
} finally {
  await server.close();
  echo.close();
  await echoLoop;
  for (const c of [pyServer, pyEcho]) {
    await c.stdin.close();
    await c.status;
  }
}

// Each figure and its anchor ran back to back in every round: the ratio is
// the median of the rounds' ratios (common load drift cancels).
const rows: BenchRow[] = [
  row(
    "CPython client put+get pairs on a managed Queue, our server",
    "pairs/s",
    runs.pyOnOurs,
    "same client, CPython 3.11 SyncManager server",
    runs.pyOnPy,
    1,
  ),
  row(
    'our client (protocol: "cpython") put+get pairs, CPython server',
    "pairs/s",
    runs.oursOnPy,
    "CPython 3.11 client, same server",
    runs.pyOnPy2,
    1,
  ),
  row(
    "transport floor: CPython client 2 round trips of 40 B on a raw connection/ echo",
    "pairs/s",
    runs.pingDeno,
    "same client, CPython 3.11 Listener echo",
    runs.pingPy,
    null,
  ),
];

await reportRows("cpython_manager", rows);
