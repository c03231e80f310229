/**
 * Sending sharedmem objects through a raw `postMessage` (the Pool does this
 * for task arguments by itself).
 *
 * @module
 */

import { decodeFromPost, encodeForPost } from "../_transfer.ts";

/**
 * What {@link toPostable} returns: the message and its transfer list.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const p: mp.Postable = mp.toPostable({ lock: new mp.Lock() });
 * console.assert(p.transfer.length === 0);
 * ```
 */
export interface Postable {
  /** The message to post: sharedmem objects (at any depth of plain arrays and objects) replaced by markers. */
  value: unknown;
  /** The objects to transfer (empty for sharedmem objects; shared memory is not transferred). */
  transfer: Transferable[];
}

/**
 * Prepares a message holding sharedmem objects (`Lock`, `Value`, `Queue`, …,
 * at any depth of plain arrays/objects) for `worker.postMessage`. A class
 * instance with `#private` fields would arrive as `{}` otherwise. The
 * receiver calls {@link revive}.
 *
 * @param value The message.
 * @returns The message to post and its transfer list.
 *
 * @example Usage
 * ```ts ignore
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const lock = new mp.Lock();
 * const counter = new mp.Value("i", 0);
 * const { value, transfer } = mp.toPostable({ lock, counter });
 * worker.postMessage(value, transfer);
 * // in the worker:
 * // self.onmessage = async (e) => { const { lock, counter } = await mp.revive(e.data); … };
 * ```
 */
export function toPostable(value: unknown): Postable {
  return encodeForPost(value);
}

/**
 * Turns a message prepared by {@link toPostable} (or a Pool's encoding) back
 * into live sharedmem objects on the same memory, importing the modules that
 * define them when needed.
 *
 * @typeParam T The message's type.
 * @param data The received message (`event.data`).
 * @returns The message with live objects.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const lock = new mp.Lock();
 * const { value } = mp.toPostable({ lock });
 * const { lock: again } = await mp.revive<{ lock: mp.Lock }>(structuredClone(value));
 * await again.acquire();
 * console.assert(lock.locked());
 * again.release();
 * ```
 */
export function revive<T = unknown>(data: unknown): Promise<T> {
  return decodeFromPost(data) as Promise<T>;
}
