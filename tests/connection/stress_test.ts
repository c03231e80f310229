// A short, bounded concurrency test: many authenticated clients on one TCP
// and one Unix listener, all echoing seeded random messages at once
// (pipelined sends, interleaved bytes and objects). Every byte must come back
// in order on the right connection.

import assert from "node:assert/strict";
import { Client, type Connection, Listener } from "../../connection/mod.ts";
import { deadline, pattern, prng } from "./_helpers.ts";

const CLIENTS_PER_LISTENER = 16;
const MESSAGES = 120;

async function echoServer(conn: Connection): Promise<number> {
  let n = 0;
  try {
    for (let i = 0; i < MESSAGES * 2 + 1; i++) {
      if (i % 2) {
        await conn.send(await conn.recv());
      } else {
        await conn.sendBytes(await conn.recvBytes());
      }
      n++;
    }
  } catch {
    // EOF at the end
  }
  return n;
}

async function client(conn: Connection, seed: number): Promise<void> {
  const rand = prng(seed);
  const sent: unknown[] = [];
  // Pipelined: all sends are issued before the first reply is read.
  const sends: Promise<void>[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const size = rand() < 0.9
      ? Math.floor(rand() * 600)
      : 70_000 + Math.floor(rand() * 60_000);
    const bytes = pattern(size, seed + i);
    const obj = { seed, i, tail: bytes.subarray(0, 8) };
    sends.push(conn.sendBytes(bytes), conn.send(obj));
    sent.push(bytes, { ...obj, tail: obj.tail.slice() });
  }
  for (let i = 0; i < sent.length; i++) {
    const got = i % 2 ? await conn.recv() : await conn.recvBytes();
    assert.deepEqual(got, sent[i], `seed ${seed} message ${i}`);
  }
  await Promise.all(sends);
}

Deno.test("stress: 32 authenticated clients echo pipelined random messages concurrently (TCP + Unix)", async () => {
  const listeners = [
    new Listener({ authkey: "stress" }),
    new Listener({ authkey: "stress", family: "AF_UNIX" }),
  ];
  const conns: Connection[] = [];
  try {
    const servers: Promise<number>[] = [];
    const clients: Promise<void>[] = [];
    for (const [li, l] of listeners.entries()) {
      for (let k = 0; k < CLIENTS_PER_LISTENER; k++) {
        const [s, c] = await Promise.all([
          l.accept(),
          Client(l.address, { authkey: "stress" }),
        ]);
        conns.push(s, c);
        servers.push(echoServer(s));
        clients.push(client(c, li * 1000 + k * 7 + 1));
      }
    }
    await deadline(Promise.all(clients), 30_000, "all clients");
    for (let i = 1; i < conns.length; i += 2) conns[i]!.close();
    const echoed = await deadline(
      Promise.all(servers),
      5000,
      "servers see EOF",
    );
    for (const n of echoed) assert.equal(n, MESSAGES * 2);
  } finally {
    for (const c of conns) c.close();
    for (const l of listeners) l.close();
  }
});
