/**
 * Options of the shared types' blocking calls (`get`, `put`, `acquire`,
 * `Barrier`). A leaf module: the client's proxies and the server's referents
 * both import it, and it imports nothing.
 *
 * @module
 */

/**
 * Options of blocking calls (`get`, `put`, `acquire`).
 *
 * @example Wait at most 50 ms
 * ```ts
 * import { type BlockingOptions, Manager } from "@mproc/multiprocessing/manager";
 * import { Empty } from "@mproc/multiprocessing";
 *
 * await using m = await Manager();
 * const q = await m.Queue();
 * const opts: BlockingOptions = { block: true, timeout: 50 };
 * await q.get(opts).catch((e) => console.assert(e instanceof Empty));
 * ```
 */
export interface BlockingOptions {
  /** Wait when the operation cannot complete now. @default {true} */
  block?: boolean;
  /** How long to wait, in ms; `undefined` (or `-1` for `acquire`) waits forever. */
  timeout?: number;
}

/**
 * Options of `SyncManager.Barrier()`.
 *
 * @example A default timeout
 * ```ts
 * import { type BarrierOptions, Manager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await Manager();
 * const opts: BarrierOptions = { timeout: 1000 };
 * const b = await m.Barrier(1, opts);
 * console.assert(await b.wait() === 0);
 * ```
 */
export interface BarrierOptions {
  /** Default timeout of `wait()`, in ms. */
  timeout?: number;
}
