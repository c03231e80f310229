// Benchmark of sharedmem against CPython 3.11's multiprocessing, side by side
// in one run:
//
// - locked increments/s: 2 Workers each add 1 to a `Value("i")` under its own
//   lock (an RLock, as CPython's default) vs `multiprocessing.Value('i')` with
//   `get_lock()` from 2 processes;
// - queue messages/s: one Worker `putSync`s N items into a `Queue`, another
//   `getSync`s them vs `multiprocessing.Queue` between two processes (small
//   ints, and a small object).
//
// Each figure is the best of ROUNDS runs, on both sides (the machine may be
// shared with other work; the best run is the least disturbed one).
//
// Run: deno run -A --unstable-worker-options bench/sharedmem_bench.ts
// Writes bench/results/sharedmem.json. This file is also the Workers' module.

import * as mp from "../sharedmem/mod.ts";
import { cpython, writeResults } from "./_common.ts";

const N_INCR = 2_000_000; // per worker
const N_QUEUE = 1_000_000;
const PY_N_INCR = 200_000; // per process
const PY_N_QUEUE = 200_000;
const ROUNDS = 3;
const SMALL_OBJECT = { id: 7, name: "item", tags: ["a", "b"], x: 1.5 };

// deno-lint-ignore no-explicit-any
type AnyObj = any;

/** Worker side: waits for `start`, runs its part, reports. */
function workerMain(): void {
  const scope = self as unknown as {
    onmessage: ((e: MessageEvent) => void) | null;
    postMessage(message: unknown): void;
  };
  scope.onmessage = async (e: MessageEvent) => {
    const job = await mp.revive<AnyObj>(e.data);
    job.ready.release();
    job.start.waitSync();
    if (job.kind === "incr") {
      const v = job.value;
      const lock = v.getLock();
      for (let i = 0; i < job.n; i++) {
        lock.acquireSync();
        v.value += 1;
        lock.release();
      }
    } else if (job.kind === "produce") {
      const q = job.q;
      const item = job.item;
      for (let i = 0; i < job.n; i++) q.putSync(item ?? i);
    } else {
      const q = job.q;
      for (let i = 0; i < job.n; i++) q.getSync();
    }
    scope.postMessage("done");
  };
}

/** Runs `jobs` in fresh Workers released together; returns elapsed ms. */
async function timed(jobs: Record<string, unknown>[]): Promise<number> {
  const ready = new mp.Semaphore(0);
  const start = new mp.Event();
  const ws = jobs.map(() => new Worker(import.meta.url, { type: "module" }));
  try {
    const done = ws.map((w) =>
      new Promise((resolve) => (w.onmessage = resolve))
    );
    jobs.forEach((job, i) => {
      const { value, transfer } = mp.toPostable({ ...job, ready, start });
      ws[i]!.postMessage(value, transfer);
    });
    for (const _ of jobs) await ready.acquire();
    const t0 = performance.now();
    start.set();
    await Promise.all(done);
    return performance.now() - t0;
  } finally {
    for (const w of ws) w.terminate();
  }
}

async function best(run: () => Promise<number>): Promise<number> {
  let top = 0;
  for (let r = 0; r < ROUNDS; r++) top = Math.max(top, await run());
  return top;
}

async function ours(): Promise<
  { incr: number; queueInt: number; queueObj: number }
> {
  const incr = await best(async () => {
    const value = new mp.Value("i", 0);
    const ms = await timed([{ kind: "incr", value, n: N_INCR }, {
      kind: "incr",
      value,
      n: N_INCR,
    }]);
    if (value.value !== 2 * N_INCR) {
      throw new Error(`lost increments: ${value.value}`);
    }
    return (2 * N_INCR) / (ms / 1000);
  });
  const queue = (item: unknown) =>
    best(async () => {
      const q = new mp.Queue();
      const ms = await timed([{ kind: "produce", q, n: N_QUEUE, item }, {
        kind: "consume",
        q,
        n: N_QUEUE,
      }]);
      if (!q.empty()) throw new Error("queue not drained");
      return N_QUEUE / (ms / 1000);
    });
  return {
    incr,
    queueInt: await queue(null),
    queueObj: await queue(SMALL_OBJECT),
  };
}

async function python(): Promise<
  { version: string; incr: number; queueInt: number; queueObj: number }
> {
  const exe = await cpython();
  const script = new URL("./py/sharedmem_bench.py", import.meta.url).pathname;
  const out = await new Deno.Command(exe, {
    args: [script, String(PY_N_INCR), String(PY_N_QUEUE), String(ROUNDS)],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`${exe} ${script} failed`);
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  return {
    version: r.python,
    incr: r.incr_per_s,
    queueInt: r.queue_int_per_s,
    queueObj: r.queue_obj_per_s,
  };
}

async function main(): Promise<void> {
  const us = await ours();
  const py = await python();
  const anchor = `CPython ${py.version} multiprocessing`;
  const rows = [
    {
      name: "locked increments across 2 workers (Value('i') + its RLock)",
      unit: "increments/s",
      ours: us.incr,
      anchor: `${anchor}.Value('i') with get_lock(), 2 processes`,
      anchorValue: py.incr,
      target: ">= 10x",
    },
    {
      name: "queue messages from one worker to another (small ints)",
      unit: "messages/s",
      ours: us.queueInt,
      anchor: `${anchor}.Queue, one process to another`,
      anchorValue: py.queueInt,
      target: ">= 10x",
    },
    {
      name: "queue messages from one worker to another (small object)",
      unit: "messages/s",
      ours: us.queueObj,
      anchor: `${anchor}.Queue, one process to another`,
      anchorValue: py.queueObj,
      target: ">= 10x",
    },
  ].map((r) => ({ ...r, ratio: r.ours / r.anchorValue }));
  const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
  console.log(`| figure | ours | ${anchor} | ratio | target |`);
  console.log("|---|---:|---:|---:|---|");
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${fmt(r.ours)} ${r.unit} | ${fmt(r.anchorValue)} | ${
        r.ratio.toFixed(1)
      }x | ${r.target} |`,
    );
  }
  await writeResults("sharedmem", rows);
}

if ("WorkerGlobalScope" in globalThis) {
  workerMain();
} else if (import.meta.main) {
  await main();
}
