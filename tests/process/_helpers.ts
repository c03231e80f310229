// Helpers of the Process tests.

/** The fixtures' targets module. */
export const TARGETS = new URL("./fixtures/targets.ts", import.meta.url).href;
/** The repo's config (the fixtures import the package's npm dependencies). */
export const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** Rejects with `what` if `p` has not settled after `ms` (a hang guard, not a timing assertion). */
export async function deadline<T>(
  p: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out waiting for ${what}`)),
      ms,
    );
  });
  try {
    return await Promise.race([p, guard]);
  } finally {
    clearTimeout(timer);
  }
}

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

/** Runs the parent fixture to its end (killed after `ms`, a hang guard). */
export async function runParent(
  flags: string[],
  args: string[],
  ms = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawnParent(flags, args);
  const out = Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  try {
    const status = await deadline(
      child.status,
      ms,
      `parent ${args.join(" ")} to exit`,
    );
    const [stdout, stderr] = await out;
    return { code: status.code, stdout, stderr };
  } catch (e) {
    try {
      child.kill("SIGKILL");
    } catch {
      // gone
    }
    await child.status;
    await out;
    throw e;
  }
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
