/**
 * {@linkcode wait}: waits until any of several connections is readable.
 *
 * @module
 */

import { Connection } from "./connection.ts";
import { badTimeout } from "./_timeout.ts";

/**
 * Waits until at least one connection has something to read (a message, or
 * the end of stream: then its next receive rejects with `EOFError`), and
 * returns those that do, in the order given.
 *
 * @example Usage
 * ```ts
 * import { Pipe, wait } from "@mproc/multiprocessing/connection";
 *
 * const [a1, b1] = Pipe();
 * const [a2, b2] = Pipe();
 * await a2.send("x");
 * const ready = await wait([b1, b2], 1000);
 * console.assert(ready.length === 1 && ready[0] === b2);
 * for (const c of [a1, b1, a2, b2]) c.close();
 * ```
 *
 * @param objects The connections.
 * @param timeout Milliseconds to wait; `undefined` waits forever. On timeout
 * the result is empty.
 * @returns The ready connections.
 * @throws {Deno.errors.BadResource} (as a rejection) If a connection is
 * closed, as CPython's `OSError`.
 */
export function wait(
  objects: Connection[],
  timeout?: number,
): Promise<Connection[]> {
  if (
    !Array.isArray(objects) || !objects.every((c) => c instanceof Connection)
  ) {
    return Promise.reject(
      new TypeError(
        "Cannot wait as 'objects' is not an array of connections: pass the Connection objects of Client(), accept() or Pipe()",
      ),
    );
  }
  const bad = badTimeout("wait", timeout);
  if (bad) return Promise.reject(bad);
  if (objects.some((c) => c.closed)) {
    return Promise.reject(
      new Deno.errors.BadResource("Cannot wait on a closed connection"),
    );
  }
  const ready = () => objects.filter((c) => c.isReadable());
  const now = ready();
  if (
    now.length > 0 || objects.length === 0 ||
    (timeout !== undefined && !(timeout > 0))
  ) {
    return Promise.resolve(now);
  }
  return new Promise((resolve) => {
    let done = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(ready());
    };
    for (const c of objects) {
      if (!c.closed) c.whenReadable().then(finish, finish);
    }
    if (timeout !== undefined && Number.isFinite(timeout)) {
      timer = setTimeout(finish, timeout);
    }
  });
}
