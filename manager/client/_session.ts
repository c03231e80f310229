// The client side of one manager connection: requests get ids, go out
// batched (see Outbox), and many may be in flight; replies settle their
// request by id, in whatever order they complete. The first message from
// the server is `hello` with its epoch.

import { errorFromWire, isErrorWire } from "../../_error_wire.ts";
import { BrokenBarrierError, Empty, Full, RemoteError } from "../../errors.ts";
import type { ConnLike } from "../protocol/conn.ts";
import { Outbox } from "../protocol/_outbox.ts";
import { renamePath } from "../protocol/_paths.ts";
import {
  type Hello,
  isObjectRef,
  type ObjectId,
  type ObjectRef,
} from "../protocol/_messages.ts";

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/**
 * Builds the client-side error for an error reply: the queue and barrier
 * errors as themselves, any other as a `RemoteError`.
 */
export function errorOfReply(wire: unknown): Error {
  if (isErrorWire(wire)) {
    switch (wire.name) {
      case "Empty":
        return new Empty(wire.message);
      case "Full":
        return new Full(wire.message);
      case "BrokenBarrierError":
        return new BrokenBarrierError(wire.message);
    }
  }
  return errorFromWire(wire);
}

/** One client connection to a manager server. */
export class Session {
  readonly #conn: ConnLike;
  readonly #outbox: Outbox;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #epoch: string | undefined;
  #hello: Promise<Hello>;
  #helloSettle:
    | { resolve: (h: Hello) => void; reject: (e: unknown) => void }
    | undefined;
  #closedError: Error | undefined;
  #describe: string;
  #reading = false;
  /** Turns a `proxy` reply into a proxy bound to this session (set by proxy.ts). */
  makeProxy: (session: Session, ref: ObjectRef) => unknown = (_s, ref) => ref;
  /** Number of proxies bound to this session that are alive (pooled sessions close at 0). */
  users = 0;
  /** Called once the session is closed. */
  onClose: (() => void) | undefined;
  /** The address the session connected to (carried by tokens and transfers). */
  address: unknown;
  /** The authkey the session authenticated with (carried by transfers). */
  authkey: Uint8Array | undefined;

  /**
   * Wraps an authenticated connection and starts reading.
   *
   * @param conn The connection.
   * @param describe The server's address, for error messages.
   */
  constructor(conn: ConnLike, describe: string, expectEpoch?: string) {
    this.#conn = conn;
    this.#describe = describe;
    this.#hello = new Promise<Hello>((
      resolve,
      reject,
    ) => (this.#helloSettle = { resolve, reject }));
    this.#hello.catch(() => {});
    let sink = (b: Uint8Array) => conn.sendBytes(b);
    if (expectEpoch !== undefined) {
      // Nothing is written before the server proved it is the one the token
      // came from: a restarted server never sees calls meant for the old one.
      let verified = false;
      const gate = this.#hello.then((h) => {
        if (h.epoch !== expectEpoch) {
          const e = new Error(
            `Cannot use the proxy as the manager at ${describe} was restarted: the token is from epoch ${expectEpoch}, the server runs epoch ${h.epoch}`,
          );
          this.#fail(e, e);
          throw e;
        }
        verified = true;
      });
      gate.catch(() => {});
      sink = (b) =>
        verified ? conn.sendBytes(b) : gate.then(() => conn.sendBytes(b));
    }
    this.#outbox = new Outbox(sink, (e) => this.#fail(e));
    this.#pump();
  }

  /** Resolves with the server's hello (its epoch). */
  get hello(): Promise<Hello> {
    return this.#hello;
  }

  /**
   * Takes `epoch` as the server's before its hello arrives (the starter of
   * a server learns it first); a hello with another epoch closes the session.
   */
  assumeEpoch(epoch: string): void {
    this.#epoch ??= epoch;
  }

  /** The server's epoch, once hello has arrived. */
  get epoch(): string | undefined {
    return this.#epoch;
  }

  /** True once closed or failed. */
  get closed(): boolean {
    return this.#closedError !== undefined;
  }

  /**
   * Reads while a reply is awaited (the hello, or a request's). With nothing
   * awaited no read is pending, so an idle connection never keeps the
   * program alive; the next request starts reading again.
   */
  #pump(): void {
    if (this.#reading || this.#closedError) return;
    this.#reading = true;
    this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    try {
      while (this.#pending.size > 0 || this.#helloSettle) {
        const frame = await this.#conn.recv();
        if (!Array.isArray(frame)) continue;
        for (const msg of frame) this.#onMessage(msg);
      }
    } catch (e) {
      this.#reading = false;
      this.#fail(e);
      return;
    }
    this.#reading = false;
  }

  #onMessage(msg: unknown): void {
    if (!Array.isArray(msg)) return;
    const id = msg[0];
    if (id === 0) {
      if (msg[1] === "hello" && this.#helloSettle) {
        const h = msg[2] as Hello;
        if (this.#epoch !== undefined && h.epoch !== this.#epoch) {
          const e = new Error(
            `Cannot use the manager at ${this.#describe} as it runs epoch ${
              String(h.epoch)
            }, not the epoch ${this.#epoch} it announced`,
          );
          return this.#fail(e, e);
        }
        this.#epoch = h.epoch;
        this.#helloSettle.resolve(h);
        this.#helloSettle = undefined;
      }
      return;
    }
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    switch (msg[1]) {
      case "return":
        return p.resolve(msg[2]);
      case "error":
        return p.reject(errorOfReply(msg[2]));
      case "proxy":
        if (isObjectRef(msg[2])) return p.resolve(this.makeProxy(this, msg[2]));
    }
    p.reject(
      new RemoteError({
        name: "ProtocolError",
        message: `The server sent a malformed reply of kind ${String(msg[1])}`,
      }),
    );
  }

  #fail(cause: unknown, error?: Error): void {
    if (this.#closedError) return;
    this.#closedError = error ?? new Error(
      `Cannot complete the request as the connection to the manager at ${this.#describe} is closed`,
      cause === undefined ? undefined : { cause },
    );
    this.#outbox.close();
    this.#conn.close();
    this.#helloSettle?.reject(this.#closedError);
    this.#helloSettle = undefined;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(this.#closedError);
    this.onClose?.();
  }

  /**
   * Sends a request and resolves with its result.
   *
   * @param kind The request kind.
   * @param rest The request's fields after the kind.
   */
  request(kind: string, ...rest: unknown[]): Promise<unknown> {
    return this.#send((id) => [id, kind, ...rest]);
  }

  /**
   * Calls `method` of object `oid`. `refs` lists arg indexes holding object
   * ids to be passed as the referents themselves.
   */
  call(
    oid: ObjectId,
    method: string,
    args: unknown[],
    refs?: number[],
  ): Promise<unknown> {
    return this.#send(
      (id) =>
        refs
          ? [id, "call", oid, method, args, refs]
          : [id, "call", oid, method, args],
      (e) => renamePath(e, 4, "args", `call ${method}()`),
    );
  }

  /**
   * Creates an object of type `typeid`; resolves with its proxy. `refs` as
   * for `call`.
   */
  create(typeid: string, args: unknown[], refs?: number[]): Promise<unknown> {
    return this.#send(
      (id) =>
        refs
          ? [id, "create", typeid, args, refs]
          : [id, "create", typeid, args],
      (e) => renamePath(e, 3, "args", `create a ${typeid}`),
    );
  }

  /** Queues the message `build(id)` under a fresh id; settles with its reply. */
  #send(
    build: (id: number) => unknown[],
    explain?: (e: unknown) => unknown,
  ): Promise<unknown> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    const id = this.#nextId++;
    try {
      this.#outbox.push(build(id));
    } catch (e) {
      return Promise.reject(explain ? explain(e) : e);
    }
    const p = Promise.withResolvers<unknown>();
    this.#pending.set(id, p);
    if (!this.#reading) this.#pump();
    return p.promise;
  }

  /** Sends a request that wants no reply (id 0); silently dropped when closed. */
  notify(kind: string, ...rest: unknown[]): void {
    if (this.#closedError) return;
    try {
      this.#outbox.push([0, kind, ...rest]);
    } catch {
      // Not encodable: nothing to send.
    }
  }

  /** Closes the connection; pending requests reject. Idempotent. */
  close(): void {
    this.#fail(undefined);
  }
}
