// Pool benchmark: our Pool(2) side by side with CPython 3.11
// multiprocessing.Pool(2) (bench/py/pool_anchor.py) and piscina with 2
// threads (bench/pool_piscina.ts), plus raw Deno Worker round trips.
//
//   deno run -A --unstable-worker-options bench/pool_bench.ts [--quick]
//
// Prints a table (ours, anchor, ratio, target) and writes bench/results/pool.json.
// Each figure is the median of 3 runs after two warm-up runs (1 run with --quick).
import { Pool } from "../pool/mod.ts";
import { type BenchRow, cpython, writeResults } from "./_common.ts";

const quick = Deno.args.includes("--quick");
const reps = quick ? 1 : 3;
const here = new URL(".", import.meta.url);
const TASKS = new URL("../tests/fixtures/pool_tasks.ts", import.meta.url);
type Tasks = typeof import("../tests/fixtures/pool_tasks.ts");
const LIGHT = new URL("../tests/fixtures/pool_light.ts", import.meta.url);

const python = cpython;

async function runJson(
  cmd: string,
  args: string[],
): Promise<Record<string, number>> {
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!);
}

async function median(fn: () => Promise<number>): Promise<number> {
  await fn(); // two warm-up runs (JIT), then the median of `reps`
  await fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) out.push(await fn());
  out.sort((a, b) => a - b);
  return out[Math.floor(out.length / 2)]!;
}

// ------------------------------------------------------------------ anchors
console.error("running CPython anchor…");
const py = await runJson(await python(), [
  new URL("py/pool_anchor.py", here).pathname,
  ...(quick ? ["--quick"] : []),
]);
console.error("running piscina anchor…");
const pis = await runJson(Deno.execPath(), [
  "run",
  "-A",
  "--no-lock",
  new URL("pool_piscina.ts", here).pathname,
  ...(quick ? ["--quick"] : []),
]);

// raw Deno Worker: ping-pong latency and pipelined messages/s
console.error("running raw Worker anchor…");
const echo = URL.createObjectURL(
  new Blob(["self.onmessage = (e) => self.postMessage(e.data);"], {
    type: "text/javascript",
  }),
);
const raw = new Worker(echo, { type: "module" });
const rawPingUs = await median(async () => {
  const n = 2000;
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    await new Promise<void>((r) => {
      raw.onmessage = () => r();
      raw.postMessage(i);
    });
  }
  return ((performance.now() - t) / n) * 1000;
});
const rawPipelined = await median(async () => {
  const n = 20_000;
  const t = performance.now();
  await new Promise<void>((r) => {
    let got = 0;
    raw.onmessage = () => {
      if (++got === n) r();
    };
    for (let i = 0; i < n; i++) raw.postMessage(i);
  });
  return n / ((performance.now() - t) / 1000);
});
raw.terminate();
URL.revokeObjectURL(echo);

// ---------------------------------------------------------------------- ours
console.error("running our Pool…");
const ours: Record<string, number> = {};
{
  // start to first result: median of 3 fresh pools over an import-free task module
  ours.start_ms = await median(async () => {
    const t0 = performance.now();
    const p = new Pool(LIGHT, { processes: 2 });
    await p.apply("noop");
    const ms = performance.now() - t0;
    p.terminate();
    await p.join();
    return ms;
  });
  const pool = new Pool<Tasks>(TASKS, { processes: 2 });
  await pool.apply("noop");

  ours.noop_tasks_per_s = await median(async () => {
    const n = 20_000;
    const t = performance.now();
    const rs = [];
    for (let i = 0; i < n; i++) rs.push(pool.applyAsync("noop"));
    await Promise.all(rs);
    return n / ((performance.now() - t) / 1000);
  });
  const items = Array.from({ length: 200_000 }, (_, i) => i);
  ours.map_default_items_per_s = await median(async () => {
    const t = performance.now();
    await pool.map("sqr", items);
    return items.length / ((performance.now() - t) / 1000);
  });
  ours.map_1000_items_per_s = await median(async () => {
    const t = performance.now();
    await pool.map("sqr", items, 1000);
    return items.length / ((performance.now() - t) / 1000);
  });
  const small = items.slice(0, 50_000);
  for (
    const [name, unordered] of [["imap", false], [
      "imap_unordered",
      true,
    ]] as const
  ) {
    for (const cs of [1, 100]) {
      ours[`${name}_cs${cs}_items_per_s`] = await median(async () => {
        const t = performance.now();
        const it = unordered
          ? pool.imapUnordered("sqr", small, cs)
          : pool.imap("sqr", small, cs);
        for await (const _ of it) { /* consume */ }
        return small.length / ((performance.now() - t) / 1000);
      });
    }
  }
  ours.apply_latency_us = await median(async () => {
    const n = 2000;
    const t = performance.now();
    for (let i = 0; i < n; i++) await pool.apply("noop");
    return ((performance.now() - t) / n) * 1000;
  });
  pool.close();
  await pool.join();

  const cpu = async (processes: number): Promise<number> => {
    await using p = new Pool<Tasks>(TASKS, { processes });
    // warm-up long enough for every (staggered) worker to be up
    await p.map("busy", Array(4 * processes).fill(10), 1);
    const t = performance.now();
    await p.map("busy", Array(40).fill(20), 1);
    return (performance.now() - t) / 1000;
  };
  ours.cpu_1_worker_s = await cpu(1);
  ours.cpu_2_workers_s = await cpu(2);
  ours.cpu_speedup = ours.cpu_1_worker_s / ours.cpu_2_workers_s;
}

// -------------------------------------------------------------------- report
type Row = BenchRow;
const rows: Row[] = [];
/** Adds a row; `ratio` is ours / anchor (the target says which way is better). */
function row(
  name: string,
  unit: string,
  key: string,
  anchor: string,
  value: number,
  target: string,
): void {
  rows.push({
    name,
    unit,
    ours: ours[key]!,
    anchor,
    anchorValue: value,
    ratio: ours[key]! / value,
    target,
  });
}

row(
  "20k no-op applyAsync",
  "tasks/s",
  "noop_tasks_per_s",
  "CPython 3.11 Pool(2)",
  py.noop_tasks_per_s!,
  ">= 5x",
);
row(
  "20k no-op applyAsync",
  "tasks/s",
  "noop_tasks_per_s",
  "piscina@4 (2 threads)",
  pis.noop_tasks_per_s!,
  ">= 2x",
);
row(
  "map 200k sqr, default chunksize",
  "items/s",
  "map_default_items_per_s",
  "CPython 3.11 Pool(2)",
  py.map_default_items_per_s!,
  ">= 3x",
);
row(
  "map 200k sqr, chunksize 1000",
  "items/s",
  "map_1000_items_per_s",
  "CPython 3.11 Pool(2)",
  py.map_1000_items_per_s!,
  ">= 3x",
);
for (const name of ["imap", "imap_unordered"]) {
  for (const cs of [1, 100]) {
    const key = `${name}_cs${cs}_items_per_s`;
    row(
      `${name} 50k sqr, chunksize ${cs}`,
      "items/s",
      key,
      "CPython 3.11 Pool(2)",
      py[key]!,
      cs === 1 ? ">= 3x" : "-",
    );
  }
}
row(
  "sequential apply latency",
  "µs",
  "apply_latency_us",
  "CPython 3.11 Pool(2)",
  py.apply_latency_us!,
  "<= 0.15x",
);
row(
  "sequential apply latency",
  "µs",
  "apply_latency_us",
  "piscina@4 (2 threads)",
  pis.apply_latency_us!,
  "-",
);
row(
  "sequential apply latency",
  "µs",
  "apply_latency_us",
  "raw Worker ping-pong",
  rawPingUs,
  "~1x",
);
row(
  "pool start to first result",
  "ms",
  "start_ms",
  "CPython 3.11 Pool(2)",
  py.start_ms!,
  "<= 30 ms",
);
row(
  "pool start to first result",
  "ms",
  "start_ms",
  "piscina@4 (2 threads)",
  pis.start_ms!,
  "<= 30 ms",
);
row(
  "CPU 40 x 20 ms, 2 workers",
  "s",
  "cpu_2_workers_s",
  "CPython 3.11 Pool(2)",
  py.cpu_2_workers_s!,
  "-",
);
row(
  "CPU 40 x 20 ms, 2 workers",
  "s",
  "cpu_2_workers_s",
  "piscina@4 (2 threads)",
  pis.cpu_2_workers_s!,
  "-",
);
row(
  "CPU 2-worker speedup (1 vs 2)",
  "x",
  "cpu_speedup",
  "CPython 3.11 Pool(2)",
  py.cpu_speedup!,
  ">= 1.9x speedup",
);
rows.push({
  name: "20k no-op applyAsync vs raw messages",
  unit: "tasks/s",
  ours: ours.noop_tasks_per_s!,
  anchor: "raw Worker (pipelined echo)",
  anchorValue: rawPipelined,
  ratio: ours.noop_tasks_per_s! / rawPipelined,
  target: "-",
});

const fmt = (v: number): string =>
  v >= 1e6
    ? `${(v / 1e6).toFixed(2)}M`
    : v >= 1e4
    ? `${(v / 1e3).toFixed(1)}k`
    : v >= 100
    ? v.toFixed(0)
    : v.toFixed(2);
const header = [
  "figure",
  "unit",
  "ours",
  "anchor",
  "anchor value",
  "ratio",
  "target",
];
const table = rows.map((
  r,
) => [
  r.name,
  r.unit,
  fmt(r.ours),
  r.anchor,
  fmt(r.anchorValue),
  `${r.ratio.toFixed(2)}x`,
  r.target,
]);
const widths = header.map((h, i) =>
  Math.max(h.length, ...table.map((t) => t[i]!.length))
);
const line = (cells: string[]) =>
  "| " + cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |";
console.log(line(header));
console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
for (const t of table) console.log(line(t));
console.log(
  `(raw Worker ping-pong ${rawPingUs.toFixed(1)} µs, pipelined ${
    fmt(rawPipelined)
  } msgs/s; ` +
    `CPython 1-worker CPU ${py.cpu_1_worker_s!.toFixed(2)} s, ours ${
      ours.cpu_1_worker_s!.toFixed(2)
    } s)`,
);

await writeResults("pool", rows);
