// The CPython door, loaded on demand: a server without the `python` option
// never imports it (its modules cost ~4–7 ms of a server Worker's start).
// `ManagerServer.listen()` is synchronous, so whoever passes `python` loads
// the door first (`SyncManager.serve()`, the `start()` Worker).

import type * as DoorModule from "./_cpython_door.ts";

let door: typeof DoorModule | undefined;

/** Imports the CPython door (once). */
export async function loadCPythonDoor(): Promise<typeof DoorModule> {
  return door ??= await import("./_cpython_door.ts");
}

/** The CPython door, if loaded. */
export function loadedCPythonDoor(): typeof DoorModule | undefined {
  return door;
}
