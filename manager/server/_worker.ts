// The Worker entry of `BaseManager.start()` (a `node:worker_threads` Worker:
// unlike a web Worker it can be unref'd, so an idle manager never keeps its
// program alive). Imports the module naming the custom types (if any) with
// the self-import guard on, serves them plus SyncManager's types, and
// reports its address back. `{ kind: "shutdown" }` closes the server.

import { parentPort, workerData } from "node:worker_threads";
import { importGuarded } from "../../_import_guard.ts";
import type { Address } from "../../connection/address.ts";
import { allRegistrations, type TypeSpec } from "../types/registry.ts";
import { BUILTIN_SPECS } from "../types/_sync_registry.ts";
import { ManagerServer } from "./server.ts";

/** What `start()` hands the Worker. */
export interface WorkerStart {
  /** Where to listen; none: a Unix socket in a fresh private temp dir. */
  address: Address | undefined;
  /** The key clients must know. */
  authkey: Uint8Array;
  /** The module registering the custom types. */
  module: string | undefined;
  /** Also serve CPython clients there. */
  python?: { address: Address } | undefined;
}

/** What the server Worker posts back. */
export type WorkerReply =
  | {
    kind: "ready";
    address: Address;
    epoch: string;
    pythonAddress?: Address | undefined;
  }
  | { kind: "error"; name: string; message: string; stack?: string }
  | { kind: "closed" };

const port = parentPort!;
let server: ManagerServer | undefined;

async function start(msg: WorkerStart): Promise<WorkerReply> {
  try {
    const url = msg.module;
    if (url !== undefined) await importGuarded(url, () => import(url));
    const registry = new Map<string, TypeSpec>(BUILTIN_SPECS);
    for (const [k, v] of allRegistrations) registry.set(k, v);
    server = ManagerServer.listen(registry, {
      ...(msg.address !== undefined
        ? { address: msg.address }
        : { family: "AF_UNIX" as const }),
      authkey: msg.authkey,
      ...(msg.python ? { python: msg.python } : {}),
    });
    return {
      kind: "ready",
      address: server.address,
      epoch: server.epoch,
      pythonAddress: server.pythonAddress,
    };
  } catch (err) {
    const x = err instanceof Error ? err : new Error(String(err));
    return { kind: "error", name: x.name, message: x.message, stack: x.stack };
  }
}

port.on("message", async (msg: { kind: string }) => {
  if (msg?.kind === "shutdown") {
    await server?.close();
    port.postMessage({ kind: "closed" } satisfies WorkerReply);
  }
});
port.postMessage(await start(workerData as WorkerStart));
