// This package's wire protocol on the server side (protocol/PROTOCOL.md):
// one authenticated connection, frames of msgpack messages in, batched
// replies out. Each message becomes a call on the server core; its result
// (or error) becomes a reply with the request's id.

import { errorToWire, type ErrorWire } from "../../_error_wire.ts";
import { EOFError } from "../../connection/errors.ts";
import { Outbox } from "../protocol/_outbox.ts";
import { renamePath } from "../protocol/_paths.ts";
import type { ConnLike } from "../protocol/conn.ts";
import { type ObjectRef, PROTOCOL_VERSION } from "../protocol/_messages.ts";
import { Caller } from "../types/_caller.ts";
import { Undoable } from "../types/undoable.ts";
import {
  type DoorHost,
  isPromiseLike,
  type Peer,
  type ServerCore,
} from "./_core.ts";
import { type Holder, newHolder } from "./_object_table.ts";

const ERR_NOT_ARRAY: ErrorWire = {
  name: "TypeError",
  message: "Cannot handle the frame as it is not an array of messages",
};

/** One msgpack client connection. */
class MsgpackPeer implements Peer {
  readonly holder: Holder = newHolder();
  readonly caller: Caller = new Caller();
  readonly conn: ConnLike;
  readonly outbox: Outbox;
  constructor(conn: ConnLike) {
    this.conn = conn;
    this.outbox = new Outbox((b) => conn.sendBytes(b), () => conn.close());
  }
  drain(ms: number): Promise<void> {
    return this.outbox.drain(ms);
  }
  close(): void {
    this.outbox.close();
    this.conn.close();
  }
}

/**
 * Serves one authenticated connection until it closes, then drops its
 * client (waits cancelled, references released).
 */
export async function serveMsgpack(
  core: ServerCore,
  host: DoorHost,
  conn: ConnLike,
): Promise<void> {
  const peer = new MsgpackPeer(conn);
  const door = new Door(core, host, peer);
  core.peers.add(peer);
  try {
    peer.outbox.push([0, "hello", {
      epoch: core.epoch,
      version: PROTOCOL_VERSION,
    }]);
    let malformed = 0;
    while (!conn.closed) {
      let frame: unknown;
      try {
        frame = await conn.recv();
      } catch (e) {
        if (
          e instanceof EOFError || conn.closed || !(e instanceof SyntaxError) ||
          ++malformed > 1000
        ) break;
        door.send([0, "error", errorToWire(e)]);
        continue;
      }
      try {
        door.handleFrame(frame);
      } catch (e) {
        // Never expected (each message has its own error path); keep serving.
        door.send([0, "error", errorToWire(e)]);
      }
    }
  } finally {
    core.drop(peer);
  }
}

class Door {
  readonly #core: ServerCore;
  readonly #host: DoorHost;
  readonly #peer: MsgpackPeer;

  constructor(core: ServerCore, host: DoorHost, peer: MsgpackPeer) {
    this.#core = core;
    this.#host = host;
    this.#peer = peer;
  }

  send(msg: unknown, undo?: () => void): void {
    const outbox = this.#peer.outbox;
    try {
      outbox.push(msg, undo);
    } catch (e) {
      // The value cannot be encoded: tell the caller instead.
      undo?.();
      const id = Array.isArray(msg) ? msg[0] : 0;
      const why = renamePath(e, 2, "the result", "send the reply");
      outbox.push([id, "error", errorToWire(why)]);
    }
  }

  #error(id: number, e: unknown): void {
    if (id === 0) return;
    this.send([id, "error", errorToWire(e)]);
  }

  #reply(id: number, value: unknown): void {
    if (id !== 0) this.send([id, "return", value]);
  }

  handleFrame(frame: unknown): void {
    if (!Array.isArray(frame)) {
      this.send([0, "error", ERR_NOT_ARRAY]);
      return;
    }
    for (const msg of frame) {
      if (
        !Array.isArray(msg) || typeof msg[0] !== "number" ||
        !Number.isInteger(msg[0]) || msg[0] < 0 ||
        typeof msg[1] !== "string"
      ) {
        const id = Array.isArray(msg) && Number.isInteger(msg[0]) && msg[0] > 0
          ? msg[0] as number
          : 0;
        this.send([id, "error", {
          name: "TypeError",
          message:
            "Cannot handle the message as it is not [id, kind, ...args] with a non-negative integer id and a string kind",
        }]);
        continue;
      }
      this.#handleMessage(msg as [number, string, ...unknown[]]);
    }
  }

  #handleMessage(msg: [number, string, ...unknown[]]): void {
    const id = msg[0];
    try {
      switch (msg[1]) {
        case "call":
          return this.#call(id, msg[2], msg[3], msg[4], msg[5]);
        case "create":
          return this.#create(id, msg[2], msg[3], msg[4]);
        case "incref":
          return this.#incref(id, msg[2], msg[3], msg[4]);
        case "lend":
          return this.#lend(id, msg[2], msg[3]);
        case "decref":
          return this.#decref(id, msg[2]);
        case "stats":
          return this.#reply(id, this.#host.stats());
        case "ping":
          return this.#reply(id, null);
        case "shutdown":
          this.#reply(id, null);
          void this.#host.close();
          return;
        default:
          throw new TypeError(
            `Cannot handle the message as its kind '${msg[1]}' is unknown`,
          );
      }
    } catch (e) {
      this.#error(id, e);
    }
  }

  #call(
    id: number,
    oid: unknown,
    method: unknown,
    args: unknown,
    refs: unknown,
  ): void {
    if (!Array.isArray(args)) {
      throw new TypeError(
        "Cannot call the method as its args are not an array",
      );
    }
    const core = this.#core;
    const argv = core.resolveRefs(args, refs);
    const { result, toTypeid } = core.call(
      this.#peer.caller,
      oid,
      method,
      argv,
    );
    if (isPromiseLike(result)) {
      result.then(
        (v) => this.#deliver(id, v, toTypeid),
        (e) => this.#error(id, e),
      );
    } else {
      this.#deliver(id, result, toTypeid);
    }
  }

  #deliver(id: number, value: unknown, toTypeid: string | undefined): void {
    const peer = this.#peer;
    if (value instanceof Undoable) {
      if (peer.caller.gone || id === 0) return value.undo();
      return this.send([id, "return", value.value], value.undo);
    }
    if (toTypeid !== undefined) {
      try {
        if (peer.caller.gone) return;
        const ref = this.#core.share(peer.holder, toTypeid, value);
        if (id !== 0) this.send([id, "proxy", ref]);
      } catch (e) {
        this.#error(id, e);
      }
      return;
    }
    this.#reply(id, value);
  }

  #create(id: number, typeid: unknown, args: unknown, refs: unknown): void {
    const core = this.#core;
    const spec = core.spec(typeid);
    if (!Array.isArray(args)) {
      throw new TypeError(
        "Cannot create the object as its args are not an array",
      );
    }
    const argv = core.resolveRefs(args, refs);
    const peer = this.#peer;
    const r = core.create(peer.caller, typeid, argv);
    const finish = (obj: unknown) => {
      if (
        obj === null || typeof obj !== "object" && typeof obj !== "function"
      ) {
        throw new TypeError(
          `Cannot create an object of type '${spec.typeid}' as its callable did not return an object`,
        );
      }
      if (peer.caller.gone) return;
      const ref = core.share(peer.holder, spec.typeid, obj);
      if (id !== 0) this.send([id, "proxy", ref]);
    };
    if (isPromiseLike(r)) {
      Promise.resolve(r).then(finish).catch((e) => this.#error(id, e));
    } else {
      finish(r);
    }
  }

  #lend(id: number, oid: unknown, loan: unknown): void {
    if (typeof loan !== "string") {
      throw new TypeError("Cannot lend a reference without a loan id string");
    }
    this.#core.table.lend(this.#peer.holder, oid, loan);
    this.#reply(id, null);
  }

  #incref(id: number, oid: unknown, epoch: unknown, loan?: unknown): void {
    const core = this.#core;
    core.checkEpoch(epoch);
    core.table.incref(this.#peer.holder, oid);
    // The sender's lent reference goes back now that the receiver holds one.
    core.table.repay(loan, oid);
    this.#reply(id, core.refOf(oid as number) satisfies ObjectRef);
  }

  #decref(id: number, oid: unknown): void {
    if (!this.#core.table.decref(this.#peer.holder, oid)) {
      throw new ReferenceError(
        `Cannot release object ${
          String(oid)
        } as this client holds no reference to it`,
      );
    }
    this.#reply(id, null);
  }
}
