// The server's shared objects and who holds them: one table owns every
// reference count. A holder (one client connection, whatever its protocol)
// keeps its own count per object; an object's count is the sum over its
// holders, and it goes when that reaches 0. A `loan` is a reference one
// holder keeps for a proxy in transit until its receiver takes its own.

import type { ObjectId, ObjectRef } from "../protocol/_messages.ts";
import { publicMethods, type TypeSpec } from "../types/registry.ts";

/** One shared object. */
export interface SharedEntry {
  /** The referent. */
  readonly obj: object;
  /** Its registered type. */
  readonly typeid: string;
  /** The methods clients may call. */
  readonly exposed: ReadonlySet<string>;
  /** The same, in order (what proxies are built from). */
  readonly exposedList: string[];
  /** Methods whose results are shared as new objects, by typeid. */
  readonly m2t: Record<string, string> | undefined;
  /** References held on it, by every holder. */
  refs: number;
}

/** Whoever holds references (one client connection). */
export interface Holder {
  /** References this holder has, per object. */
  readonly refs: Map<ObjectId, number>;
  /** Loans this holder made (see {@linkcode ObjectTable.lend}). */
  readonly loans: Set<string>;
}

/** A fresh holder with no references. */
export function newHolder(): Holder {
  return { refs: new Map(), loans: new Set() };
}

/** The shared objects of one server and their reference counts. */
export class ObjectTable {
  #objects = new Map<ObjectId, SharedEntry>();
  #nextId = 1;
  #loans = new Map<string, { holder: Holder; oid: ObjectId }>();

  /** Number of live objects. */
  get size(): number {
    return this.#objects.size;
  }

  /** Every live object, by id. */
  entries(): IterableIterator<[ObjectId, SharedEntry]> {
    return this.#objects.entries();
  }

  /** Adds `obj` as a new shared object of `spec`'s type, held once by `holder`. */
  add(holder: Holder, spec: TypeSpec, obj: object): ObjectRef {
    const exposedList = spec.exposed ?? publicMethods(obj);
    const m2t = spec.methodToTypeid;
    const all = m2t
      ? [...new Set([...exposedList, ...Object.keys(m2t)])]
      : exposedList;
    const oid = this.#nextId++;
    this.#objects.set(oid, {
      obj,
      typeid: spec.typeid,
      exposed: new Set(all),
      exposedList: all,
      m2t,
      refs: 0,
    });
    this.incref(holder, oid);
    return { typeid: spec.typeid, id: oid, exposed: all };
  }

  /**
   * The object `oid`.
   *
   * @throws {ReferenceError} when there is none (released, or another server's id).
   */
  get(oid: unknown): SharedEntry {
    const e = typeof oid === "number" ? this.#objects.get(oid) : undefined;
    if (!e) {
      throw new ReferenceError(
        `Cannot find the shared object with id ${
          String(oid)
        }: it was released, or it belongs to another server or an earlier run of this one`,
      );
    }
    return e;
  }

  /** What a client needs to build a proxy of `oid`. */
  refOf(oid: ObjectId): ObjectRef {
    const e = this.get(oid);
    return { typeid: e.typeid, id: oid, exposed: e.exposedList };
  }

  /**
   * One more reference on `oid`, held by `holder`.
   *
   * @throws {ReferenceError} when there is no such object.
   */
  incref(holder: Holder, oid: unknown): SharedEntry {
    const e = this.get(oid);
    e.refs++;
    const id = oid as ObjectId;
    holder.refs.set(id, (holder.refs.get(id) ?? 0) + 1);
    return e;
  }

  /** Drops one reference `holder` has on `oid`; false when it has none. */
  decref(holder: Holder, oid: unknown): boolean {
    const id = oid as ObjectId;
    const n = typeof oid === "number" ? holder.refs.get(id) : undefined;
    if (n === undefined) return false;
    if (n <= 1) holder.refs.delete(id);
    else holder.refs.set(id, n - 1);
    this.#release(id, 1);
    return true;
  }

  /** `holder` keeps one more reference on `oid` until `loan` is repaid. */
  lend(holder: Holder, oid: unknown, loan: string): void {
    this.incref(holder, oid);
    this.#loans.set(loan, { holder, oid: oid as ObjectId });
    holder.loans.add(loan);
  }

  /** The receiver of `loan` holds its own reference now: the lender's goes. */
  repay(loan: unknown, oid: unknown): void {
    const l = typeof loan === "string" ? this.#loans.get(loan) : undefined;
    if (!l || l.oid !== oid) return;
    this.#loans.delete(loan as string);
    l.holder.loans.delete(loan as string);
    this.decref(l.holder, l.oid);
  }

  /** Drops every reference and loan of `holder` (its client is gone). */
  releaseAll(holder: Holder): void {
    for (const loan of holder.loans) this.#loans.delete(loan);
    holder.loans.clear();
    for (const [oid, n] of holder.refs) this.#release(oid, n);
    holder.refs.clear();
  }

  #release(oid: ObjectId, n: number): void {
    const e = this.#objects.get(oid);
    if (!e) return;
    e.refs -= n;
    if (e.refs <= 0) this.#objects.delete(oid);
  }

  /** Drops every object. */
  clear(): void {
    this.#objects.clear();
    this.#loans.clear();
  }
}
