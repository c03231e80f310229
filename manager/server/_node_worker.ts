// The entry of `start()`'s server as a `node:worker_threads` Worker (the
// kind Deno documents as unref-able; see client/_server_thread.ts). The
// start options come as `workerData`; `{ kind: "shutdown" }` stops it.

import { parentPort, workerData } from "node:worker_threads";
import {
  startServing,
  stopServing,
  type WorkerStart,
} from "./_serve_in_worker.ts";

const port = parentPort!;
port.on("message", async (msg: { kind: string }) => {
  if (msg?.kind === "shutdown") port.postMessage(await stopServing());
});
port.postMessage(await startServing(workerData as WorkerStart));
