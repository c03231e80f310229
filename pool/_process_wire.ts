// How pool messages cross a process boundary: V8 serialization (the
// serializer under structured clone, so a process worker gets the same
// values a thread worker would: Maps, Sets, typed arrays, Dates, Errors,
// bigints…) in CPython's framing. What cannot leave a process — a
// MessagePort (a Pipe() end), a SharedArrayBuffer (sharedmem) — is a
// DataCloneError, as postMessage would throw for an uncloneable value.
// Loaded lazily by both sides (node:v8 costs ~15 ms to load).

import { deserialize, serialize } from "node:v8";

function portError(): DOMException {
  return new DOMException(
    "Cannot send a Pipe() end (a MessagePort) to or from a worker process: pass a manager proxy or a Listener address instead",
    "DataCloneError",
  );
}

function findPort(v: unknown, depth: number, seen: Set<object>): boolean {
  if (v === null || typeof v !== "object" || depth > 64 || seen.has(v)) {
    return false;
  }
  if (typeof MessagePort === "function" && v instanceof MessagePort) {
    return true;
  }
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return false;
  seen.add(v);
  const items = v instanceof Map
    ? [...v.keys(), ...v.values()]
    : v instanceof Set
    ? [...v]
    : Object.values(v);
  return items.some((x) => findPort(x, depth + 1, seen));
}

/** Throws a DataCloneError for what cannot leave this process (ports, shared memory). */
export function checkCrossable(value: unknown, transfer: Transferable[]): void {
  for (const t of transfer) {
    if (typeof MessagePort === "function" && t instanceof MessagePort) {
      throw portError();
    }
  }
  if (findPort(value, 0, new Set())) throw portError();
  try {
    serialize(value);
  } catch (e) {
    throw new DOMException(
      `Cannot send the value to or from a worker process: ${
        (e as Error).message
      }` +
        " (shared memory and ports cannot cross processes)",
      "DataCloneError",
    );
  }
}

/** V8-serializes a message for the other side (throws a DataCloneError). */
export function pack(msg: unknown, transfer: Transferable[]): Uint8Array {
  for (const t of transfer) {
    if (typeof MessagePort === "function" && t instanceof MessagePort) {
      checkCrossable(msg, transfer);
    }
  }
  try {
    return serialize(msg);
  } catch {
    checkCrossable(msg, transfer);
    throw new DOMException("Cannot send the value", "DataCloneError");
  }
}

/** Reads a message packed by {@link pack}. */
export function unpack(bytes: Uint8Array): unknown {
  return deserialize(bytes);
}
