// SyncManager's types (CPython's `SyncManager._registry`, camelCased), served
// by every manager started with `start()` and by `SyncManager.serve()`.

import { BUILTIN_API } from "./_exposed.ts";
import { allRegistrations, makeSpec, type TypeSpec } from "./registry.ts";
import { SharedArray } from "./array.ts";
import { SharedBarrier } from "./barrier.ts";
import { SharedCondition } from "./condition.ts";
import { SharedDict } from "./dict.ts";
import { SharedEvent } from "./event.ts";
import { SharedList } from "./list.ts";
import { SharedLock } from "./lock.ts";
import { SharedNamespace } from "./namespace.ts";
import { SharedQueue } from "./queue.ts";
import { SharedRLock } from "./rlock.ts";
import { SharedBoundedSemaphore, SharedSemaphore } from "./semaphore.ts";
import { SharedValue } from "./value.ts";

/** The exposed methods of a built-in type. */
function exposed(typeid: string): string[] {
  return [...BUILTIN_API.get(typeid)!.exposed];
}

/** The built-in types, by typeid. */
export const BUILTIN_SPECS: ReadonlyMap<string, TypeSpec> = new Map<
  string,
  TypeSpec
>(
  [
    makeSpec("Queue", (maxsize?: number) => new SharedQueue(maxsize), {
      exposed: exposed("Queue"),
    }),
    makeSpec("JoinableQueue", (maxsize?: number) => new SharedQueue(maxsize), {
      exposed: exposed("JoinableQueue"),
    }),
    makeSpec("Event", () => new SharedEvent(), { exposed: exposed("Event") }),
    makeSpec("Lock", () => new SharedLock(), { exposed: exposed("Lock") }),
    makeSpec("RLock", () => new SharedRLock(), { exposed: exposed("RLock") }),
    makeSpec("Semaphore", (n?: number) => new SharedSemaphore(n), {
      exposed: exposed("Semaphore"),
    }),
    makeSpec(
      "BoundedSemaphore",
      (n?: number) => new SharedBoundedSemaphore(n),
      { exposed: exposed("BoundedSemaphore") },
    ),
    makeSpec(
      "Condition",
      (lock?: SharedLock | SharedRLock | null) => new SharedCondition(lock),
      { exposed: exposed("Condition") },
    ),
    makeSpec(
      "Barrier",
      (parties: number, opts?: { timeout?: number }) =>
        new SharedBarrier(parties, opts),
      { exposed: exposed("Barrier") },
    ),
    makeSpec(
      "Value",
      (typecode: string, value: unknown) => new SharedValue(typecode, value),
      { exposed: exposed("Value") },
    ),
    makeSpec(
      "Array",
      (typecode: string, seq: unknown[] | number) =>
        new SharedArray(typecode, seq),
      { exposed: exposed("Array") },
    ),
    makeSpec(
      "dict",
      (init?: Record<string, unknown> | [unknown, unknown][] | null) =>
        new SharedDict(init),
      { exposed: exposed("dict") },
    ),
    makeSpec("list", (init?: unknown[] | null) => new SharedList(init), {
      exposed: exposed("list"),
    }),
    makeSpec(
      "Namespace",
      (init?: Record<string, unknown> | null) => new SharedNamespace(init),
      { exposed: exposed("Namespace") },
    ),
  ].map((s) => [s.typeid, s]),
);

/**
 * What a server started in this thread serves: SyncManager's types plus
 * every type registered here so far (`start({ module })`'s Worker and the
 * CLI call this after importing the module that registers them).
 */
export function servedTypes(): Map<string, TypeSpec> {
  const registry = new Map<string, TypeSpec>(BUILTIN_SPECS);
  for (const [k, v] of allRegistrations) registry.set(k, v);
  return registry;
}
