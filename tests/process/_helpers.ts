// Helpers of the Process tests.

import { runScript } from "../pool/_helpers.ts";

/** The fixtures' targets module. */
export const TARGETS = new URL("./fixtures/targets.ts", import.meta.url).href;
/** The repo's config (the fixtures import the package's npm dependencies). */
export const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

export { deadline } from "../connection/_helpers.ts";

/** A `deno run` of tests/process/fixtures/parent.ts with `flags`, its output piped. */
export function spawnParent(
  flags: string[],
  args: string[],
): Deno.ChildProcess {
  const fixture = new URL("./fixtures/parent.ts", import.meta.url).pathname;
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-check", "--config", CONFIG, ...flags, fixture, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Runs the parent fixture with `flags` to its end (killed after `ms`, a hang guard). */
export async function runParent(
  flags: string[],
  args: string[],
  ms = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runScript(new URL("./fixtures/parent.ts", import.meta.url), {
    flags,
    args,
    ms,
  });
  if (!r.exited) {
    throw new Error(`Timed out waiting for parent ${args.join(" ")} to exit`);
  }
  return r;
}

/** Whether `pid` is a live (not zombie) process, from /proc. */
export function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2)[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}
