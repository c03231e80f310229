// The Worker a started manager's server runs in, and its hold on the
// program: while the starter waits for it (start, shutdown) it keeps the
// program alive, otherwise not (`unref`) — a call waiting for its reply
// keeps the program alive through its socket read instead.
//
// Two kinds, one interface. A web Worker starts in about a third of the time
// of a `node:worker_threads` Worker here (no Node bootstrap), but Deno 2.9.6
// gives it no public `unref()`: `../../_worker_ref.ts` finds the private hook
// its node Worker uses. When it is there the web Worker is used; when a
// Deno lacks it, the `node:worker_threads` Worker (public `ref`/`unref`).

import type { WorkerReply, WorkerStart } from "../server/_serve_in_worker.ts";
import { type WorkerRefHook, workerRefHook } from "../../_worker_ref.ts";

/** The server Worker, as `start()` and `shutdown()` use it. */
export interface ServerThread {
  /** The Worker's first reply: ready (with its address) or an error. */
  readonly started: Promise<WorkerReply>;
  /** Runs `fn` once if the Worker fails or exits after starting. */
  onLost(fn: () => void): void;
  /** Lets the Worker keep the program alive. */
  ref(): void;
  /** Stops the Worker from keeping the program alive. */
  unref(): void;
  /** Asks the server to close; resolves once closed, or after `ms`. */
  shutdown(ms: number): Promise<void>;
  /** Ends the Worker. */
  terminate(): Promise<void>;
}

const WEB_ENTRY = new URL("../server/_worker.ts", import.meta.url);
const NODE_ENTRY = new URL("../server/_node_worker.ts", import.meta.url);

/**
 * Starts the server Worker (the web kind when it can be unref'd, unless
 * `kind` says otherwise). It keeps the program alive until `unref()`.
 */
export function spawnServer(
  start: WorkerStart,
  kind: "web" | "node" = workerRefHook ? "web" : "node",
): ServerThread {
  return kind === "web" && workerRefHook
    ? webThread(start, workerRefHook)
    : nodeThread(start);
}

function failed(what: string, cause?: unknown): Error {
  // A refused permission (the Worker's module could not be read) stays one.
  const m = /Requires \w+ access.*$/.exec(what);
  if (m) return new Deno.errors.NotCapable(m[0]);
  return new Error(
    `Cannot start the manager as its server Worker ${what}`,
    cause === undefined ? undefined : { cause },
  );
}

function webThread(start: WorkerStart, hook: WorkerRefHook): ServerThread {
  const w = new Worker(WEB_ENTRY, { type: "module" });
  let referenced = true;
  const setRef = (on: boolean) => {
    if (referenced === on) return;
    referenced = on;
    hook(w, on);
  };
  let lost: (() => void) | undefined;
  let settle: ((r: WorkerReply) => void) | undefined;
  const started = new Promise<WorkerReply>((resolve, reject) => {
    settle = resolve;
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      if (settle) {
        settle = undefined;
        reject(failed(`failed: ${e.message}`, e.error ?? e.message));
      } else lost?.();
    };
  });
  let closed: (() => void) | undefined;
  w.onmessage = (e: MessageEvent<WorkerReply>) => {
    if (settle) {
      const s = settle;
      settle = undefined;
      s(e.data);
    } else if (e.data?.kind === "closed") closed?.();
  };
  try {
    w.postMessage({ kind: "start", ...start });
  } catch (e) {
    w.terminate(); // an option that cannot be cloned must not leave the Worker
    throw e;
  }
  return {
    started,
    onLost: (fn) => (lost = fn),
    ref: () => setRef(true),
    unref: () => setRef(false),
    shutdown: (ms) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        closed = () => {
          clearTimeout(t);
          resolve();
        };
        w.postMessage({ kind: "shutdown" });
      }),
    terminate: () => {
      w.terminate();
      return Promise.resolve();
    },
  };
}

function nodeThread(start: WorkerStart): ServerThread {
  // Loaded only on this fallback path: node:worker_threads brings Deno's Node
  // compatibility layer (~5 ms) that the web Worker path never needs.
  type NodeWorker = import("node:worker_threads").Worker;
  const worker: Promise<NodeWorker> = import("node:worker_threads").then(
    ({ Worker }) => new Worker(NODE_ENTRY, { workerData: start }),
  );
  const use = (fn: (w: NodeWorker) => unknown) => {
    worker.then(fn, () => {});
  };
  let lost: (() => void) | undefined;
  const started = worker.then((w) =>
    new Promise<WorkerReply>((resolve, reject) => {
      w.once("message", resolve);
      w.once("error", (e: Error) => reject(failed(`failed: ${e.message}`, e)));
      w.once(
        "exit",
        (code: number) => reject(failed(`exited (code ${code})`)),
      );
    })
  );
  started.then(() =>
    use((w) => {
      w.removeAllListeners();
      w.on("error", () => lost?.());
      w.on("exit", () => lost?.());
    }), () => {});
  return {
    started,
    onLost: (fn) => (lost = fn),
    ref: () => use((w) => w.ref()),
    unref: () => use((w) => w.unref()),
    shutdown: (ms) =>
      worker.then((w) =>
        new Promise<void>((resolve) => {
          const t = setTimeout(resolve, ms);
          const done = () => {
            clearTimeout(t);
            resolve();
          };
          w.on("message", (m: WorkerReply) => {
            if (m?.kind === "closed") done();
          });
          w.once("exit", done);
          w.postMessage({ kind: "shutdown" });
        })
      ),
    terminate: () =>
      worker.then(async (w) => {
        w.removeAllListeners();
        await w.terminate();
      }, () => {}),
  };
}
