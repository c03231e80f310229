// What the server Worker of `BaseManager.start()` does, whichever kind of
// Worker runs it (`_worker.ts`: a web Worker; `_node_worker.ts`: a
// `node:worker_threads` Worker): import the module naming the custom types
// (with the self-import guard on), serve them plus SyncManager's types, and
// say where; close on request.

import { importGuarded } from "../../_import_guard.ts";
import type { Address } from "../../connection/address.ts";
import { servedTypes } from "../types/_sync_registry.ts";
import { loadCPythonDoor } from "./_door_loader.ts";
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

let server: ManagerServer | undefined;

/** Starts serving; the reply says where, or why not. */
export async function startServing(msg: WorkerStart): Promise<WorkerReply> {
  try {
    const url = msg.module;
    if (url !== undefined) await importGuarded(url, () => import(url));
    if (msg.python) await loadCPythonDoor();
    server = ManagerServer.listen(servedTypes(), {
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

/** Closes the server (its clients are disconnected, its socket files removed). */
export async function stopServing(): Promise<WorkerReply> {
  await server?.close();
  return { kind: "closed" };
}
