/**
 * Errors shared by every area of the module (connection, pool, manager,
 * sharedmem), so that one `instanceof` check works wherever they come from.
 *
 * ```ts
 * import { TimeoutError } from "@mproc/multiprocessing";
 *
 * const err = new TimeoutError("Cannot get the result as it is not ready after 10 ms");
 * console.assert(err instanceof TimeoutError);
 * ```
 *
 * @module
 */

/**
 * An operation did not finish within its `timeout` (milliseconds): a connect,
 * `AsyncResult.get(ms)`, and the like. One class for all areas, as CPython's
 * `multiprocessing.TimeoutError`.
 *
 * @example Usage
 * ```ts
 * import { TimeoutError } from "@mproc/multiprocessing";
 *
 * try {
 *   throw new TimeoutError("Cannot connect as the timeout of 10 ms elapsed");
 * } catch (e) {
 *   console.assert(e instanceof TimeoutError);
 * }
 * ```
 */
export class TimeoutError extends Error {
  /**
   * Creates the error.
   *
   * @param message What timed out.
   * @param options Standard error options (`cause`).
   */
  constructor(message = "Operation timed out", options?: ErrorOptions) {
    super(message, options);
    this.name = "TimeoutError";
  }
}

/**
 * The serializable shape of an error thrown on the other side of a boundary.
 *
 * @example Usage
 * ```ts
 * import { RemoteError, type RemoteErrorInfo } from "@mproc/multiprocessing";
 *
 * const info: RemoteErrorInfo = { name: "RangeError", message: "too big" };
 * console.assert(new RemoteError(info).remoteName === "RangeError");
 * ```
 */
export interface RemoteErrorInfo {
  /** The remote error's `name` (e.g. `"RangeError"`). */
  name: string;
  /** The remote error's message. */
  message: string;
  /** The remote stack trace, when there was one. */
  stack?: string | undefined;
}

/**
 * An error raised in another thread or process (a Pool task, a manager's
 * referent) and re-raised here. `remoteName`, `remoteMessage` and
 * `remoteStack` carry what was thrown there; `cause` holds the original value
 * when it could be carried across.
 *
 * @example Usage
 * ```ts
 * import { RemoteError } from "@mproc/multiprocessing";
 *
 * const err = new RemoteError({ name: "RangeError", message: "bad", stack: "RangeError: bad" });
 * console.assert(err.remoteName === "RangeError");
 * console.assert(err.message.includes("bad"));
 * ```
 */
export class RemoteError extends Error {
  /** The name of the error on the remote side. */
  readonly remoteName: string;
  /** The message of the error on the remote side. */
  readonly remoteMessage: string;
  /** The stack trace of the error on the remote side, if any. */
  readonly remoteStack: string | undefined;

  /**
   * Creates the error from what the remote side reported.
   *
   * @param info The remote error's name, message and stack.
   * @param options Standard error options (`cause`: the original value).
   */
  constructor(info: RemoteErrorInfo, options?: ErrorOptions) {
    super(`${info.name}: ${info.message}`, options);
    this.name = "RemoteError";
    this.remoteName = info.name;
    this.remoteMessage = info.message;
    this.remoteStack = info.stack;
    if (info.stack) {
      this.stack =
        `${this.name}: ${this.message}\n    --- remote stack ---\n${info.stack}`;
    }
  }
}

/**
 * A non-blocking or timed-out `get` found the queue empty (CPython's
 * `queue.Empty`). Raised by manager queue proxies and `sharedmem` queues.
 *
 * @example Usage
 * ```ts
 * import { Empty } from "@mproc/multiprocessing";
 *
 * const err = new Empty();
 * console.assert(err.name === "Empty");
 * ```
 */
export class Empty extends Error {
  /**
   * Creates the error.
   *
   * @param message What was empty.
   */
  constructor(message = "Cannot get an item as the queue is empty") {
    super(message);
    this.name = "Empty";
  }
}

/**
 * A non-blocking or timed-out `put` found the queue full (CPython's
 * `queue.Full`). Raised by manager queue proxies and `sharedmem` queues.
 *
 * @example Usage
 * ```ts
 * import { Full } from "@mproc/multiprocessing";
 *
 * const err = new Full();
 * console.assert(err.name === "Full");
 * ```
 */
export class Full extends Error {
  /**
   * Creates the error.
   *
   * @param message What was full.
   */
  constructor(message = "Cannot put an item as the queue is full") {
    super(message);
    this.name = "Full";
  }
}

/**
 * A barrier was broken (aborted, reset, or a waiter timed out) while a party
 * was waiting on it (CPython's `threading.BrokenBarrierError`).
 *
 * @example Usage
 * ```ts
 * import { BrokenBarrierError } from "@mproc/multiprocessing";
 *
 * const err = new BrokenBarrierError();
 * console.assert(err.name === "BrokenBarrierError");
 * ```
 */
export class BrokenBarrierError extends Error {
  /**
   * Creates the error.
   *
   * @param message Why the barrier is broken.
   */
  constructor(message = "Cannot wait as the barrier is broken") {
    super(message);
    this.name = "BrokenBarrierError";
  }
}
