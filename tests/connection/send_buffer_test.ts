// Buffered sends (issue 14 §2): a send resolves once its frame is in a
// bounded per-connection buffer; above the high-water mark it waits for the
// buffer to drain; queued frames are coalesced into few writes; close()
// flushes with a grace; a write error is never lost. A scripted stream
// stands in for the socket where the kernel's behaviour must be controlled.

import assert from "node:assert/strict";
import { createConnection } from "../../connection/connection.ts";
import {
  SocketChannel,
  type Stream,
} from "../../connection/_socket_channel.ts";
import { Client, type Connection, Listener } from "../../connection/mod.ts";
import { deadline, pattern, rejection } from "./_helpers.ts";

/** A stream whose writes complete only when the test says so. */
class ScriptedStream implements Stream {
  writes: Uint8Array[] = [];
  #held: { resolve(n: number): void; reject(e: unknown): void; n: number }[] =
    [];
  closed = false;
  read(): Promise<number | null> {
    return new Promise(() => {}); // never any input
  }
  write(p: Uint8Array): Promise<number> {
    this.writes.push(p.slice());
    return new Promise((resolve, reject) =>
      this.#held.push({ resolve, reject, n: p.length })
    );
  }
  /** Completes every held write; returns how many. */
  release(): number {
    const held = this.#held.splice(0);
    for (const h of held) h.resolve(h.n);
    return held.length;
  }
  /** Fails every held write with `e`. */
  fail(e: unknown): void {
    for (const h of this.#held.splice(0)) h.reject(e);
  }
  get heldCount(): number {
    return this.#held.length;
  }
  close(): void {
    this.closed = true;
    this.fail(new Deno.errors.BadResource("closed"));
  }
}

/** "done" if `p` settles before a macrotask turn, else "pending". */
function settledNow(p: Promise<unknown>): Promise<"done" | "pending"> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.then(() => "done" as const, () => "done" as const),
    new Promise<"pending">((r) => timer = setTimeout(() => r("pending"), 0)),
  ]).finally(() => clearTimeout(timer));
}

/** Parses 4-byte-header frames out of the bytes written. */
function framesOf(writes: Uint8Array[]): Uint8Array[] {
  const all = new Uint8Array(writes.reduce((n, w) => n + w.length, 0));
  let at = 0;
  for (const w of writes) {
    all.set(w, at);
    at += w.length;
  }
  const out: Uint8Array[] = [];
  const view = new DataView(all.buffer);
  for (let i = 0; i < all.length;) {
    const n = view.getInt32(i);
    out.push(all.subarray(i + 4, i + 4 + n));
    i += 4 + n;
  }
  return out;
}

function scripted(): { stream: ScriptedStream; conn: Connection } {
  const stream = new ScriptedStream();
  return { stream, conn: createConnection(new SocketChannel(stream)) };
}

const KIB = 1024;
const HIGH_WATER = 1024 * KIB;

Deno.test("send buffer: awaited sends resolve while the buffer is under 1 MiB, then wait for it to drain (bounded memory)", async () => {
  const { stream, conn } = scripted();
  const msg = pattern(KIB);
  let resolved = 0;
  let waiting: Promise<void> | undefined;
  // The kernel takes nothing: sends resolve until the buffer is full.
  for (let i = 0; i < 4096; i++) {
    const p = conn.sendBytes(msg);
    if (await settledNow(p) === "pending") {
      waiting = p;
      break;
    }
    resolved++;
  }
  assert.ok(waiting, "a send waits once the buffer is full");
  const frame = KIB + 4;
  // Every resolved send is buffered, and the buffer is bounded.
  assert.ok(resolved * frame <= HIGH_WATER, `${resolved} frames buffered`);
  assert.ok((resolved + 1) * frame > HIGH_WATER, `${resolved} frames buffered`);
  // Coalesced: a handful of writes carry about a thousand frames.
  assert.ok(stream.writes.length <= 16, `${stream.writes.length} writes`);
  // As the kernel takes the bytes, the waiting send resolves.
  for (let i = 0; i < 64 && (await settledNow(waiting)) === "pending"; i++) {
    stream.release();
  }
  assert.equal(await settledNow(waiting), "done");
  await waiting;
  for (let i = 0; i < 64 && stream.heldCount > 0; i++) {
    stream.release();
    await new Promise((r) => setTimeout(r, 0));
  }
  // Every frame arrived whole and in order.
  const frames = framesOf(stream.writes);
  assert.equal(frames.length, resolved + 1);
  for (const f of frames) assert.deepEqual(f, msg);
  conn.close();
});

Deno.test("send buffer: a resolved small send does not depend on its buffer any more", async () => {
  const { stream, conn } = scripted();
  const buf = new Uint8Array([1, 2, 3]);
  await conn.sendBytes(buf);
  buf.fill(9); // reused by the caller at once
  stream.release();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(framesOf(stream.writes), [new Uint8Array([1, 2, 3])]);
  conn.close();
});

Deno.test("send buffer: a payload over 64 KiB is not copied: its send resolves once written", async () => {
  const { stream, conn } = scripted();
  const big = pattern(100 * KIB);
  const p = conn.sendBytes(big);
  assert.equal(await settledNow(p), "pending");
  for (let i = 0; i < 8 && (await settledNow(p)) === "pending"; i++) {
    stream.release();
  }
  await p;
  assert.deepEqual(framesOf(stream.writes), [big]);
  conn.close();
});

Deno.test("send buffer: a write error rejects the next send, never lost; asyncDispose reports one nobody saw", async () => {
  const reset = new Deno.errors.ConnectionReset("reset by peer");
  {
    const { stream, conn } = scripted();
    await conn.sendBytes(new Uint8Array(8)); // buffered: resolved
    await new Promise((r) => setTimeout(r, 0));
    stream.fail(reset);
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(await rejection(conn.sendBytes(new Uint8Array(1))), reset);
    assert.equal(await rejection(conn.send("x")), reset);
    // Reported already: disposing does not throw it again.
    await conn[Symbol.asyncDispose]();
  }
  {
    const { stream, conn } = scripted();
    await conn.sendBytes(new Uint8Array(8));
    await new Promise((r) => setTimeout(r, 0));
    stream.fail(reset);
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(await rejection(conn[Symbol.asyncDispose]()), reset);
  }
});

Deno.test("send buffer: sends waiting for the drain reject with the write error", async () => {
  const { stream, conn } = scripted();
  const msg = pattern(64 * KIB - 8);
  const sends: Promise<void>[] = [];
  for (let i = 0; i < 40; i++) sends.push(conn.sendBytes(msg));
  const last = sends.at(-1)!;
  assert.equal(await settledNow(last), "pending");
  const reset = new Deno.errors.ConnectionReset("reset by peer");
  stream.fail(reset);
  assert.equal(await rejection(last), reset);
  await Promise.allSettled(sends);
  conn.close();
});

Deno.test("send buffer: close() gives up after its grace on a peer that never reads; asyncDispose says so", async () => {
  const { stream, conn } = scripted();
  await conn.sendBytes(new Uint8Array(16));
  const disposed = conn[Symbol.asyncDispose]();
  const e = await rejection(disposed, 10_000, "dispose after the grace");
  assert.ok(e instanceof Deno.errors.TimedOut, String(e));
  assert.match(e.message, /took nothing for 1000 ms after close\(\)/);
  assert.ok(stream.closed);
});

Deno.test("send buffer: close() right after unawaited sends still delivers them all (real socket)", async () => {
  await using listener = new Listener();
  const [server, client] = await Promise.all([
    listener.accept(),
    Client(listener.address),
  ]);
  const sizes = [0, 1, 16, 70 * KIB, 3, 200 * KIB, 5];
  const rounds = 20;
  // The reader runs alongside: close() waits for the peer to take the bytes.
  const reading = (async () => {
    for (let round = 0; round < rounds; round++) {
      for (const n of sizes) {
        const got = await deadline(server.recvBytes(), 10_000, "a message");
        assert.deepEqual(got, pattern(n, round));
      }
    }
    const end = await rejection(server.recvBytes(), 10_000, "EOF");
    assert.equal((end as Error).name, "EOFError");
  })();
  const sends: Promise<void>[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const n of sizes) sends.push(client.sendBytes(pattern(n, round)));
  }
  try {
    await client[Symbol.asyncDispose]();
    await reading;
    await Promise.all(sends);
  } finally {
    server.close();
  }
});
