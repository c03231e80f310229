/**
 * Types that tie a {@link Pool} to its task module: which names are task
 * functions, and the argument and result types of each.
 *
 * ```ts
 * import type { TaskArgs, TaskName, TaskResult } from "@mproc/multiprocessing/pool";
 *
 * type Tasks = { sqr(x: number): number; wait(ms: number): Promise<string> };
 * const name: TaskName<Tasks> = "sqr";
 * const args: TaskArgs<Tasks, "sqr"> = [5];
 * const out: TaskResult<Tasks, "wait"> = "done"; // promises are awaited
 * console.assert(name === "sqr" && args[0] === 5 && out === "done");
 * ```
 *
 * @module
 */

import type { TaskOptions } from "./options.ts";

/**
 * Any function (the shape of a task function).
 *
 * @example Usage
 * ```ts
 * import type { AnyFn } from "@mproc/multiprocessing/pool";
 *
 * const f: AnyFn = (a: number, b: string) => `${b}${a}`;
 * console.assert(f(1, "x") === "x1");
 * ```
 */
// deno-lint-ignore no-explicit-any
export type AnyFn = (...args: any[]) => unknown;

/**
 * A task function: the name of an export of the task module, or the
 * exported function itself (looked up in the worker by its `name`).
 *
 * @example Usage
 * ```ts
 * import type { Fn } from "@mproc/multiprocessing/pool";
 *
 * type Tasks = { sqr(x: number): number };
 * const byName: Fn<Tasks> = "sqr";
 * const byValue: Fn<Tasks> = function sqr(x: number): number {
 *   return x * x;
 * };
 * console.assert(byName === byValue.name);
 * ```
 */
export type Fn<M> = TaskName<M> | AnyFn;
/**
 * Names of the function exports of the task module `M`.
 *
 * @example Usage
 * ```ts
 * import type { TaskName } from "@mproc/multiprocessing/pool";
 *
 * type Tasks = { sqr(x: number): number; VERSION: string };
 * const name: TaskName<Tasks> = "sqr"; // "VERSION" is not a function: refused
 * console.assert(name === "sqr");
 * ```
 */
export type TaskName<M> =
  & { [K in keyof M]: M[K] extends AnyFn ? K : never }[keyof M]
  & string;
/**
 * The function type a {@link Fn} refers to.
 *
 * @example Usage
 * ```ts
 * import type { TaskFn } from "@mproc/multiprocessing/pool";
 *
 * type Tasks = { sqr(x: number): number };
 * const f: TaskFn<Tasks, "sqr"> = (x) => x * x;
 * console.assert(f(3) === 9);
 * ```
 */
export type TaskFn<M, F> = F extends AnyFn ? F
  : F extends keyof M ? (M[F] extends AnyFn ? M[F] : never)
  : never;
/**
 * Argument tuple of a task.
 *
 * @example Usage
 * ```ts
 * import type { TaskArgs } from "@mproc/multiprocessing/pool";
 *
 * type Tasks = { mul(x: number, y: number): number };
 * const args: TaskArgs<Tasks, "mul"> = [6, 7];
 * console.assert(args.length === 2);
 * ```
 */
export type TaskArgs<M, F> = Parameters<TaskFn<M, F>>;
/**
 * Result of a task (promises are awaited in the worker).
 *
 * @example Usage
 * ```ts
 * import type { TaskResult } from "@mproc/multiprocessing/pool";
 *
 * type Tasks = { fetchName(id: number): Promise<string> };
 * const result: TaskResult<Tasks, "fetchName"> = "ada"; // the promise is awaited in the worker
 * console.assert(result === "ada");
 * ```
 */
export type TaskResult<M, F> = Awaited<ReturnType<TaskFn<M, F>>>;
/**
 * The arguments of {@link Pool.apply} after `fn`: the argument array,
 * optional only when the task takes no required parameter.
 *
 * @example Usage
 * ```ts
 * import type { ApplyArgs } from "@mproc/multiprocessing/pool";
 *
 * type Tasks = { sqr(x: number): number; now(): number };
 * const withArgs: ApplyArgs<Tasks, "sqr"> = [[5]];
 * const none: ApplyArgs<Tasks, "now"> = []; // no required parameter: args optional
 * console.assert(withArgs.length === 1 && none.length === 0);
 * ```
 */
export type ApplyArgs<M, F> = [] extends TaskArgs<M, F>
  ? [args?: TaskArgs<M, F>]
  : [args: TaskArgs<M, F>];
/**
 * The arguments of {@link Pool.applyAsync} after `fn`: the argument array
 * (optional only when the task takes no required parameter) and the options.
 *
 * @example Usage
 * ```ts
 * import type { ApplyAsyncArgs } from "@mproc/multiprocessing/pool";
 *
 * type Tasks = { sqr(x: number): number };
 * const rest: ApplyAsyncArgs<Tasks, "sqr"> = [[5], { signal: AbortSignal.timeout(1000) }];
 * console.assert(rest.length === 2);
 * ```
 */
export type ApplyAsyncArgs<M, F> = [] extends TaskArgs<M, F>
  ? [args?: TaskArgs<M, F>, options?: TaskOptions<TaskResult<M, F>>]
  : [args: TaskArgs<M, F>, options?: TaskOptions<TaskResult<M, F>>];
