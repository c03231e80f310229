// The control messages between a Process and its child, over the control
// connection of `_child.ts`. Headers are JSON frames, so a child whose target
// takes no arguments starts without loading msgpackr (or the connection
// layer); what needs msgpack (args, handles, a thrown error) follows in a
// frame of its own.

import type { ErrorWire } from "../_error_wire.ts";
import type { ArgHandle } from "./_args.ts";

/** Parent → child, once (JSON): what to run. */
export interface RunHeader {
  t: "run";
  /** The Process's name. */
  name: string;
  /** Its identity (`[1, 2]` for "Process-1:2"). */
  identity: number[];
  /** The export to call. */
  target: string;
  /** Whether a {@link RunPayload} frame follows (false: no args). */
  payload: boolean;
}

/** Parent → child, after a {@link RunHeader} with `payload` (msgpack). */
export interface RunPayload {
  /** The msgpack-encoded args, with handle placeholders. */
  args: Uint8Array;
  /** What each placeholder stands for. */
  handles: ArgHandle[];
}

/**
 * Child → parent, once (JSON): the target is about to run, or it cannot;
 * "failed" is followed by a msgpack frame holding the {@link ErrorWire}.
 */
export type StartHeader = { t: "ready" } | { t: "failed" };

/** The frame after a "failed" {@link StartHeader}. */
export type StartFailure = ErrorWire;

/** A JSON frame's bytes. */
export function jsonFrame(value: RunHeader | StartHeader): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** Reads a JSON frame. */
export function parseFrame<T extends RunHeader | StartHeader>(
  bytes: Uint8Array,
): T {
  return JSON.parse(new TextDecoder().decode(bytes)) as T;
}
