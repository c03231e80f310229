/**
 * Managers: a server process (or Worker) owning shared objects — queues,
 * locks, conditions, events, barriers, values, arrays, dicts, lists,
 * namespaces, and your own registered types — used from anywhere through
 * typed async proxies, locally or across machines over TCP with an authkey
 * (CPython's `multiprocessing.managers`).
 *
 * ```ts
 * import { Manager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await Manager();
 * const q = await m.Queue();
 * await q.put({ job: 1 });
 * console.assert((await q.get() as { job: number }).job === 1);
 * ```
 *
 * @module
 */

export * from "./base_manager.ts";
export * from "./sync_manager.ts";
export * from "./server.ts";
export * from "./proxies.ts";
export { SharedQueue } from "./_types/queue.ts";
export { Undoable } from "./_context.ts";
export type { ConnLike } from "./_conn.ts";
export type { Address } from "../connection/mod.ts";
export type { ProxyBase, Remote, RemoteResult, Token } from "./proxy.ts";
