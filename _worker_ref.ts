// Deno 2.9's web `Worker` keeps the event loop alive for as long as it exists
// and has no public `unref()` (`node:worker_threads`' Worker has one, but it
// cannot take `deno.permissions` and starts ~30 ms slower). Its class has a
// private ref-count method, keyed by an unexported symbol on
// `Worker.prototype`, that refs/unrefs the Worker's two message-polling
// operations (`core.refOpPromise` / `core.unrefOpPromise`) — the hook Deno's
// own node Worker uses. It is found here by what it does, once, for the pool's
// thread runtime and the manager's server Worker. `undefined` on a Deno that
// lacks it: callers then keep the Worker referenced (pool) or fall back to a
// `node:worker_threads` Worker (manager).

/** Refs (`true`) or unrefs (`false`) a web Worker's hold on the event loop. */
export type WorkerRefHook = (worker: Worker, ref: boolean) => void;

/** Deno's private Worker ref/unref, when this Deno has it. */
export const workerRefHook: WorkerRefHook | undefined = (() => {
  if (typeof Worker === "undefined") return undefined;
  const proto = Worker.prototype as unknown as Record<symbol, unknown>;
  for (const s of Object.getOwnPropertySymbols(proto)) {
    const f = Object.getOwnPropertyDescriptor(proto, s)?.value;
    if (
      typeof f === "function" && f.length === 1 &&
      s.description === undefined &&
      /unrefOpPromise/.test(Function.prototype.toString.call(f))
    ) {
      const hook = f as (this: Worker, ref: boolean) => void;
      return (worker: Worker, ref: boolean) => hook.call(worker, ref);
    }
  }
  return undefined;
})();
