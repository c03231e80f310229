// The Worker entry of `BaseManager.start()`: imports the module naming the
// custom types (if any), serves them plus SyncManager's types, and reports
// its address back. `{ kind: "shutdown" }` closes the server.

/// <reference lib="deno.worker" />

import { BUILTIN_SPECS } from "./_builtins.ts";
import { allRegistrations, type TypeSpec } from "./_registry.ts";
import { ManagerServer } from "./server.ts";

let server: ManagerServer | undefined;

self.onmessage = async (e: MessageEvent) => {
  const msg = e.data as {
    kind: string;
    address?: unknown;
    authkey?: Uint8Array;
    module?: string;
    python?: { address: unknown };
  };
  if (msg.kind === "start") {
    try {
      if (msg.module !== undefined) await import(msg.module);
      const registry = new Map<string, TypeSpec>(BUILTIN_SPECS);
      for (const [k, v] of allRegistrations) registry.set(k, v);
      server = ManagerServer.listen(registry, {
        ...(msg.address !== undefined
          ? { address: msg.address as never }
          : { family: "AF_UNIX" as const }),
        ...(msg.authkey ? { authkey: msg.authkey } : {}),
        ...(msg.python ? { python: msg.python as never } : {}),
      });
      self.postMessage({
        kind: "ready",
        address: server.address,
        pythonAddress: server.pythonAddress,
        epoch: server.epoch,
      });
    } catch (err) {
      const x = err instanceof Error ? err : new Error(String(err));
      self.postMessage({
        kind: "error",
        name: x.name,
        message: x.message,
        stack: x.stack,
      });
    }
  } else if (msg.kind === "shutdown") {
    await server?.close();
    self.postMessage({ kind: "closed" });
  }
};
