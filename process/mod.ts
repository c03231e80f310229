/**
 * The process layer: CPython's `Process` with the "spawn" start method — a
 * function of a module run in a fresh `deno run` child with its own
 * permissions (real flags), heap limit, environment and working directory,
 * connected back over a private authenticated socket; and
 * `currentProcess()`, `activeChildren()`. A child never outlives its parent.
 *
 * ```ts
 * import { currentProcess, Process } from "@mproc/multiprocessing/process";
 *
 * // usually a file of yours: `module: new URL("./tasks.ts", import.meta.url)`
 * const module = "data:text/javascript,export function work(n) { if (n !== 1) throw new Error('bad'); }";
 * await using p = new Process({ module, target: "work", args: [1] });
 * await p.start();
 * console.assert(await p.join() === 0);
 * console.assert(currentProcess().name === "MainProcess");
 * ```
 *
 * @module
 */

export { activeChildren } from "./active_children.ts";
export { type CurrentProcess, currentProcess } from "./current_process.ts";
export { Process, type ProcessOptions } from "./process.ts";
