// Shared helpers for the pool tests.
import { Pool, type PoolOptions } from "../../pool/mod.ts";

export type Tasks = typeof import("../fixtures/pool_tasks.ts");
export const TASKS: URL = new URL("../fixtures/pool_tasks.ts", import.meta.url);

/** A pool over the fixture task module. */
export function makePool(options: PoolOptions = {}): Pool<Tasks> {
  return new Pool<Tasks>(TASKS, { processes: 2, ...options });
}

/** A one-slot shared flag a task sets (to know it is running without sleeping). */
export function flag(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

/** Waits (bounded) until a task set the flag. */
export async function waitFlag(f: Int32Array, ms = 10_000): Promise<void> {
  const r = Atomics.waitAsync(f, 0, 0, ms);
  if (r.async) await r.value;
  if (Atomics.load(f, 0) === 0) throw new Error("Flag not set in time");
}

/** Collects an async iterable into an array (bounded). */
export async function collect<T>(
  it: AsyncIterable<T>,
  max = 1_000_000,
): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) {
    out.push(x);
    if (out.length >= max) break;
  }
  return out;
}

/** Throws SayWhenError at `when` (CPython's exception_throwing_generator). */
export class SayWhenError extends RangeError {
  constructor() {
    super("Somebody said when");
    this.name = "SayWhenError";
  }
}
export function* exceptionThrowingGenerator(
  total: number,
  when: number,
): Generator<number> {
  if (when === -1) throw new SayWhenError();
  for (let i = 0; i < total; i++) {
    if (i === when) throw new SayWhenError();
    yield i;
  }
}

/**
 * Runs `script` as its own `deno run -A --unstable-worker-options` (or with
 * `flags` instead) and waits (at most `ms`, a hang guard) for it to exit by
 * itself; kills it otherwise (`exited` is then false).
 */
export async function runScript(
  script: URL,
  {
    args = [],
    env = {},
    ms = 60_000,
    flags = ["-A", "--unstable-worker-options"],
  }: {
    args?: string[];
    env?: Record<string, string>;
    ms?: number;
    flags?: string[];
  } = {},
): Promise<{ code: number; stdout: string; stderr: string; exited: boolean }> {
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const guard = new AbortController();
  const timer = setTimeout(() => guard.abort(), ms);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...flags,
      "--no-check",
      "--config",
      config,
      script.pathname,
      ...args,
    ],
    env,
    stdout: "piped",
    stderr: "piped",
    signal: guard.signal, // kills the child when the guard fires
  }).spawn();
  const [status, stdout, stderr] = await Promise.all([
    child.status,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  clearTimeout(timer);
  return { code: status.code, stdout, stderr, exited: !guard.signal.aborted };
}
