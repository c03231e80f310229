// The entry of `start()`'s server as a web Worker (the fast-starting kind,
// used when this Deno lets it be unref'd; see client/_server_thread.ts).
// `{ kind: "start", ...WorkerStart }` starts it, `{ kind: "shutdown" }` stops it.

/// <reference lib="deno.worker" />

import {
  startServing,
  stopServing,
  type WorkerStart,
} from "./_serve_in_worker.ts";

self.onmessage = async (e: MessageEvent<{ kind: string } & WorkerStart>) => {
  const msg = e.data;
  if (msg?.kind === "start") self.postMessage(await startServing(msg));
  else if (msg?.kind === "shutdown") self.postMessage(await stopServing());
};
