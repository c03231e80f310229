// A bounded, seeded fuzz test: ≥10k random byte strings, plus random
// valid-then-broken frame sequences, thrown over many raw sockets at a
// keyless TCP listener and at a keyed Unix listener. No crash, only typed
// errors on the fuzzed connections, no leaked file descriptor, and a
// well-behaved client on each listener keeps working throughout.

import assert from "node:assert/strict";
import {
  AuthenticationError,
  Client,
  type Connection,
  EOFError,
  Listener,
  ProtocolError,
} from "../../connection/mod.ts";
import {
  closeQuietly,
  concat,
  deadline,
  frame,
  header,
  longHeader,
  prng,
  randomBytes,
  rawConnect,
  readRawFrame,
  writeAll,
} from "./_helpers.ts";

const SEED = 0x5eed_2026;
const CONNECTIONS_PER_LISTENER = 2000;
const STRINGS_PER_CONNECTION = 4; // 2 listeners × 2000 × 4 = 16,000 strings
const BROKEN_PER_LISTENER = 1000;
const BATCH = 50;

function openFds(): number {
  let n = 0;
  for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
  return n;
}

/** One random byte string: mostly short, sometimes with a plausible header. */
function randomString(rand: () => number): Uint8Array {
  const kind = rand();
  const len = Math.floor(rand() * (rand() < 0.1 ? 2000 : 64));
  const body = randomBytes(rand, len);
  if (kind < 0.2) return concat(header(Math.floor(rand() * 300)), body);
  if (kind < 0.25) return concat(header(-(1 + Math.floor(rand() * 1e6))), body);
  if (kind < 0.3) return concat(longHeader(Math.floor(rand() * 2 ** 52)), body);
  if (kind < 0.32) {
    return concat(new Uint8Array([0xff, 0xff, 0xff, 0xff]), body);
  }
  return body;
}

/** Valid frames (some msgpack, some not), then a broken tail. */
function validThenBroken(rand: () => number, keyed: boolean): Uint8Array {
  const parts: Uint8Array[] = [];
  const n = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (keyed && r < 0.5) {
      // Something shaped like a handshake reply.
      parts.push(
        frame(
          concat(new TextEncoder().encode("{sha256}"), randomBytes(rand, 32)),
        ),
      );
    } else if (r < 0.7) {
      parts.push(frame(new Uint8Array([0x92, 0x01, 0xa1, 0x61]))); // msgpack [1, "a"]
    } else {
      parts.push(frame(randomBytes(rand, Math.floor(rand() * 200))));
    }
  }
  const tail = rand();
  if (tail < 0.25) {
    const len = 10 + Math.floor(rand() * 1000);
    parts.push(header(len), randomBytes(rand, Math.floor(rand() * len)));
  } else if (tail < 0.45) parts.push(header(-2 - Math.floor(rand() * 100)));
  else if (tail < 0.6) parts.push(header(0x7fffffff));
  else if (tail < 0.7) {
    parts.push(frame(randomBytes(rand, 257 + Math.floor(rand() * 500))));
  } else if (tail < 0.8) parts.push(new Uint8Array([0, 0, 1]));
  else if (tail < 0.9) parts.push(frame(new Uint8Array([0xc1])));
  else parts.push(randomBytes(rand, Math.floor(rand() * 50)));
  return concat(...parts);
}

/**
 * A raw peer: connect, (for a keyed listener, half the time read the
 * challenge first, so the bytes land in the handshake proper), write, close.
 * Write errors (the server dropped us) are fine.
 */
async function hit(
  address: Parameters<typeof rawConnect>[0],
  bytes: Uint8Array[],
  readChallenge: boolean,
): Promise<void> {
  const raw = await rawConnect(address);
  try {
    if (readChallenge) {
      const ch = await deadline(readRawFrame(raw), 5000, "challenge");
      assert.equal(ch?.length, 59);
    }
    for (const b of bytes) if (b.length) await writeAll(raw, b);
  } catch {
    // the server may already have dropped us
  } finally {
    closeQuietly(raw);
  }
}

/** Ping-pong on a good pair; fails the test if anything is off. */
async function goodRoundTrip(
  client: Connection,
  server: Connection,
  i: number,
): Promise<void> {
  const reply = deadline(
    (async () => {
      const v = await server.recv<{ i: number }>();
      await server.send({ back: v.i });
    })(),
    5000,
    "good server side",
  );
  await client.send({ i });
  assert.deepEqual(await deadline(client.recv(), 5000, "good client"), {
    back: i,
  });
  await reply;
}

Deno.test({
  name:
    "fuzz: ≥10k random strings and valid-then-broken frames; typed errors only, no leaks, good clients unaffected",
  async fn() {
    const rand = prng(SEED);
    const fdsBefore = openFds();
    const keyless = new Listener();
    const keyed = new Listener({
      family: "AF_UNIX",
      authkey: "fuzz-key",
      handshakeTimeout: 5000,
    });
    const unexpected: string[] = [];
    const handlers = new Set<Promise<void>>();
    let accepted = 0;
    let authFailures = 0;
    let strings = 0;

    const [goodS1, goodC1] = await Promise.all([
      keyless.accept(),
      Client(keyless.address),
    ]);
    const [goodS2, goodC2] = await Promise.all([
      keyed.accept(),
      Client(keyed.address, { authkey: "fuzz-key" }),
    ]);

    // Drain every fuzzed keyless connection; only typed errors are allowed.
    const drain = async (conn: Connection) => {
      try {
        for (let i = 0; i < 64; i++) {
          try {
            if (i % 2) await conn.recv();
            else await conn.recvBytes();
          } catch (e) {
            if (e instanceof SyntaxError) continue; // bad msgpack: frame consumed
            if (
              !(e instanceof EOFError || e instanceof ProtocolError ||
                e instanceof RangeError)
            ) {
              unexpected.push(`keyless recv: ${e}`);
            }
            return;
          }
        }
      } finally {
        conn.close();
      }
    };
    const keylessLoop = (async () => {
      while (true) {
        let conn: Connection;
        try {
          conn = await keyless.accept();
        } catch (e) {
          if (!(e instanceof Deno.errors.BadResource)) {
            unexpected.push(`keyless accept: ${e}`);
          }
          return;
        }
        accepted++;
        const h = drain(conn).finally(() => handlers.delete(h));
        handlers.add(h);
      }
    })();
    const keyedLoop = (async () => {
      while (true) {
        try {
          const conn = await keyed.accept();
          unexpected.push("a fuzzed peer passed the handshake");
          conn.close();
        } catch (e) {
          if (e instanceof AuthenticationError) authFailures++;
          else if (e instanceof Deno.errors.BadResource) return;
          else unexpected.push(`keyed accept: ${e}`);
        }
      }
    })();

    try {
      const jobs: (() => Promise<void>)[] = [];
      for (const [l, keyedL] of [[keyless, false], [keyed, true]] as const) {
        for (let i = 0; i < CONNECTIONS_PER_LISTENER; i++) {
          const bytes = Array.from(
            { length: STRINGS_PER_CONNECTION },
            () => randomString(rand),
          );
          strings += bytes.length;
          const read = keyedL && rand() < 0.5;
          jobs.push(() => hit(l.address, bytes, read));
        }
        for (let i = 0; i < BROKEN_PER_LISTENER; i++) {
          const bytes = [validThenBroken(rand, keyedL)];
          const read = keyedL && rand() < 0.8;
          jobs.push(() => hit(l.address, bytes, read));
        }
      }
      assert.ok(strings >= 10_000);
      // Deterministic shuffle so both listeners are hit in the same batches.
      for (let i = jobs.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [jobs[i], jobs[j]] = [jobs[j]!, jobs[i]!];
      }
      for (let b = 0; b < jobs.length; b += BATCH) {
        await deadline(
          Promise.all(jobs.slice(b, b + BATCH).map((j) => j())),
          10_000,
          `fuzz batch ${b / BATCH}`,
        );
        if ((b / BATCH) % 10 === 0) {
          await goodRoundTrip(goodC1, goodS1, b);
          await goodRoundTrip(goodC2, goodS2, b);
        }
      }
      const keyedJobs = CONNECTIONS_PER_LISTENER + BROKEN_PER_LISTENER;
      const keylessJobs = keyedJobs;
      // Barrier: every fuzzed socket is released on the server side once its
      // handshake failed (keyed) or it was drained (keyless). What stays open
      // is the two listeners and the four good connections.
      const expectedOpen = fdsBefore + 6;
      for (let i = 0; i < 2000 && openFds() > expectedOpen; i++) {
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.ok(
        openFds() <= expectedOpen,
        `fuzzed sockets still open: ${openFds() - expectedOpen}`,
      );
      // Keyed: each failure is reported to a waiting accept(); failures that
      // land while nobody waits are capped (dropped), so at most one per peer.
      assert.ok(
        authFailures > 0 && authFailures <= keyedJobs,
        `keyed failures reported: ${authFailures} of ${keyedJobs}`,
      );
      // Keyless: every fuzzed peer is accepted (nothing to fail).
      for (let i = 0; i < 2000 && accepted < keylessJobs; i++) {
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(
        accepted,
        keylessJobs,
        "every fuzzed keyless peer was accepted",
      );
      await deadline(
        Promise.all([...handlers]),
        10_000,
        "draining fuzzed connections",
      );
      await goodRoundTrip(goodC1, goodS1, -1);
      await goodRoundTrip(goodC2, goodS2, -2);
      assert.deepEqual(unexpected, []);
    } finally {
      for (const c of [goodC1, goodS1, goodC2, goodS2]) c.close();
      keyless.close();
      keyed.close();
      await deadline(
        Promise.all([keylessLoop, keyedLoop]),
        5000,
        "accept loops end on close",
      );
      await Promise.allSettled([...handlers]);
    }
    // Let closed resources be released, then compare descriptors.
    for (let i = 0; i < 100 && openFds() > fdsBefore; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(
      openFds() <= fdsBefore,
      `fds: ${fdsBefore} before, ${openFds()} after`,
    );
  },
});
