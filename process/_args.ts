// Arguments of a child process: msgpack values plus live handles.
//
// - A manager proxy travels as its `_transfer.ts` handle (token, authkey,
//   loan): plain data the child revives into a working proxy, exactly as a
//   proxy posted to a Worker does.
// - A `Connection` (a `Pipe()` end, or any other) cannot move to another
//   process; it stays here and is relayed: the child opens a connection of
//   its own to this process (`Child.aux`) and every message is copied between
//   the two (`relay`). Its end of stream travels both ways.
// - Anything else with a live handle (the sharedmem objects) or a
//   SharedArrayBuffer cannot cross processes: a TypeError naming its path,
//   before anything starts.
//
// In the encoded value, a handle is `{ "\0mproc-arg": i }`: index `i` of
// `handles`, so the whole value is validated (checkSerializable) before any
// handle is taken (a proxy's handle lends a reference on the manager).

import { encodeForPost, TRANSFER } from "../_transfer.ts";
import { checkSerializable } from "../_msgpack.ts";
import { Connection } from "../connection/connection.ts";
import { EOFError } from "../connection/errors.ts";
import { BaseProxy } from "../manager/client/proxy.ts";
import { ARG_MARK, isPlain } from "./_placeholders.ts";

/** One handle of the args, as sent to the child. */
export type ArgHandle =
  | { kind: "relay"; id: number }
  | { kind: "post"; marker: unknown };

/** Args with their handles taken out. */
export interface EncodedArgs {
  /** The args, each handle replaced by a placeholder. */
  args: unknown[];
  /** Connections to relay, by handle index. */
  relays: Map<number, Connection>;
  /** Proxies, by handle index (their transfer handle is taken by `handles()`). */
  proxies: Map<number, BaseProxy>;
  /** Number of handles. */
  count: number;
}

function refuse(path: string, what: string): never {
  throw new TypeError(
    `Cannot pass ${path} to a child process as it is ${what}: shared memory cannot cross processes; share it through a Manager instead`,
  );
}

/**
 * Replaces the live handles in `args` with placeholders (copying only the
 * containers that hold one) and checks that the rest is msgpack data.
 *
 * @throws {TypeError} naming the path of a sharedmem object, a
 * SharedArrayBuffer, or a value msgpack cannot carry.
 */
export function encodeArgs(args: readonly unknown[]): EncodedArgs {
  const out: EncodedArgs = {
    args: [],
    relays: new Map(),
    proxies: new Map(),
    count: 0,
  };
  const seen = new Set<object>();
  const visit = (v: unknown, path: string, depth: number): unknown => {
    if (v === null || typeof v !== "object") return v;
    if (
      typeof SharedArrayBuffer === "function" && v instanceof SharedArrayBuffer
    ) {
      refuse(path, "a SharedArrayBuffer");
    }
    if (ArrayBuffer.isView(v)) {
      if (
        typeof SharedArrayBuffer === "function" &&
        v.buffer instanceof SharedArrayBuffer
      ) {
        refuse(path, "a view of a SharedArrayBuffer");
      }
      return v;
    }
    if (v instanceof Connection) {
      if (v.closed) {
        throw new TypeError(
          `Cannot pass ${path} to a child process as the connection is closed`,
        );
      }
      const i = out.count++;
      out.relays.set(i, v);
      return { [ARG_MARK]: i };
    }
    if (v instanceof BaseProxy) {
      const i = out.count++;
      out.proxies.set(i, v);
      return { [ARG_MARK]: i };
    }
    if (typeof (v as Record<symbol, unknown>)[TRANSFER] === "function") {
      const name = (v as object).constructor?.name ?? "object";
      refuse(path, `a sharedmem ${name}`);
    }
    if (depth > 64 || !isPlain(v) || seen.has(v)) return v;
    seen.add(v);
    let copy: unknown[] | Record<string, unknown> | undefined;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const y = visit(v[i], `${path}[${i}]`, depth + 1);
        if (y !== v[i]) ((copy ??= v.slice()) as unknown[])[i] = y;
      }
    } else {
      const o = v as Record<string, unknown>;
      for (const k in o) {
        const y = visit(o[k], `${path}.${k}`, depth + 1);
        if (y !== o[k]) ((copy ??= { ...o }) as Record<string, unknown>)[k] = y;
      }
    }
    seen.delete(v);
    return copy ?? v;
  };
  out.args = args.map((a, i) => visit(a, `args[${i}]`, 0));
  out.args.forEach((a, i) => checkSerializable(a, `args[${i}]`));
  return out;
}

/** The handles to send, in index order (takes each proxy's transfer handle). */
export function takeHandles(enc: EncodedArgs): ArgHandle[] {
  const handles: ArgHandle[] = [];
  for (let i = 0; i < enc.count; i++) {
    const proxy = enc.proxies.get(i);
    handles.push(
      proxy
        ? { kind: "post", marker: encodeForPost(proxy).value }
        : { kind: "relay", id: i },
    );
  }
  return handles;
}

/**
 * Copies messages between `local` (the end kept here) and `remote` (the
 * child's connection) until either ends; the end of one closes the other.
 * Resolves when everything the child sent has been passed on.
 */
export function relay(local: Connection, remote: Connection): Promise<void> {
  const pump = async (from: Connection, to: Connection): Promise<void> => {
    for (;;) {
      let bytes: Uint8Array;
      try {
        bytes = await from.recvBytes();
      } catch (e) {
        // A write-only end (Pipe(false)) has nothing to pump this way.
        if (e instanceof Deno.errors.NotSupported) return;
        if (!(e instanceof EOFError)) from.close();
        to.close();
        return;
      }
      try {
        await to.sendBytes(bytes);
      } catch {
        from.close();
        to.close();
        return;
      }
    }
  };
  pump(local, remote);
  return pump(remote, local);
}
