/**
 * `@mproc/multiprocessing`: Python's `multiprocessing` for Deno, in
 * TypeScript — the parts people use to spread work and share state across
 * threads, processes and machines.
 *
 * - **connection**: `Listener`/`Client` over TCP and Unix sockets, message
 *   `Connection`s with CPython's framing and mutual HMAC authentication
 *   (byte-compatible with CPython 3.11–3.13), `Pipe()`, `wait()`.
 * - **pool**: a Worker-based `Pool` with CPython's whole API, in async form,
 *   that never hangs when a worker dies.
 * - **manager**: a server of shared objects (queues, locks, events, barriers,
 *   values, arrays, dicts, lists, namespaces, your own types) with typed async
 *   proxies, local or across machines.
 * - **sharedmem**: `Value`, `Array`, locks, events, barriers and a queue on
 *   `SharedArrayBuffer` + `Atomics`, between the main thread and Workers.
 * - **pickle**: a safe pickle codec (`dumps`/`loads`, protocols 2–5) for
 *   talking objects with CPython; it executes nothing it reads.
 * - **process**: CPython's `Process` (spawn): a function of a module in a
 *   fresh `deno run` child with real permission flags and a heap cap.
 *
 * ```ts
 * import * as mp from "@mproc/multiprocessing";
 *
 * const [a, b] = mp.Pipe();
 * await a.send({ hello: "world" });
 * console.assert((await b.recv<{ hello: string }>()).hello === "world");
 * a.close();
 * b.close();
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export * from "./connection/mod.ts";
export * from "./pool/mod.ts";
export * from "./manager/mod.ts";
export * from "./sharedmem/mod.ts";
export * from "./pickle/mod.ts";
export * from "./process/mod.ts";
// Both the pool and the manager name their "any function" type AnyFn.
export type { AnyFn } from "./pool/mod.ts";
