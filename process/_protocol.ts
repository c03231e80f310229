// The control messages between a Process and its child (msgpack over the
// control connection of `_child.ts`).

import type { ErrorWire } from "../_error_wire.ts";
import type { ArgHandle } from "./_args.ts";

/** Parent → child, once: what to run. */
export interface RunMessage {
  t: "run";
  /** The Process's name. */
  name: string;
  /** Its identity (`[1, 2]` for "Process-1:2"). */
  identity: number[];
  /** The export to call. */
  target: string;
  /** The msgpack-encoded args, with handle placeholders. */
  args: Uint8Array;
  /** What each placeholder stands for. */
  handles: ArgHandle[];
}

/** Child → parent, once: the target is about to run, or it cannot. */
export type StartMessage =
  | { t: "ready" }
  | { t: "failed"; error: ErrorWire };
