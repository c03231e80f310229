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
