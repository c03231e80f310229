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
 * Layout of this folder (each folder one layer; `_` files are internal):
 *
 * - `client/` — the client side: `BaseManager` / `SyncManager` / `Manager()`
 *   (`base_manager.ts`, `sync_manager.ts`), proxies (`proxy.ts`: `BaseProxy`,
 *   `Token`, `Remote<T>`; `sync_proxies.ts`: the typed proxies of the
 *   built-in types); internals: one connection's requests and replies
 *   (`_session.ts`), the on-demand connection of transferred proxies
 *   (`_lazy_conn.ts`), the refusal of values the server cannot hold
 *   (`_check_args.ts`), the Worker a started server runs in and its hold
 *   on the program (`_server_thread.ts`), the exit-time removal of its
 *   socket dir (`_exit_cleanup.ts`), permission errors naming every flag
 *   (`_permissions.ts`).
 * - `server/` — `ManagerServer` (`server.ts`: listener, stats, close); the
 *   protocol-neutral core (`_core.ts`: registry, calls, connected peers)
 *   and the one table of objects owning every reference
 *   count (`_object_table.ts`); one "door" per wire protocol turning frames
 *   into core calls (`_msgpack_door.ts`; a second protocol is a door beside
 *   it, on the same core); what `start()`'s server Worker runs
 *   (`_serve_in_worker.ts`) and its two entries (`_worker.ts`: a web
 *   Worker; `_node_worker.ts`: a `node:worker_threads` one).
 * - `types/` — the shared referents (`queue.ts`, `lock.ts`, `dict.ts`, …),
 *   the registry of types (`registry.ts`), blocking options (`options.ts`,
 *   checked by the leaf `_blocking.ts`), `Undoable` (`undoable.ts`), and
 *   their internals (wait lists, the caller context, the exposed lists of
 *   the built-in types, SyncManager's registry).
 * - `protocol/` — this package's msgpack wire: `PROTOCOL.md`, the message
 *   shapes (`_messages.ts`), batched frames (`_frame.ts`, `_outbox.ts`), the
 *   connection interface (`conn.ts`), codec error paths in the user's terms
 *   (`_paths.ts`).
 * - `cli.ts` — a standalone server.
 *
 * @module
 */

export * from "./client/base_manager.ts";
export * from "./client/sync_manager.ts";
export * from "./server/server.ts";
export * from "./client/sync_proxies.ts";
export { SharedQueue } from "./types/queue.ts";
export { Undoable } from "./types/undoable.ts";
export type { BarrierOptions, BlockingOptions } from "./types/options.ts";
export type { ConnLike } from "./protocol/conn.ts";
export type { Address } from "../connection/mod.ts";
export type { ProxyBase, Remote, RemoteResult, Token } from "./client/proxy.ts";
