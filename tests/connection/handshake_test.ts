// The handshake's shape on the wire (issue 14 §3): between two of ours it
// takes four messages in four writes — the client's challenge rides behind
// its answer, the server's #WELCOME# and its answer share one write — where
// CPython's takes six. Interop with CPython 3.11–3.13 servers and clients
// (which send and expect the six-message order) is in interop_test.ts.

import assert from "node:assert/strict";
import { createConnection } from "../../connection/connection.ts";
import {
  SocketChannel,
  type Stream,
} from "../../connection/_socket_channel.ts";
import {
  clientHandshake,
  serverHandshake,
} from "../../connection/_handshake.ts";
import { createResponse } from "../../connection/_auth.ts";
import { AuthenticationError } from "../../connection/mod.ts";
import { concat, dec, enc, frame, rejection } from "./_helpers.ts";

/** One direction of an in-memory duplex: what one end writes, the other reads. */
class Pipe1 {
  queue: Uint8Array[] = [];
  waiting: ((b: Uint8Array | null) => void) | null = null;
  ended = false;
  push(b: Uint8Array | null): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w(b);
    } else if (b) this.queue.push(b);
    else this.ended = true;
  }
  take(): Promise<Uint8Array | null> {
    const b = this.queue.shift();
    if (b) return Promise.resolve(b);
    if (this.ended) return Promise.resolve(null);
    return new Promise((r) => this.waiting = r);
  }
}

/** An end of the in-memory duplex that records every write call. */
class End implements Stream {
  writes: Uint8Array[] = [];
  #pending: Uint8Array | null = null;
  constructor(private inbox: Pipe1, private outbox: Pipe1) {}
  async read(p: Uint8Array): Promise<number | null> {
    const b = this.#pending ?? await this.inbox.take();
    this.#pending = null;
    if (b === null) return null;
    const n = Math.min(p.length, b.length);
    p.set(b.subarray(0, n));
    if (n < b.length) this.#pending = b.subarray(n);
    return n;
  }
  write(p: Uint8Array): Promise<number> {
    const copy = p.slice();
    this.writes.push(copy);
    this.outbox.push(copy);
    return Promise.resolve(p.length);
  }
  close(): void {
    this.outbox.push(null);
    this.inbox.push(null);
  }
}

function duplex(): [End, End] {
  const ab = new Pipe1();
  const ba = new Pipe1();
  return [new End(ba, ab), new End(ab, ba)];
}

/** The frames in one write, as text (binary bytes shown as '.'). */
function framesIn(write: Uint8Array): string[] {
  const out: string[] = [];
  const v = new DataView(write.buffer, write.byteOffset, write.byteLength);
  for (let i = 0; i < write.length;) {
    const n = v.getInt32(i);
    const s = dec.decode(write.subarray(i + 4, i + 4 + n));
    out.push(s.startsWith("#") ? s.slice(0, 11) : s.slice(0, 8));
    i += 4 + n;
  }
  return out;
}

const KEY = enc.encode("handshake-key");

Deno.test("handshake: four messages in four writes — answer+challenge, then #WELCOME#+answer", async () => {
  const [s, c] = duplex();
  const [sRest, cRest] = await Promise.all([
    serverHandshake(s, KEY),
    clientHandshake(c, KEY, () => {}),
  ]);
  const server = createConnection(new SocketChannel(s, sRest));
  const client = createConnection(new SocketChannel(c, cRest));
  try {
    assert.deepEqual(s.writes.map(framesIn), [
      ["#CHALLENGE#"],
      ["#WELCOME#", "{sha256}"],
    ]);
    assert.deepEqual(c.writes.map(framesIn), [
      ["{sha256}", "#CHALLENGE#"],
      ["#WELCOME#"],
    ]);
    // Both ends are usable afterwards, in sync.
    await client.sendBytes(enc.encode("after"));
    assert.equal(dec.decode(await server.recvBytes()), "after");
    await server.sendBytes(enc.encode("back"));
    assert.equal(dec.decode(await client.recvBytes()), "back");
  } finally {
    server.close();
    client.close();
  }
});

Deno.test("handshake: a message that arrives in the same read as the client's #WELCOME# is not lost", async () => {
  const [s, c] = duplex();
  const serving = serverHandshake(s, KEY);
  const read = async () => {
    const b = new Uint8Array(1024);
    const n = await c.read(b);
    return b.subarray(0, n ?? 0);
  };
  // A scripted client: answer + own challenge, then #WELCOME# and a first
  // message in one write.
  const challenge = (await read()).subarray(4 + 11);
  const own = concat(enc.encode("{sha256}"), new Uint8Array(40).fill(7));
  await c.write(concat(
    frame(createResponse(KEY, challenge)),
    frame(concat(enc.encode("#CHALLENGE#"), own)),
  ));
  assert.deepEqual(framesIn(await read()), ["#WELCOME#", "{sha256}"]);
  await c.write(concat(frame("#WELCOME#"), frame("first"), frame("second")));
  const server = createConnection(new SocketChannel(s, await serving));
  try {
    assert.equal(dec.decode(await server.recvBytes()), "first");
    assert.equal(dec.decode(await server.recvBytes()), "second");
  } finally {
    server.close();
    c.close();
  }
});

Deno.test("handshake: a wrong key still fails both sides with AuthenticationError", async () => {
  const [s, c] = duplex();
  try {
    const [se, ce] = await Promise.all([
      rejection(serverHandshake(s, KEY)),
      rejection(clientHandshake(c, enc.encode("wrong"), () => {})),
    ]);
    assert.ok(se instanceof AuthenticationError, String(se));
    assert.ok(ce instanceof AuthenticationError, String(ce));
    assert.match(se.message, /digest received was wrong/);
    assert.match(ce.message, /digest sent was rejected/);
  } finally {
    s.close();
    c.close();
  }
});

Deno.test("handshake: a frame header over 256 bytes fails before its payload is read", async () => {
  const [s, c] = duplex();
  try {
    const serving = rejection(serverHandshake(s, KEY));
    await c.write(new Uint8Array([0, 0, 1, 1])); // 257 bytes announced
    const e = await serving;
    assert.ok(e instanceof AuthenticationError, String(e));
    assert.match(e.message, /257 bytes: the limit is 256 bytes/);
  } finally {
    s.close();
    c.close();
  }
});
