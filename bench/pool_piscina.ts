// piscina (npm:piscina@4, 2 threads) anchor for bench/pool_bench.ts; run by it
// as a subprocess with --no-lock so the project's lockfile stays untouched.
// Prints one JSON object.
// A non-literal specifier: `deno check bench/` does not resolve (download,
// lock) piscina; only this script, run with --no-lock, loads it.
const PISCINA = "npm:piscina@4.9.4";
// deno-lint-ignore no-explicit-any
const { default: Piscina } = await import(PISCINA) as { default: any };

const quick = Deno.args.includes("--quick");
const reps = quick ? 1 : 3;
const filename = new URL("./pool_piscina_worker.mjs", import.meta.url).href;

async function median(fn: () => Promise<number>): Promise<number> {
  await fn();
  await fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) out.push(await fn());
  out.sort((a, b) => a - b);
  return out[Math.floor(out.length / 2)]!;
}

const startMs = await median(async () => {
  const t0 = performance.now();
  const p = new Piscina({ filename, minThreads: 2, maxThreads: 2 });
  await p.run({ op: "noop" });
  const ms = performance.now() - t0;
  await p.destroy();
  return ms;
});
const pool = new Piscina({ filename, minThreads: 2, maxThreads: 2 });
await pool.run({ op: "noop" });

const noop = await median(async () => {
  const n = 20_000;
  const t = performance.now();
  await Promise.all(Array.from({ length: n }, () => pool.run({ op: "noop" })));
  return n / ((performance.now() - t) / 1000);
});
const latency = await median(async () => {
  const n = 2000;
  const t = performance.now();
  for (let i = 0; i < n; i++) await pool.run({ op: "noop" });
  return ((performance.now() - t) / n) * 1000;
});
const cpu = await median(async () => {
  const t = performance.now();
  await Promise.all(
    Array.from({ length: 40 }, () => pool.run({ op: "busy", x: 20 })),
  );
  return (performance.now() - t) / 1000;
});
await pool.destroy();
console.log(
  JSON.stringify({
    start_ms: startMs,
    noop_tasks_per_s: noop,
    apply_latency_us: latency,
    cpu_2_workers_s: cpu,
  }),
);
