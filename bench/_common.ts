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
  const results = new URL("./results/", import.meta.url);
  await Deno.mkdir(results, { recursive: true });
  await Deno.writeTextFile(
    new URL(`${area}.json`, results),
    JSON.stringify(rows, null, 2) + "\n",
  );
  console.log(`\nWrote bench/results/${area}.json`);
}
