// The manager wire protocol (documented in PROTOCOL.md). Every frame is one
// msgpack array of messages; every message is a tuple whose second element
// names its kind. Requests carry a client-chosen id (> 0, or 0 for "no reply
// wanted"); replies carry the id of their request, so many requests can be
// in flight on one connection and replies arrive in completion order.

import type { ErrorWire } from "../../_error_wire.ts";

/** Protocol version announced in `hello`. */
export const PROTOCOL_VERSION = 1;

/** A shared object's id on its server (unique per server epoch). */
export type ObjectId = number;

/** What the server says about a shared object it created or handed out. */
export interface ObjectRef {
  /** The registered type. */
  typeid: string;
  /** The object's id. */
  id: ObjectId;
  /** The method names a client may call. */
  exposed: string[];
}

/** The first message of the server on every connection. */
export interface Hello {
  /** Random per server start: a restarted server has another epoch. */
  epoch: string;
  /** `PROTOCOL_VERSION` of the server. */
  version: number;
}

/** Client → server: call a method of a shared object. `refs` lists arg indexes holding object ids to pass as referents. */
export type CallRequest = [
  id: number,
  kind: "call",
  oid: ObjectId,
  method: string,
  args: unknown[],
  refs?: number[],
];
/** Client → server: create a shared object of a registered type (the caller holds one reference). */
export type CreateRequest = [
  id: number,
  kind: "create",
  typeid: string,
  args: unknown[],
  refs?: number[],
];
/**
 * Client → server: take one more reference (for a proxy rebuilt from a
 * token); the epoch must match. With `loan`, the reference lent by the
 * sender of a transferred proxy (see `LendRequest`) is returned.
 */
export type IncrefRequest = [
  id: number,
  kind: "incref",
  oid: ObjectId,
  epoch: string,
  loan?: string,
];
/**
 * Client → server: hold one more reference on behalf of a proxy in transit
 * (posted to a Worker or a Pool task) until its receiver's `incref` names
 * `loan`, or this connection closes.
 */
export type LendRequest = [
  id: number,
  kind: "lend",
  oid: ObjectId,
  loan: string,
];
/** Client → server: drop one reference held by this connection. */
export type DecrefRequest = [id: number, kind: "decref", oid: ObjectId];
/** Client → server: server statistics. */
export type StatsRequest = [id: number, kind: "stats"];
/** Client → server: no-op round trip. */
export type PingRequest = [id: number, kind: "ping"];
/** Client → server: stop the server (after replying). */
export type ShutdownRequest = [id: number, kind: "shutdown"];

/** Every client → server message. */
export type Request =
  | CallRequest
  | CreateRequest
  | IncrefRequest
  | LendRequest
  | DecrefRequest
  | StatsRequest
  | PingRequest
  | ShutdownRequest;

/** Server → client: the request succeeded with `value`. */
export type ReturnReply = [id: number, kind: "return", value: unknown];
/** Server → client: the request failed (id 0: a frame that could not be attributed). */
export type ErrorReply = [id: number, kind: "error", error: ErrorWire];
/** Server → client: the request returned a shared object (created, or by `methodToTypeid`); the caller holds one reference. */
export type ProxyReply = [id: number, kind: "proxy", ref: ObjectRef];
/** Server → client: first message on every connection. */
export type HelloReply = [id: 0, kind: "hello", hello: Hello];

/** Every server → client message. */
export type Reply = ReturnReply | ErrorReply | ProxyReply | HelloReply;

/** Checks the shape of an `ObjectRef` received from the wire. */
export function isObjectRef(v: unknown): v is ObjectRef {
  return typeof v === "object" && v !== null &&
    typeof (v as ObjectRef).typeid === "string" &&
    typeof (v as ObjectRef).id === "number" &&
    Array.isArray((v as ObjectRef).exposed);
}
