// A referent's result that the server puts back when it cannot deliver it.

/**
 * A referent method's result that must be undone if it cannot be delivered
 * to its caller (a queue item goes back to the head of its queue). The
 * server replies with `value`, or runs `undo` when the reply cannot be
 * written; proxies resolve with `value`.
 *
 * @example Return an item that comes back if undelivered
 * ```ts
 * import { Undoable } from "@mproc/multiprocessing/manager";
 *
 * const stack = [1, 2];
 * const item = stack.pop()!;
 * const result = new Undoable(item, () => stack.push(item));
 * result.undo();
 * console.assert(stack.length === 2);
 * ```
 *
 * @typeParam T The value's type.
 */
export class Undoable<T> {
  /** The value to reply with. */
  readonly value: T;
  /** Puts the value back where it came from. */
  readonly undo: () => void;
  /** Wraps `value` with its `undo`. */
  constructor(value: T, undo: () => void) {
    this.value = value;
    this.undo = undo;
  }
}
