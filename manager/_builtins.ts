// SyncManager's types (CPython's `SyncManager._registry`, camelCased), served
// by every manager started with `start()` and by `SyncManager.serve()`.

import { makeSpec, type TypeSpec } from "./_registry.ts";
import { SharedArray } from "./_types/array.ts";
import { SharedBarrier } from "./_types/barrier.ts";
import { SharedCondition } from "./_types/condition.ts";
import { SharedDict } from "./_types/dict.ts";
import { SharedEvent } from "./_types/event.ts";
import { SharedList } from "./_types/list.ts";
import { SharedLock } from "./_types/lock.ts";
import { SharedNamespace } from "./_types/namespace.ts";
import { SharedQueue } from "./_types/queue.ts";
import { SharedRLock } from "./_types/rlock.ts";
import { SharedBoundedSemaphore, SharedSemaphore } from "./_types/semaphore.ts";
import { SharedValue } from "./_types/value.ts";

const QUEUE = [
  "put",
  "get",
  "putNowait",
  "getNowait",
  "qsize",
  "empty",
  "full",
  "taskDone",
  "join",
];
const ACQUIRER = ["acquire", "release"];

/** The built-in types, by typeid. */
export const BUILTIN_SPECS: ReadonlyMap<string, TypeSpec> = new Map<
  string,
  TypeSpec
>(
  [
    makeSpec("Queue", (maxsize?: number) => new SharedQueue(maxsize), {
      exposed: QUEUE,
    }),
    makeSpec("JoinableQueue", (maxsize?: number) => new SharedQueue(maxsize), {
      exposed: QUEUE,
    }),
    makeSpec("Event", () => new SharedEvent(), {
      exposed: ["set", "clear", "isSet", "wait"],
    }),
    makeSpec("Lock", () => new SharedLock(), { exposed: ACQUIRER }),
    makeSpec("RLock", () => new SharedRLock(), { exposed: ACQUIRER }),
    makeSpec("Semaphore", (n?: number) => new SharedSemaphore(n), {
      exposed: [...ACQUIRER, "getValue"],
    }),
    makeSpec(
      "BoundedSemaphore",
      (n?: number) => new SharedBoundedSemaphore(n),
      { exposed: [...ACQUIRER, "getValue"] },
    ),
    makeSpec(
      "Condition",
      (lock?: SharedLock | SharedRLock | null) => new SharedCondition(lock),
      { exposed: [...ACQUIRER, "wait", "notify", "notifyAll"] },
    ),
    makeSpec(
      "Barrier",
      (parties: number, opts?: { timeout?: number }) =>
        new SharedBarrier(parties, opts),
      { exposed: ["wait", "reset", "abort", "parties", "nWaiting", "broken"] },
    ),
    makeSpec(
      "Value",
      (typecode: string, value: unknown) => new SharedValue(typecode, value),
      { exposed: ["get", "set"] },
    ),
    makeSpec(
      "Array",
      (typecode: string, seq: unknown[] | number) =>
        new SharedArray(typecode, seq),
      { exposed: ["get", "set", "length", "toArray"] },
    ),
    makeSpec(
      "dict",
      (init?: Record<string, unknown> | [unknown, unknown][] | null) =>
        new SharedDict(init),
      {
        exposed: [
          "get",
          "set",
          "delete",
          "has",
          "size",
          "keys",
          "values",
          "items",
          "update",
          "pop",
          "popitem",
          "setdefault",
          "clear",
          "toObject",
        ],
      },
    ),
    makeSpec("list", (init?: unknown[] | null) => new SharedList(init), {
      exposed: [
        "length",
        "get",
        "set",
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "index",
        "count",
        "reverse",
        "sort",
        "slice",
        "toArray",
      ],
    }),
    makeSpec(
      "Namespace",
      (init?: Record<string, unknown> | null) => new SharedNamespace(init),
      {
        exposed: ["get", "set", "delete", "toObject"],
      },
    ),
  ].map((s) => [s.typeid, s]),
);
