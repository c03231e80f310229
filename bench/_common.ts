// Shared by the area benchmarks and bench/run.ts.

/** One figure of a benchmark, as written to bench/results/<area>.json. */
export interface BenchRow {
  /** What is measured. */
  name: string;
  /** Its unit (e.g. "msgs/s", "ms (lower is better)"). */
  unit: string;
  /** Our figure. */
  ours: number;
  /** What it is compared with, measured in the same run. */
  anchor: string;
  /** The anchor's figure. */
  anchorValue: number;
  /** ours / anchor (or anchor / ours where lower is better, as the row says). */
  ratio: number;
  /** The target for this ratio. */
  target: string;
}

/**
 * The CPython interpreter the benches compare with: pyenv's 3.11.7 when
 * installed, else `python3` on the PATH.
 */
export async function cpython(version = "3.11.7"): Promise<string> {
  try {
    const out = await new Deno.Command("pyenv", {
      args: ["prefix", version],
      stdout: "piped",
      stderr: "null",
    }).output();
    const prefix = new TextDecoder().decode(out.stdout).trim();
    if (out.success && prefix) return `${prefix}/bin/python3`;
  } catch {
    // no pyenv
  }
  return "python3";
}

/** The median of `xs`. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * A table row from interleaved runs: the medians of each side, and the
 * median of the run-by-run ratios (paired, so common load drift cancels).
 */
export function row(
  name: string,
  unit: string,
  ours: number[],
  anchor: string,
  anchorRuns: number[],
  min: number | null,
): BenchRow {
  return {
    name,
    unit,
    ours: median(ours),
    anchor,
    anchorValue: median(anchorRuns),
    ratio: median(ours.map((x, i) => x / anchorRuns[i]!)),
    target: min === null ? "info" : `>= ${min}x`,
  };
}

/**
 * Pins this process (all its threads, and so the Worker and the CPython
 * peers it starts) to CPU 0, unless BENCH_PIN=0. On this 2-vCPU VM a
 * cross-CPU wake-up costs more than a whole round trip, and whether the two
 * ends land on one CPU or two changes round trips/s by 2-3x from run to run;
 * on one CPU the figures measure the CPU cost of each side and repeat.
 */
export async function pin(): Promise<string> {
  if (Deno.env.get("BENCH_PIN") === "0") return "not pinned";
  try {
    const out = await new Deno.Command("taskset", {
      args: ["-a", "-p", "-c", "0", String(Deno.pid)],
      stdout: "null",
      stderr: "null",
    }).output();
    if (out.success) return "pinned to CPU 0";
  } catch {
    // no taskset
  }
  return "not pinned (taskset failed)";
}

/**
 * Prints `rows` as a Markdown table (numbers with `fmt`) and writes them to
 * bench/results/<area>.json.
 */
export async function reportRows(
  area: string,
  rows: BenchRow[],
  fmt: (n: number) => string = (n) => Math.round(n).toLocaleString("en-US"),
): Promise<void> {
  console.log(
    "| figure | unit | ours | anchor | anchor value | ratio | target |",
  );
  console.log("|---|---|---:|---|---:|---:|---|");
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.unit} | ${fmt(r.ours)} | ${r.anchor} | ${
        fmt(r.anchorValue)
      } | ${r.ratio.toFixed(2)}x | ${r.target} |`,
    );
  }
  await writeResults(area, rows);
  console.log(`\nWrote bench/results/${area}.json`);
}

/** Writes `rows` to bench/results/<area>.json (what `run.ts` tabulates). */
export async function writeResults(
  area: string,
  rows: BenchRow[],
): Promise<void> {
  const results = new URL("./results/", import.meta.url);
  await Deno.mkdir(results, { recursive: true });
  await Deno.writeTextFile(
    new URL(`${area}.json`, results),
    JSON.stringify(rows, null, 2) + "\n",
  );
}
