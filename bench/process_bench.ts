// Process and the Pool's process runtime against CPython 3.11 (fork and
// spawn) and our thread runtime, in the same run:
//
//   deno run -A --unstable-worker-options bench/process_bench.ts [--quick]
//
// - no-op tasks/s: 20 000 applyAsync(noop) on a pool of 2 (as the pool bench)
// - start → first result: new Pool(2) + apply(noop), ms
// - CPU speedup: map(work) of 8 equal items, 1 vs 2 worker processes
// - Process start → join of an empty target, ms
//
// Prints a table and writes bench/results/process.json. Each figure is the
// median of 3 runs after a warm-up (1 run with --quick).
import { Pool } from "../pool/mod.ts";
import { Process } from "../process/mod.ts";
import { type BenchRow, cpython } from "./_common.ts";

const quick = Deno.args.includes("--quick");
const reps = quick ? 1 : 3;
const here = new URL(".", import.meta.url);
const TASKS = new URL("./process_tasks.ts", import.meta.url);
type Tasks = typeof import("./process_tasks.ts");

async function median(fn: () => Promise<number>): Promise<number> {
  await fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) out.push(await fn());
  out.sort((a, b) => a - b);
  return out[Math.floor(out.length / 2)]!;
}

async function startMs(runtime: "process" | "worker"): Promise<number> {
  const t0 = performance.now();
  const pool = new Pool<Tasks>(TASKS, { processes: 2, runtime });
  await pool.apply("noop");
  const ms = performance.now() - t0;
  pool.terminate();
  await pool.join();
  return ms;
}

async function noopsPerS(runtime: "process" | "worker"): Promise<number> {
  await using pool = new Pool<Tasks>(TASKS, { processes: 2, runtime });
  await pool.apply("noop");
  return await median(async () => {
    const n = quick ? 5000 : 20000;
    const t = performance.now();
    const rs = [];
    for (let i = 0; i < n; i++) rs.push(pool.applyAsync("noop"));
    for (const r of rs) await r;
    return n / ((performance.now() - t) / 1000);
  });
}

async function cpuMs(processes: number): Promise<number> {
  await using pool = new Pool<Tasks>(TASKS, { processes, runtime: "process" });
  await pool.map("work", [1, 1], 1);
  const n = quick ? 20_000_000 : 40_000_000;
  return await median(async () => {
    const t = performance.now();
    await pool.map("work", Array(8).fill(n), 1);
    return performance.now() - t;
  });
}

async function processMs(): Promise<number> {
  const t0 = performance.now();
  const p = new Process({ module: TASKS, target: "noop" });
  await p.start();
  await p.join();
  return performance.now() - t0;
}

async function python(
  method: "fork" | "spawn",
): Promise<Record<string, number>> {
  const out = await new Deno.Command(await cpython(), {
    args: [
      new URL("./py/process_anchor.py", import.meta.url).pathname,
      method,
      ...(quick ? ["--quick"] : []),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

const fork = await python("fork");
const spawn = await python("spawn");
const ourStart = await median(() => startMs("process"));
const threadStart = await median(() => startMs("worker"));
const ourNoops = await noopsPerS("process");
const threadNoops = await noopsPerS("worker");
const cpu1 = await cpuMs(1);
const cpu2 = await cpuMs(2);
const ourProcess = await median(processMs);

const rows: BenchRow[] = [
  {
    name: "process pool no-op tasks/s (2 workers)",
    unit: "tasks/s",
    ours: ourNoops,
    anchor: "CPython 3.11 Pool(2) fork",
    anchorValue: fork.noop_per_s!,
    ratio: ourNoops / fork.noop_per_s!,
    target: "≥ 3×",
  },
  {
    name: "process pool no-op tasks/s (2 workers)",
    unit: "tasks/s",
    ours: ourNoops,
    anchor: "CPython 3.11 Pool(2) spawn",
    anchorValue: spawn.noop_per_s!,
    ratio: ourNoops / spawn.noop_per_s!,
    target: "≥ 3×",
  },
  {
    name: "process pool no-op tasks/s (2 workers)",
    unit: "tasks/s",
    ours: ourNoops,
    anchor: "our thread runtime",
    anchorValue: threadNoops,
    ratio: ourNoops / threadNoops,
    target: "(reference)",
  },
  {
    name: "process pool start → first result",
    unit: "ms (lower is better)",
    ours: ourStart,
    anchor: "CPython 3.11 Pool(2) spawn",
    anchorValue: spawn.start_ms!,
    ratio: spawn.start_ms! / ourStart,
    target: "≥ 1× (≤ CPython spawn)",
  },
  {
    name: "process pool start → first result",
    unit: "ms (lower is better)",
    ours: ourStart,
    anchor: "CPython 3.11 Pool(2) fork",
    anchorValue: fork.start_ms!,
    ratio: fork.start_ms! / ourStart,
    target: "(reference)",
  },
  {
    name: "process pool start → first result",
    unit: "ms (lower is better)",
    ours: ourStart,
    anchor: "our thread runtime",
    anchorValue: threadStart,
    ratio: threadStart / ourStart,
    target: "(reference)",
  },
  {
    name: "process pool CPU speedup, 2 vs 1 worker",
    unit: "ms for 8 items (2 workers)",
    ours: cpu2,
    anchor: "1 worker process",
    anchorValue: cpu1,
    ratio: cpu1 / cpu2,
    target: "≥ 1.9×",
  },
  {
    name: "Process start → join (empty target)",
    unit: "ms (lower is better)",
    ours: ourProcess,
    anchor: "CPython 3.11 Process spawn",
    anchorValue: spawn.process_ms!,
    ratio: spawn.process_ms! / ourProcess,
    target: "≥ 1×",
  },
  {
    name: "Process start → join (empty target)",
    unit: "ms (lower is better)",
    ours: ourProcess,
    anchor: "CPython 3.11 Process fork",
    anchorValue: fork.process_ms!,
    ratio: fork.process_ms! / ourProcess,
    target: "(reference)",
  },
];

console.log("| figure | ours | anchor | ratio | target |");
console.log("| --- | ---: | ---: | ---: | --- |");
for (const r of rows) {
  console.log(
    `| ${r.name} | ${r.ours.toFixed(1)} ${r.unit} | ${r.anchor}: ${
      r.anchorValue.toFixed(1)
    } | ${r.ratio.toFixed(2)}× | ${r.target} |`,
  );
}
await Deno.mkdir(new URL("results/", here), { recursive: true });
await Deno.writeTextFile(
  new URL("results/process.json", here),
  JSON.stringify(rows, null, 2) + "\n",
);
