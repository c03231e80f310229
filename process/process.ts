/**
 * {@linkcode Process}: CPython's `multiprocessing.Process` with the "spawn"
 * start method — a function of a module, run in a fresh Deno process.
 *
 * @module
 */

import { errorFromWire } from "../_error_wire.ts";
import { assertNotImporting } from "../_import_guard.ts";
import { encode } from "../_msgpack.ts";
import { resolveModule } from "../pool/_options.ts";
import { active } from "./_active.ts";
import { encodeArgs, relay, takeHandles } from "./_args.ts";
import { Child, exitCodeOf } from "./_child.ts";
import { currentIdentity } from "./_current.ts";
import type { RunMessage, StartMessage } from "./_protocol.ts";

/**
 * Options of {@linkcode Process}.
 *
 * @example Usage
 * ```ts
 * import { Process, type ProcessOptions } from "@mproc/multiprocessing/process";
 *
 * // usually a file of yours: `module: new URL("./tasks.ts", import.meta.url)`
 * const options: ProcessOptions = {
 *   module: "data:text/javascript,export function work() {}",
 *   target: "work",
 *   stdout: "null",
 * };
 * console.assert(new Process(options).name.startsWith("Process-"));
 * ```
 */
export interface ProcessOptions {
  /** The module holding `target` (a URL, an absolute path, or a path relative to the working directory). */
  module: string | URL;
  /** An export of `module`, by name or as the function itself (found by its name). */
  // deno-lint-ignore no-explicit-any
  target: string | ((...args: any[]) => unknown);
  /**
   * Arguments of `target`: msgpack values, manager proxies (they arrive as
   * working proxies) and `Connection`s such as `Pipe()` ends (relayed
   * through this process; the end given belongs to the child from then on).
   *
   * @default {[]}
   */
  args?: unknown[];
  /**
   * The name (`currentProcess().name` in the child).
   *
   * @default {"Process-N"}
   */
  name?: string;
  /**
   * Deno permissions of the child, as real `deno run` flags. Kinds left out
   * are inherited: what this process was granted (a whole kind, or the list
   * it was started with when it can read its command line). A child cannot
   * get more than this process has.
   *
   * @default {"inherit"}
   */
  permissions?: Deno.PermissionOptions;
  /** V8 heap cap of the child in MiB (`--max-old-space-size`). */
  memoryLimitMb?: number;
  /** Environment variables set in the child (on top of this process's). */
  env?: Record<string, string>;
  /** Working directory of the child. */
  cwd?: string;
  /**
   * The child's standard output.
   *
   * @default {"inherit"}
   */
  stdout?: "inherit" | "null";
  /**
   * The child's standard error.
   *
   * @default {"inherit"}
   */
  stderr?: "inherit" | "null";
  /** Aborting it terminates the process (or, before it started, stops start()). */
  signal?: AbortSignal;
}

const BOOTSTRAP = new URL("./_bootstrap.ts", import.meta.url).href;
/** How many Processes this process has made (CPython's `_counter`). */
let counter = 0;

function moduleUrl(module: string | URL): string {
  if (
    !(module instanceof URL) && (typeof module !== "string" || module === "")
  ) {
    throw new TypeError(
      "Cannot create a Process as its module is not a URL or a non-empty string",
    );
  }
  return resolveModule(module);
}

function targetName(target: ProcessOptions["target"]): string {
  if (typeof target === "string" && target !== "") return target;
  if (typeof target === "function" && target.name) return target.name;
  throw new TypeError(
    "Cannot create a Process as its target is not an export name or a named exported function",
  );
}

/**
 * A child process running `target(...args)` of `module` (awaited), as
 * CPython's `Process` with the "spawn" start method: the child is a fresh
 * `deno run` of `Deno.execPath()` with its own permissions, heap limit,
 * environment and working directory. It never outlives this process.
 *
 * `exitCode` follows CPython's `exitcode`: `null` while running, 0 when
 * `target` returned, 1 when it threw (its stack is printed on the child's
 * stderr), the code given to `Deno.exit()`, or `-N` when signal N killed it.
 *
 * @example Run a function in a child process
 * ```ts
 * import { Process } from "@mproc/multiprocessing/process";
 *
 * // usually a file of yours: `module: new URL("./tasks.ts", import.meta.url)`
 * const module = "data:text/javascript,export function add(a, b) { if (a + b !== 3) throw new Error('bad'); }";
 * const p = new Process({ module, target: "add", args: [1, 2] });
 * await p.start();
 * console.assert(await p.join() === 0); // 1 if add() had thrown
 * ```
 *
 * @example Before start
 * ```ts
 * import { Process } from "@mproc/multiprocessing/process";
 *
 * const p = new Process({ module: "data:text/javascript,export function f() {}", target: "f", name: "worker" });
 * console.assert(p.name === "worker");
 * console.assert(p.pid === undefined && p.exitCode === null && !p.isAlive());
 * ```
 */
export class Process implements AsyncDisposable {
  #module: string;
  #target: string;
  #args: unknown[];
  #name: string;
  #identity: number[];
  #options: ProcessOptions;
  #child: Child | null = null;
  #starting: Promise<void> | null = null;
  #exitCode: number | null = null;
  #onAbort: (() => void) | null = null;
  /** Relays of Connections in args: done when all the child sent was passed on. */
  #relays: Promise<void>[] = [];

  /**
   * Checks the options; nothing starts until {@linkcode Process.start}.
   *
   * @param options The module, target, args and how to run the child.
   * @throws {TypeError} When `module` or `target` is unusable.
   * @throws {RangeError} When `memoryLimitMb` is not a positive integer.
   * @throws {Error} When called while a child or worker imports its module
   * (a module that starts a Process at top level).
   */
  constructor(options: ProcessOptions) {
    assertNotImporting("Process");
    if (options === null || typeof options !== "object") {
      throw new TypeError(
        "Cannot create a Process as its options are not an object",
      );
    }
    const { module, target, args = [], name, memoryLimitMb } = options;
    this.#module = moduleUrl(module);
    this.#target = targetName(target);
    if (!Array.isArray(args)) {
      throw new TypeError(
        "Cannot create a Process as its args are not an array",
      );
    }
    if (
      memoryLimitMb !== undefined &&
      (!Number.isInteger(memoryLimitMb) || memoryLimitMb <= 0)
    ) {
      throw new RangeError(
        `Cannot use memoryLimitMb as it must be a positive integer: current value is ${memoryLimitMb}`,
      );
    }
    for (const k of ["stdout", "stderr"] as const) {
      const v = options[k];
      if (v !== undefined && v !== "inherit" && v !== "null") {
        throw new TypeError(
          `Cannot use ${k} as it must be "inherit" or "null": current value is ${
            String(v)
          }`,
        );
      }
    }
    this.#args = args;
    this.#identity = [...currentIdentity().identity, ++counter];
    this.#name = name ?? `Process-${this.#identity.join(":")}`;
    this.#options = options;
  }

  /**
   * The name ("Process-N" by default; "Process-1:2" for the second child of
   * the child "Process-1").
   *
   * @example Usage
   * ```ts
   * import { Process } from "@mproc/multiprocessing/process";
   *
   * const p = new Process({ module: "data:text/javascript,export function f() {}", target: "f" });
   * console.assert(p.name.startsWith("Process-"));
   * ```
   */
  get name(): string {
    return this.#name;
  }

  /**
   * The child's pid; undefined before {@linkcode Process.start}.
   *
   * @example Usage
   * ```ts
   * import { Process } from "@mproc/multiprocessing/process";
   *
   * const p = new Process({ module: "data:text/javascript,export function f() {}", target: "f" });
   * console.assert(p.pid === undefined);
   * ```
   */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /**
   * CPython's `exitcode`: null until the child ended, then 0 (target
   * returned), 1 (it threw), its `Deno.exit()` code, or -N (signal N).
   *
   * @example Usage
   * ```ts
   * import { Process } from "@mproc/multiprocessing/process";
   *
   * const p = new Process({ module: "data:text/javascript,export function f() {}", target: "f" });
   * console.assert(p.exitCode === null);
   * ```
   */
  get exitCode(): number | null {
    return this.#exitCode;
  }

  /**
   * Whether the child was started and has not ended.
   *
   * @example Usage
   * ```ts
   * import { Process } from "@mproc/multiprocessing/process";
   *
   * const p = new Process({ module: "data:text/javascript,export function f() {}", target: "f" });
   * console.assert(!p.isAlive());
   * ```
   *
   * @returns True while the child runs.
   */
  isAlive(): boolean {
    return this.#child !== null && this.#exitCode === null;
  }

  /**
   * Starts the child and resolves when it runs `target`. Rejects, leaving
   * nothing behind, when it cannot start: the module does not load, it has
   * no such export, a permission beyond this process's, an argument that
   * cannot cross (a TypeError naming it), or the child exits first.
   *
   * @example Usage
   * ```ts
   * import { Process } from "@mproc/multiprocessing/process";
   *
   * const p = new Process({ module: "data:text/javascript,export function work() {}", target: "work" });
   * await p.start();
   * console.assert(typeof p.pid === "number");
   * await p.join();
   * ```
   *
   * @returns A promise that resolves once the target is running.
   */
  start(): Promise<void> {
    if (this.#starting) {
      return Promise.reject(
        new Error(`Cannot start ${this.#name} as it was started already`),
      );
    }
    this.#starting = this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    assertNotImporting("Process");
    const { signal } = this.#options;
    signal?.throwIfAborted();
    const enc = encodeArgs(this.#args);
    const argBytes = encode(enc.args);
    const o = this.#options;
    const child = await Child.spawn({
      entry: BOOTSTRAP,
      module: this.#module,
      name: this.#name,
      permissions: o.permissions,
      memoryLimitMb: o.memoryLimitMb,
      env: o.env,
      cwd: o.cwd,
      stdout: o.stdout,
      stderr: o.stderr,
    }, signal);
    this.#child = child;
    active.add(this);
    child.exited.then((e) => {
      this.#exitCode = exitCodeOf(e);
      active.delete(this);
      if (this.#onAbort) signal?.removeEventListener("abort", this.#onAbort);
    });
    if (signal) {
      this.#onAbort = () => this.terminate();
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
    try {
      const run: RunMessage = {
        t: "run",
        name: this.#name,
        identity: this.#identity,
        target: this.#target,
        args: argBytes,
        handles: takeHandles(enc),
      };
      await child.control.send(run);
      for (const [id, local] of enc.relays) {
        this.#relays.push(relay(local, await child.aux(id)));
      }
      const reply = await child.control.recv<StartMessage>();
      if (reply.t === "failed") {
        const err = errorFromWire(reply.error);
        await child.exited; // it exits with 1 by itself
        throw new Error(
          `Cannot start ${this.#name} as its child failed to run ${this.#target} of ${this.#module}: ${err.message}`,
          { cause: err },
        );
      }
    } catch (e) {
      child.kill("SIGKILL");
      await child.exited;
      if (signal?.aborted) throw signal.reason;
      if (e instanceof Error && e.message.startsWith("Cannot start")) throw e;
      throw new Error(
        `Cannot start ${this.#name} as its child process ended before running ${this.#target}: ${
          (e as Error)?.message ?? String(e)
        }`,
        { cause: e },
      );
    } finally {
      child.closeListener();
    }
  }

  /**
   * Waits for the child to end, at most `timeout` ms. Rejects when the
   * process was never started (as CPython asserts).
   *
   * @example Usage
   * ```ts
   * import { Process } from "@mproc/multiprocessing/process";
   *
   * const p = new Process({ module: "data:text/javascript,export function work() {}", target: "work" });
   * await p.start();
   * const code = await p.join(60_000); // null if still running after 60 s
   * console.assert(code === 0);
   * ```
   *
   * @param timeout Milliseconds to wait; forever when undefined.
   * @returns The exit code, or null when the timeout passed first.
   */
  async join(timeout?: number): Promise<number | null> {
    if (!this.#starting) {
      throw new Error(
        `Cannot join ${this.#name} as it was not started: call start() first`,
      );
    }
    if (
      timeout !== undefined &&
      (typeof timeout !== "number" || Number.isNaN(timeout))
    ) {
      throw new TypeError(
        `Cannot join with timeout ${
          String(timeout)
        } as it is not a number of ms`,
      );
    }
    await this.#starting.catch(() => {});
    const child = this.#child;
    if (!child) return this.#exitCode;
    if (this.#exitCode !== null) {
      await Promise.all(this.#relays);
      return this.#exitCode;
    }
    if (timeout === undefined || timeout === Infinity) {
      const code = exitCodeOf(await child.exited);
      await Promise.all(this.#relays);
      return code;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const t = new Promise<null>((resolve) => {
      timer = setTimeout(
        () => resolve(null),
        Math.max(0, Math.min(timeout, 2 ** 31 - 1)),
      );
    });
    try {
      const r = await Promise.race([child.exited, t]);
      if (r === null) return null;
      await Promise.all(this.#relays);
      return exitCodeOf(r);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends SIGTERM to the child (CPython's `terminate()`); a child not
   * started or ended already is left alone.
   *
   * @example Usage
   * ```ts
   * import { Process } from "@mproc/multiprocessing/process";
   *
   * const module = "data:text/javascript,export const forever = () => new Promise(() => setInterval(() => {}, 1000));";
   * const p = new Process({ module, target: "forever" });
   * await p.start();
   * p.terminate();
   * console.assert(await p.join() === -15);
   * ```
   */
  terminate(): void {
    this.#child?.kill("SIGTERM");
  }

  /**
   * Sends SIGKILL to the child (CPython's `kill()`).
   *
   * @example Usage
   * ```ts
   * import { Process } from "@mproc/multiprocessing/process";
   *
   * const module = "data:text/javascript,export const forever = () => new Promise(() => setInterval(() => {}, 1000));";
   * const p = new Process({ module, target: "forever" });
   * await p.start();
   * p.kill();
   * console.assert(await p.join() === -9);
   * ```
   */
  kill(): void {
    this.#child?.kill("SIGKILL");
  }

  /**
   * Terminates the child if it still runs, then waits for it
   * (`await using p = new Process(…)`).
   *
   * @example Usage
   * ```ts
   * import { Process } from "@mproc/multiprocessing/process";
   *
   * {
   *   await using _p = new Process({ module: "data:text/javascript,export function f() {}", target: "f" });
   * } // never started: nothing to stop
   * ```
   *
   * @returns A promise that resolves when the child has ended.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#starting) return;
    await this.#starting.catch(() => {});
    if (this.isAlive()) this.terminate();
    if (this.#child) await this.#child.exited;
    await Promise.all(this.#relays);
  }
}
