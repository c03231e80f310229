// Shared helpers for the connection tests (not a test file itself).
//
// Every helper is bounded: anything that waits takes (or has) a deadline, so
// a bug shows up as a failed assertion naming what hung, never as a stuck run.

import {
  type Address,
  Client,
  type Connection,
  Listener,
  type ListenerOptions,
  parseAddress,
} from "../../connection/mod.ts";

/** UTF-8 encoder/decoder shorthands. */
export const enc = new TextEncoder();
/** UTF-8 decoder shorthand. */
export const dec = new TextDecoder();

/**
 * Races `p` against a timer: rejects with an Error naming `what` when `ms`
 * elapse first. The timer is always cleared (sanitizer-safe). Used only as a
 * hang guard: tests never rely on it for synchronisation.
 */
export function deadline<T>(
  p: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`Hang guard: ${what} did not settle within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * Settles `p` and returns its rejection reason; throws when it resolves.
 * Bounded by `ms` (hang guard).
 */
export async function rejection(
  p: Promise<unknown>,
  ms = 5000,
  what = "the operation",
): Promise<unknown> {
  try {
    await deadline(p, ms, what);
  } catch (e) {
    if (e instanceof Error && e.message.startsWith("Hang guard:")) throw e;
    return e;
  }
  throw new Error(`Expected ${what} to reject, but it resolved`);
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A 4-byte big-endian signed length header (CPython `struct.pack("!i", n)`). */
export function header(n: number): Uint8Array {
  const h = new Uint8Array(4);
  new DataView(h.buffer).setInt32(0, n);
  return h;
}

/** The large-form header: `FF FF FF FF` + uint64 big-endian `n`. */
export function longHeader(n: number | bigint): Uint8Array {
  const h = new Uint8Array(12);
  const v = new DataView(h.buffer);
  v.setInt32(0, -1);
  v.setBigUint64(4, BigInt(n));
  return h;
}

/** A whole CPython frame: header + payload (a string is UTF-8 encoded). */
export function frame(payload: Uint8Array | string): Uint8Array {
  const p = typeof payload === "string" ? enc.encode(payload) : payload;
  return concat(header(p.length), p);
}

/** Writes all of `bytes` to a raw Deno connection. */
export async function writeAll(
  conn: Deno.Conn,
  bytes: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/**
 * Reads exactly `n` bytes from a raw Deno connection; `null` on a clean EOF
 * before the first byte; throws on EOF in the middle.
 */
export async function readExactly(
  conn: Deno.Conn,
  n: number,
): Promise<Uint8Array | null> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await conn.read(out.subarray(got));
    if (r === null) {
      if (got === 0) return null;
      throw new Error(`EOF after ${got} of ${n} bytes`);
    }
    got += r;
  }
  return out;
}

/** Reads one CPython frame from a raw Deno connection (`null` at EOF). */
export async function readRawFrame(
  conn: Deno.Conn,
): Promise<Uint8Array | null> {
  const h = await readExactly(conn, 4);
  if (h === null) return null;
  const n = new DataView(h.buffer).getInt32(0);
  if (n < 0) throw new Error(`Raw reader got a negative length ${n}`);
  if (n === 0) return new Uint8Array(0);
  const p = await readExactly(conn, n);
  if (p === null) throw new Error("EOF after a frame header");
  return p;
}

/**
 * Reads from a raw connection until EOF (or error), returning every byte;
 * bounded by `max` bytes to keep a runaway peer from filling memory.
 */
export async function readToEnd(
  conn: Deno.Conn,
  max = 1 << 20,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(64 * 1024);
  while (total < max) {
    let r: number | null;
    try {
      r = await conn.read(buf);
    } catch {
      break;
    }
    if (r === null) break;
    parts.push(buf.slice(0, r));
    total += r;
  }
  return concat(...parts);
}

/** Opens a raw Deno socket to any Address form (TCP or Unix). */
export function rawConnect(address: Address): Promise<Deno.Conn> {
  const a = parseAddress(address);
  return a.family === "AF_UNIX"
    ? Deno.connect({ transport: "unix", path: a.path })
    : Deno.connect({ hostname: a.hostname, port: a.port });
}

/** Closes a raw Deno connection, ignoring "already closed". */
export function closeQuietly(c: { close(): void } | undefined | null): void {
  try {
    c?.close();
  } catch {
    // already closed
  }
}

/** A listener plus one accepted server end and its client end. */
export interface Pair {
  listener: Listener;
  server: Connection;
  client: Connection;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Makes a listener with `options`, connects one Client (with the same
 * authkey unless `clientKey` is given; `null` = no key) and accepts it.
 * Dispose closes all three.
 */
export async function connectedPair(
  options: ListenerOptions = {},
  clientKey?: Uint8Array | string | null,
): Promise<Pair> {
  const listener = new Listener(options);
  const key = clientKey === undefined
    ? options.authkey
    : clientKey ?? undefined;
  try {
    const [server, client] = await deadline(
      Promise.all([
        listener.accept(),
        Client(listener.address, key === undefined ? {} : { authkey: key }),
      ]),
      10_000,
      "connectedPair",
    );
    return {
      listener,
      server,
      client,
      [Symbol.asyncDispose]() {
        client.close();
        server.close();
        listener.close();
        return Promise.resolve();
      },
    };
  } catch (e) {
    listener.close();
    throw e;
  }
}

/**
 * A small seeded PRNG (mulberry32): deterministic sequences for fuzzing.
 * Returns a function giving floats in [0, 1).
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` deterministic pseudo-random bytes. */
export function randomBytes(rand: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 256) | 0;
  return out;
}

/** Bytes 0..n-1 repeating (a recognisable pattern for large messages). */
export function pattern(n: number, seed = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** Hex string of bytes. */
export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Bytes of a hex string. */
export function unhex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

/** An interpreter found for the interop tests. */
export interface Python {
  /** The version asked for, e.g. "3.11.7" (or the real one for the fallback). */
  version: string;
  /** The interpreter's path. */
  exe: string;
}

/**
 * Finds CPython 3.11.7, 3.12.1 and 3.13.0 via `pyenv prefix <v>`; when none
 * of them is there, falls back to `python3` on PATH. Returns `[]` only when
 * no Python is available at all.
 */
export async function findPythons(): Promise<Python[]> {
  const found: Python[] = [];
  for (const v of ["3.11.7", "3.12.1", "3.13.0"]) {
    try {
      const out = await new Deno.Command("pyenv", {
        args: ["prefix", v],
        stdout: "piped",
        stderr: "null",
      }).output();
      if (!out.success) continue;
      const exe = `${dec.decode(out.stdout).trim()}/bin/python3`;
      await Deno.stat(exe);
      found.push({ version: v, exe });
    } catch {
      // pyenv or that version is missing
    }
  }
  if (found.length > 0) return found;
  try {
    const out = await new Deno.Command("python3", {
      args: ["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (out.success) {
      found.push({ version: dec.decode(out.stdout).trim(), exe: "python3" });
    }
  } catch {
    // no python3 either
  }
  return found;
}

/** Where a CPython "child process" body runs: this thread or a Worker. */
export type ChildKind = "thread" | "worker";

/** A running child body (see fixtures/children.ts). */
export interface Child extends Disposable {
  /** Resolves with the body's result (rejects with its error); hang guard 10 s. */
  join(): Promise<unknown>;
}

/**
 * Runs the child body `op` of fixtures/children.ts with `conn` (a Pipe()
 * end) and `args`: in this thread, or in a fresh Worker that receives the
 * end through encodeForPost (the end is unusable here afterwards). Dispose
 * terminates the Worker.
 */
export async function spawnChild(
  kind: ChildKind,
  op: import("./fixtures/children.ts").ChildName,
  conn: Connection,
  ...args: unknown[]
): Promise<Child> {
  if (kind === "thread") {
    const { children } = await import("./fixtures/children.ts");
    const fn = children[op] as (
      c: unknown,
      ...a: unknown[]
    ) => Promise<unknown>;
    const p = fn(conn, ...args);
    p.catch(() => {});
    return {
      join: () => deadline(p, 10_000, `child ${op}`),
      [Symbol.dispose]() {},
    };
  }
  const { encodeForPost } = await import("../../_transfer.ts");
  const worker = new Worker(
    new URL("./fixtures/pipe_worker.ts", import.meta.url),
    {
      type: "module",
    },
  );
  const result = new Promise<unknown>((resolve, reject) => {
    worker.onmessage = (e) => {
      if ("error" in e.data) {
        reject(new Error(`worker ${op} failed: ${e.data.error}`));
      } else resolve(e.data.done);
    };
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(`worker ${op} crashed: ${e.message}`));
    };
  });
  result.catch(() => {});
  try {
    const { value, transfer } = encodeForPost({ op, conn, args });
    worker.postMessage(value, transfer);
  } catch (e) {
    worker.terminate();
    throw e;
  }
  return {
    join: () => deadline(result, 10_000, `worker ${op}`),
    [Symbol.dispose]() {
      worker.terminate();
    },
  };
}

/**
 * Runs a fixture script under tests/connection/fixtures/ as its own `deno run`
 * and waits (at most `ms`) for it to exit on its own; kills it otherwise.
 * Resolves with its exit code and output.
 */
export async function runFixtureToExit(
  name: string,
  args: string[] = [],
  ms = 5000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const fixture = new URL(`./fixtures/${name}`, import.meta.url).pathname;
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", "--config", config, fixture, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  try {
    const status = await deadline(
      child.status,
      ms,
      `${name} ${args.join(" ")} to exit by itself`,
    );
    const [stdout, stderr] = await out;
    return { code: status.code, stdout, stderr };
  } catch (e) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
    await out;
    throw e;
  }
}
