/**
 * Benchmark of the manager, side by side in one run with its anchors:
 * - CPython 3.11 `multiprocessing.Manager()` (bench/py/manager_bench.py,
 *   started here with `python3`): the same operations, sequential from one
 *   client, 4 client processes, remote over TCP and Unix, start-up;
 * - the raw round-trip rate of a Deno socket (16-byte ping-pong with an
 *   echo Worker, TCP no-delay, and over a Unix socket; for the remote
 *   figures, with an echo process, as their server is one) and the start
 *   time of a bare Deno Worker (and of a bare `node:worker_threads` Worker,
 *   the kind `start()` falls back to).
 *
 * Sequential figures: one call awaited after the other from one client.
 * Pipelined figures: the same calls with 1000 kept in flight on one
 * connection (each completion issues the next call).
 * A "pair" is put+get (queue) or acquire+release (lock). Each figure: a
 * warm-up, then RUNS runs of about SECONDS, best run (CPython likewise). The
 * machine may be shared: each figure runs back to back with its anchor, in
 * each of ROUNDS rounds, and both keep their best round.
 *
 * Run: `deno run -A --unstable-worker-options bench/manager_bench.ts`
 * (env: BENCH_SECONDS per run, default 0.2; BENCH_RUNS, default 3;
 * BENCH_ROUNDS, default 3). `--only=seq,pipe,raw,agg,remote,startup` runs
 * those groups alone (comma-separated) and writes no results file.
 * Writes bench/results/manager.json.
 *
 * @module
 */

import { type Address, SyncManager } from "../manager/mod.ts";
import { type BenchRow, cpython, writeResults } from "./_common.ts";

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 0.2);
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 3);
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 3);
const WINDOW = 1000;
const AUTHKEY = "bench-secret";
const ONLY = Deno.args.find((a) => a.startsWith("--only="))?.slice(7)
  .split(",");
/** Whether the group `name` runs (all do without `--only=`). */
const want = (name: string) => ONLY === undefined || ONLY.includes(name);

type Row = BenchRow;

// ---------------------------------------------------------------------------
// Sub-process modes: a remote server, and a client of the 4-client figure.

if (Deno.args[0] === "--serve") {
  const transport = Deno.args[1];
  let address: Address = "127.0.0.1:0";
  let dir: string | undefined;
  if (transport === "unix") {
    dir = await Deno.makeTempDir();
    address = { path: `${dir}/m.sock` };
  }
  const server = await SyncManager.serve({ address, authkey: AUTHKEY });
  console.log(JSON.stringify(server.address));
  for await (const _ of Deno.stdin.readable);
  await server.close();
  if (dir) await Deno.remove(dir, { recursive: true });
  Deno.exit(0);
}

if (Deno.args[0] === "--echo") {
  // A raw TCP echo server in its own process: the anchor of the remote
  // figures (whose server is a process of its own too).
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(JSON.stringify(l.addr));
  const c = await l.accept();
  c.setNoDelay(true);
  const buf = new Uint8Array(16);
  for (;;) {
    let got = 0;
    while (got < 16) {
      const n = await c.read(buf.subarray(got));
      if (n === null) Deno.exit(0);
      got += n;
    }
    await c.write(buf);
  }
}

if (Deno.args[0] === "--client") {
  const address = JSON.parse(Deno.args[1]!);
  const n = Number(Deno.args[2]);
  await using m = await SyncManager.connect({ address, authkey: AUTHKEY });
  const q = await m.Queue();
  for (let i = 0; i < 500; i++) {
    await q.put(i);
    await q.get();
  }
  console.log("ready");
  const reader = Deno.stdin.readable.getReader();
  await reader.read(); // go
  if (Deno.args[3] === "pipelined") {
    // n pairs, with up to 1000 calls in flight.
    let issued = 0;
    await new Promise<void>((resolve, reject) => {
      let inflight = 0;
      const next = () => {
        while (inflight < 1000 && issued < 2 * n) {
          inflight++;
          const i = issued++;
          (i & 1 ? q.get() : q.put(i)).then(() => {
            inflight--;
            if (issued < 2 * n) next();
            else if (inflight === 0) resolve();
          }, reject);
        }
      };
      next();
    });
  } else {
    for (let i = 0; i < n; i++) {
      await q.put(i);
      await q.get();
    }
  }
  console.log("done");
  reader.releaseLock();
  Deno.exit(0);
}

// ---------------------------------------------------------------------------
// Measuring

/** Best ops/s over RUNS runs of `fn` (each call does `per` ops). */
async function rate(fn: () => Promise<unknown>, per = 1): Promise<number> {
  const warm = performance.now();
  while (performance.now() - warm < SECONDS * 1000) await fn();
  let best = 0;
  for (let r = 0; r < RUNS; r++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < SECONDS * 1000) {
      for (let i = 0; i < 20; i++) await fn();
      n += 20;
      t = performance.now();
    }
    best = Math.max(best, (n * per) / ((t - t0) / 1000));
  }
  return best;
}

/**
 * Ops/s with WINDOW calls kept in flight on one connection (each completion
 * issues the next call), for SECONDS; best of RUNS runs after a warm-up.
 * Call `i` is `make(i)`; each call counts `per` ops.
 */
async function flow(
  make: (i: number) => Promise<unknown>,
  per: number,
): Promise<number> {
  let i = 0;
  const once = (): Promise<number> =>
    new Promise((resolve, reject) => {
      let done = 0;
      let inflight = 0;
      let stop = false;
      const t0 = performance.now();
      const onDone = () => {
        inflight--;
        done++;
        if (
          !stop && (done & 255) === 0 &&
          performance.now() - t0 >= SECONDS * 1000
        ) stop = true;
        if (!stop) next();
        else if (inflight === 0) {
          resolve((done * per) / ((performance.now() - t0) / 1000));
        }
      };
      const next = () => {
        while (!stop && inflight < WINDOW) {
          inflight++;
          make(i++).then(onDone, reject);
        }
      };
      next();
    });
  await once();
  let best = 0;
  for (let r = 0; r < RUNS; r++) best = Math.max(best, await once());
  return best;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

// ---------------------------------------------------------------------------
// Anchors: CPython, raw sockets, bare Worker.

const python = cpython;

/** The CPython peer: one command per line in, one JSON line out. */
class CPythonPeer {
  #proc: Deno.ChildProcess;
  #out: ReadableStreamDefaultReader<string>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  info: { python: string; start_method: string } = {
    python: "?",
    start_method: "?",
  };

  constructor(python: string) {
    const script = new URL("./py/manager_bench.py", import.meta.url).pathname;
    this.#proc = new Deno.Command(python, {
      args: [script, String(SECONDS), String(RUNS)],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#out = lines(this.#proc);
    this.#writer = this.#proc.stdin.getWriter();
  }

  async start(): Promise<void> {
    this.info = JSON.parse((await this.#out.read()).value!);
  }

  async ask(cmd: string): Promise<Record<string, number>> {
    await this.#writer.write(new TextEncoder().encode(cmd + "\n"));
    const { value, done } = await this.#out.read();
    if (done) throw new Error(`The CPython anchor exited during '${cmd}'`);
    return JSON.parse(value!);
  }

  async close(): Promise<void> {
    await this.#writer.write(new TextEncoder().encode("quit\n")).catch(
      () => {},
    );
    await this.#writer.close().catch(() => {});
    await this.#out.cancel().catch(() => {});
    await this.#proc.status;
  }
}

const ECHO = `
self.onmessage = async (e) => {
  const l = e.data.unix ? Deno.listen({ transport: "unix", path: e.data.unix }) : Deno.listen({ hostname: "127.0.0.1", port: 0 });
  self.postMessage(l.addr);
  const c = await l.accept();
  if (!e.data.unix) c.setNoDelay(true);
  const buf = new Uint8Array(16);
  for (;;) {
    let got = 0;
    while (got < 16) { const n = await c.read(buf.subarray(got)); if (n === null) { c.close(); l.close(); return; } got += n; }
    await c.write(buf);
  }
};`;

/** Round trips/s of 16 bytes on `conn` (an echo at the other end); closes it. */
async function pingPong(conn: Deno.Conn): Promise<number> {
  const out = new Uint8Array(16).fill(1);
  const buf = new Uint8Array(16);
  try {
    return await rate(async () => {
      await conn.write(out);
      let got = 0;
      while (got < 16) got += (await conn.read(buf.subarray(got)))!;
    });
  } finally {
    conn.close();
  }
}

/** Round trips/s of 16 bytes with an echo Worker over a raw Deno socket. */
async function rawRtt(unix: boolean): Promise<number> {
  const worker = new Worker(
    `data:application/javascript,${encodeURIComponent(ECHO)}`,
    { type: "module" },
  );
  const dir = unix ? await Deno.makeTempDir() : undefined;
  try {
    const addr = await new Promise<Deno.NetAddr | Deno.UnixAddr>((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.postMessage({ unix: dir ? `${dir}/echo.sock` : undefined });
    });
    const conn = "path" in addr
      ? await Deno.connect({ transport: "unix", path: addr.path })
      : await Deno.connect({ hostname: addr.hostname, port: addr.port });
    if (!unix) (conn as Deno.TcpConn).setNoDelay(true);
    return await pingPong(conn);
  } finally {
    worker.terminate();
    if (dir) await Deno.remove(dir, { recursive: true });
  }
}

/** Round trips/s of 16 bytes with an echo process over raw Deno TCP. */
async function rawRttProcess(): Promise<number> {
  const echo = spawnSelf(["--echo"]);
  const out = lines(echo);
  try {
    const addr = JSON.parse((await out.read()).value!) as Deno.NetAddr;
    const conn = await Deno.connect({
      hostname: addr.hostname,
      port: addr.port,
    });
    conn.setNoDelay(true);
    return await pingPong(conn);
  } finally {
    out.releaseLock();
    await echo.stdout.cancel().catch(() => {});
    await echo.stdin.close().catch(() => {});
    await echo.status;
  }
}

/** Median ms from a `node:worker_threads` Worker's creation to its first message (`start()`'s fallback kind). */
async function nodeWorkerStart(): Promise<number> {
  const { Worker: NodeWorker } = await import("node:worker_threads");
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const w = new NodeWorker(
      'require("node:worker_threads").parentPort.postMessage(1)',
      { eval: true },
    );
    await new Promise((r) => w.once("message", r));
    times.push(performance.now() - t0);
    await w.terminate();
  }
  return median(times);
}

/** Median ms from `new Worker` to its first message. */
async function workerStart(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const w = new Worker(`data:application/javascript,self.postMessage(1)`, {
      type: "module",
    });
    await new Promise((r) => (w.onmessage = r));
    times.push(performance.now() - t0);
    w.terminate();
  }
  return median(times);
}

// ---------------------------------------------------------------------------
// Ours

interface OpsFigures {
  queuePairs: number;
  valueGet: number;
  valueSet: number;
  lockPairs: number;
  dictSet: number;
  listAppend: number;
}

/** [our key, the CPython script's key, label, unit] */
const OPS: [keyof OpsFigures, string, string, string][] = [
  ["queuePairs", "queue_pairs", "Queue put+get", "pairs/s"],
  ["valueGet", "value_get", "Value get", "calls/s"],
  ["valueSet", "value_set", "Value set", "calls/s"],
  ["lockPairs", "lock_pairs", "Lock acquire+release", "pairs/s"],
  ["dictSet", "dict_set", "dict set", "calls/s"],
  ["listAppend", "list_append", "list append", "calls/s"],
];

/** The measured operations on one manager: each figure's sequential and pipelined form. */
async function makeOps(m: SyncManager): Promise<{
  seq: Record<keyof OpsFigures, () => Promise<number>>;
  pipe: Record<keyof OpsFigures, () => Promise<number>>;
  close(): Promise<void>;
}> {
  const q = await m.Queue();
  const v = await m.Value("i", 0);
  const lock = await m.Lock();
  const d = await m.dict();
  let l = await m.list();
  let appended = 0;
  const append = async (i: number) => {
    // Keep the list small.
    if (++appended > 200_000) {
      await l[Symbol.asyncDispose]();
      l = await m.list();
      appended = 0;
    }
    return l.append(i);
  };
  let k = 0;
  return {
    seq: {
      queuePairs: () =>
        rate(async () => {
          await q.put(1);
          await q.get();
        }),
      valueGet: () => rate(() => v.get()),
      valueSet: () => rate(() => v.set(1)),
      lockPairs: () =>
        rate(async () => {
          await lock.acquire();
          await lock.release();
        }),
      dictSet: () => rate(() => d.set(++k & 1023, k)),
      listAppend: () => rate(() => append(1)),
    },
    // Calls alternate put/get (acquire/release) in issue order: the server
    // runs one connection's calls in order, so each get finds its item.
    pipe: {
      queuePairs: () => flow((i) => i & 1 ? q.get() : q.put(i), 0.5),
      valueGet: () => flow(() => v.get(), 1),
      valueSet: () => flow((i) => v.set(i), 1),
      lockPairs: () =>
        flow((i) => i & 1 ? lock.release() : lock.acquire(), 0.5),
      dictSet: () => flow((i) => d.set(i & 1023, i), 1),
      listAppend: () => flow((i) => append(i), 1),
    },
    async close() {
      for (const p of [q, v, lock, d, l]) await p[Symbol.asyncDispose]();
    },
  };
}

/** Start-up (ms to ready) and first proxy (ms to the first Queue proxy), medians. */
async function startup(): Promise<{ start: number; first: number }> {
  const starts: number[] = [];
  const firsts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const m = await SyncManager.start();
    const t1 = performance.now();
    const q = await m.Queue();
    const t2 = performance.now();
    starts.push(t1 - t0);
    firsts.push(t2 - t0);
    await q[Symbol.asyncDispose]();
    await m.shutdown();
  }
  return { start: median(starts), first: median(firsts) };
}

function spawnSelf(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--config",
      new URL("../deno.json", import.meta.url).pathname,
      new URL(import.meta.url).pathname,
      ...args,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

function lines(p: Deno.ChildProcess): ReadableStreamDefaultReader<string> {
  return p.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(splitLines())
    .getReader();
}

function splitLines(): TransformStream<string, string> {
  let buf = "";
  return new TransformStream({
    transform(chunk, ctl) {
      buf += chunk;
      const parts = buf.split("\n");
      buf = parts.pop()!;
      for (const p of parts) if (p) ctl.enqueue(p);
    },
    flush(ctl) {
      if (buf) ctl.enqueue(buf);
    },
  });
}

/** Remote: a server in another deno process; this one connects. */
async function remote(
  transport: "tcp" | "unix",
): Promise<{ first: number; pairs: number; pipelined: number }> {
  const server = spawnSelf(["--serve", transport]);
  const out = lines(server);
  try {
    const address = JSON.parse((await out.read()).value!);
    const firsts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const m = await SyncManager.connect({ address, authkey: AUTHKEY });
      const q = await m.Queue();
      firsts.push(performance.now() - t0);
      await m.close();
      void q;
    }
    await using m = await SyncManager.connect({ address, authkey: AUTHKEY });
    const q = await m.Queue();
    const pairs = await rate(async () => {
      await q.put(1);
      await q.get();
    });
    const pipelined = await flow((i) => i & 1 ? q.get() : q.put(i), 0.5);
    return { first: median(firsts), pairs, pipelined };
  } finally {
    await server.stdin.close();
    out.releaseLock();
    await server.stdout.cancel().catch(() => {});
    await server.status;
  }
}

/**
 * 4 client processes doing queue pairs (sequential, or 1000 calls in flight
 * each) against one manager: `start()`'s (its server in a Worker of this
 * process) or, with `ownProcess`, a `serve()` in a deno process of its own
 * on a Unix socket (as CPython's `Manager()` runs its server).
 */
async function aggregate(
  pipelined = false,
  clients = 4,
  ownProcess = false,
): Promise<number> {
  const n = pipelined ? 50_000 : 3000;
  let address: Address;
  let stop: () => Promise<void>;
  if (ownProcess) {
    const server = spawnSelf(["--serve", "unix"]);
    const out = lines(server);
    address = JSON.parse((await out.read()).value!);
    stop = async () => {
      await server.stdin.close();
      out.releaseLock();
      await server.stdout.cancel().catch(() => {});
      await server.status;
    };
  } else {
    const started = await SyncManager.start({ authkey: AUTHKEY });
    address = started.address;
    stop = () => started.shutdown();
  }
  await using _stop = { [Symbol.asyncDispose]: () => stop() };
  const m = { address };
  const procs = Array.from(
    { length: clients },
    () =>
      spawnSelf([
        "--client",
        JSON.stringify(m.address),
        String(n),
        pipelined ? "pipelined" : "sequential",
      ]),
  );
  const outs = procs.map(lines);
  try {
    for (const o of outs) {
      if ((await o.read()).value !== "ready") {
        throw new Error("A client failed");
      }
    }
    const go = new TextEncoder().encode("go\n");
    const writers = procs.map((p) => p.stdin.getWriter());
    const t0 = performance.now();
    await Promise.all(writers.map((w) => w.write(go)));
    await Promise.all(outs.map((o) => o.read()));
    const elapsed = performance.now() - t0;
    for (const w of writers) await w.close();
    return (clients * n) / (elapsed / 1000);
  } finally {
    for (const o of outs) o.releaseLock();
    for (const p of procs) {
      await p.stdout.cancel().catch(() => {});
      await p.status;
    }
  }
}

// ---------------------------------------------------------------------------

// Each figure runs ours and its anchor back to back, in each of ROUNDS
// rounds, and keeps the better of each: the machine may be shared.
const cpy = new CPythonPeer(await python());
await cpy.start();
const best = (a: number, b: number) => Math.max(a, b);
const least = (a: number, b: number) => Math.min(a, b);
const py: Record<string, number> = {};
let rawTcp = 0;
let rawTcpProcess = 0;
let bareNodeWorker = Infinity;
let rawUnix = 0;
let bareWorker = Infinity;
let st = { start: Infinity, first: Infinity };
const seq = {} as OpsFigures;
const pipe = {} as OpsFigures;
let agg = 0;
let aggPipe = 0;
let aggServe = 0;
const tcp = { first: Infinity, pairs: 0, pipelined: 0 };
const unix = { first: Infinity, pairs: 0, pipelined: 0 };
// One local manager for both rounds, warmed up first (its Worker's JIT
// starts cold; CPython's interpreter has nothing to warm).
const local = await SyncManager.start();
const ops = await makeOps(local);
console.log("Warming up…");
for (const [key] of OPS) {
  if (want("seq")) await ops.seq[key]();
  if (want("pipe")) await ops.pipe[key]();
}
try {
  for (let round = 0; round < ROUNDS; round++) {
    if (want("seq")) {
      console.log(`Round ${round + 1}: sequential calls…`);
      // Each operation: ours, then CPython's, back to back.
      for (const [key, pyKey] of OPS) {
        seq[key] = best(seq[key] ?? 0, await ops.seq[key]());
        py[pyKey] = best(
          py[pyKey] ?? 0,
          (await cpy.ask(`seq ${pyKey}`)).rate!,
        );
      }
    }
    if (want("raw")) {
      rawUnix = best(rawUnix, await rawRtt(true));
      rawTcp = best(rawTcp, await rawRtt(false));
      rawTcpProcess = best(rawTcpProcess, await rawRttProcess());
    }
    if (want("pipe")) {
      console.log(`Round ${round + 1}: pipelined calls…`);
      for (const [key] of OPS) {
        pipe[key] = best(pipe[key] ?? 0, await ops.pipe[key]());
      }
    }
    if (want("agg")) {
      console.log(`Round ${round + 1}: 4 client processes…`);
      agg = best(agg, await aggregate());
      aggServe = best(aggServe, await aggregate(false, 4, true));
      aggPipe = best(aggPipe, await aggregate(true));
      py.agg4_pairs = best(
        py.agg4_pairs ?? 0,
        (await cpy.ask("agg4")).agg4_pairs!,
      );
    }
    if (want("remote")) {
      console.log(`Round ${round + 1}: remote over TCP and Unix…`);
      for (const [t, r] of [["tcp", tcp], ["unix", unix]] as const) {
        const now = await remote(t);
        r.first = least(r.first, now.first);
        r.pairs = best(r.pairs, now.pairs);
        r.pipelined = best(r.pipelined, now.pipelined);
        const c = await cpy.ask(`remote ${t}`);
        py[`remote_${t}_pairs`] = best(
          py[`remote_${t}_pairs`] ?? 0,
          c.pairs!,
        );
        py[`remote_${t}_first_ms`] = least(
          py[`remote_${t}_first_ms`] ?? Infinity,
          c.first_ms!,
        );
      }
    }
    if (want("startup")) {
      console.log(`Round ${round + 1}: start-up…`);
      bareWorker = least(bareWorker, await workerStart());
      bareNodeWorker = least(bareNodeWorker, await nodeWorkerStart());
      const s = await startup();
      st = {
        start: least(st.start, s.start),
        first: least(st.first, s.first),
      };
      const cs = await cpy.ask("startup");
      py.startup_ms = least(py.startup_ms ?? Infinity, cs.startup_ms!);
      py.first_proxy_ms = least(
        py.first_proxy_ms ?? Infinity,
        cs.first_proxy_ms!,
      );
    }
  }
} finally {
  await ops.close();
  await local.shutdown();
  await cpy.close();
}
py.remote_first_proxy_ms = py.remote_tcp_first_ms!;

const rows: Row[] = [];
const cp = (k: string) => py[k]!;
for (const [key, pyKey, label, unit] of OPS) {
  rows.push({
    name: `sequential ${label}`,
    unit,
    ours: seq[key],
    anchor: "CPython 3.11 Manager()",
    anchorValue: cp(pyKey),
    ratio: seq[key] / cp(pyKey),
    target: ">= 1.3x CPython",
  });
}
// A sequential call against one raw socket round trip (calls/s; a pair is two calls).
rows.push({
  name: "sequential Value get vs raw Unix socket round trip",
  unit: "calls/s",
  ours: seq.valueGet,
  anchor: "raw Deno Unix socket ping-pong",
  anchorValue: rawUnix,
  ratio: seq.valueGet / rawUnix,
  target: ">= 0.8x raw",
});
rows.push({
  name: "sequential Value get vs raw TCP socket round trip",
  unit: "calls/s",
  ours: seq.valueGet,
  anchor: "raw Deno TCP socket ping-pong",
  anchorValue: rawTcp,
  ratio: seq.valueGet / rawTcp,
  target: ">= 0.8x raw",
});
for (const [key, pyKey, label, unit] of OPS) {
  rows.push({
    name: `pipelined ${label} (${WINDOW} in flight)`,
    unit,
    ours: pipe[key],
    anchor: "CPython 3.11 Manager() (sequential: no pipelining)",
    anchorValue: cp(pyKey),
    ratio: pipe[key] / cp(pyKey),
    target: ">= 20x CPython",
  });
}
rows.push({
  name: "4 client processes, Queue put+get aggregate, sequential",
  unit: "pairs/s",
  ours: agg,
  anchor: "CPython 3.11, 4 processes",
  anchorValue: cp("agg4_pairs"),
  ratio: agg / cp("agg4_pairs"),
  target: ">= 2x CPython",
});
rows.push({
  name:
    "4 client processes, Queue put+get aggregate, sequential, serve() in its own process",
  unit: "pairs/s",
  ours: aggServe,
  anchor: "CPython 3.11, 4 processes (its server is a process too)",
  anchorValue: cp("agg4_pairs"),
  ratio: aggServe / cp("agg4_pairs"),
  target: ">= 2x CPython",
});
rows.push({
  name: "4 client processes, Queue put+get aggregate, 1000 in flight each",
  unit: "pairs/s",
  ours: aggPipe,
  anchor: "CPython 3.11, 4 processes (sequential: no pipelining)",
  anchorValue: cp("agg4_pairs"),
  ratio: aggPipe / cp("agg4_pairs"),
  target: ">= 2x CPython",
});
for (
  const [name, r, key] of [["TCP", tcp, "remote_tcp_pairs"], [
    "Unix",
    unix,
    "remote_unix_pairs",
  ]] as const
) {
  rows.push({
    name: `remote over ${name}, Queue put+get sequential`,
    unit: "pairs/s",
    ours: r.pairs,
    anchor: `CPython 3.11 remote manager over ${name}`,
    anchorValue: cp(key),
    ratio: r.pairs / cp(key),
    target: ">= 1.3x CPython",
  });
  rows.push({
    name: `remote over ${name}, Queue put+get pipelined`,
    unit: "pairs/s",
    ours: r.pipelined,
    anchor: `CPython 3.11 remote manager over ${name} (sequential)`,
    anchorValue: cp(key),
    ratio: r.pipelined / cp(key),
    target: ">= 20x CPython",
  });
}
rows.push({
  name: "remote over TCP, sequential pair vs raw TCP round trip",
  unit: "calls/s",
  ours: 2 * tcp.pairs,
  anchor: "raw Deno TCP socket ping-pong with an echo process",
  anchorValue: rawTcpProcess,
  ratio: (2 * tcp.pairs) / rawTcpProcess,
  target: ">= 0.95x raw",
});
rows.push({
  name: "start-up to first proxy (Manager() + Queue())",
  unit: "ms (lower is better)",
  ours: st.first,
  anchor: "bare Deno Worker start",
  anchorValue: bareWorker,
  ratio: st.first / bareWorker,
  target: "<= 1.5x a bare Worker",
});
rows.push({
  name: "start-up to first proxy vs a bare node:worker_threads Worker",
  unit: "ms (lower is better)",
  ours: st.first,
  anchor: "bare node:worker_threads Worker start (start()'s fallback kind)",
  anchorValue: bareNodeWorker,
  ratio: st.first / bareNodeWorker,
  target: "info",
});
rows.push({
  name: "start-up to first proxy vs CPython",
  unit: "ms (lower is better)",
  ours: st.first,
  anchor: `CPython 3.11 Manager() + Queue() (${cpy.info.start_method})`,
  anchorValue: cp("first_proxy_ms"),
  ratio: st.first / cp("first_proxy_ms"),
  target: "info",
});
rows.push({
  name: "first remote proxy (connect() + Queue(), TCP)",
  unit: "ms (lower is better)",
  ours: tcp.first,
  anchor: "CPython 3.11 connect() + Queue()",
  anchorValue: cp("remote_first_proxy_ms"),
  ratio: tcp.first / cp("remote_first_proxy_ms"),
  target: "<= 5 ms",
});

const fmt = (x: number) =>
  x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(x >= 10 ? 1 : 2);
console.log(
  `\nmanager vs CPython ${cpy.info.python} (${RUNS} runs x ${SECONDS}s, best of ${ROUNDS} rounds; raw TCP ${
    fmt(rawTcp)
  }/s, raw Unix ${fmt(rawUnix)}/s, Worker start ${
    fmt(bareWorker)
  } ms, Manager() ready in ${fmt(st.start)} ms)\n`,
);
console.log(
  "| figure | unit | ours | anchor | anchor value | ratio | target |",
);
console.log("|---|---|---:|---|---:|---:|---|");
for (const r of rows) {
  if (!Number.isFinite(r.ratio) || r.ratio === 0) continue; // not run (--only)
  console.log(
    `| ${r.name} | ${r.unit} | ${fmt(r.ours)} | ${r.anchor} | ${
      fmt(r.anchorValue)
    } | ${r.ratio.toFixed(2)}x | ${r.target} |`,
  );
}
if (ONLY !== undefined) Deno.exit(0);
await writeResults("manager", rows);
console.log("\nWrote bench/results/manager.json");
