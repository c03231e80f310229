// Interop with CPython's multiprocessing.connection, for each of CPython
// 3.11.7 (HMAC-MD5 dialect), 3.12.1 and 3.13.0 ({sha256} dialect): Deno
// Client ↔ CPython Listener and CPython Client ↔ Deno Listener, over TCP and
// Unix, with and without an authkey, a wrong key in both directions, and
// messages of 0 B, 16 B and 1 MiB. One Python process per interpreter runs
// the whole scripted sequence (tests/py/interop_peer.py).

import assert from "node:assert/strict";
import {
  type Address,
  AuthenticationError,
  Client,
  type Connection,
  Listener,
} from "../../connection/mod.ts";
import {
  deadline,
  dec,
  enc,
  findPythons,
  hex,
  pattern,
  rejection,
} from "./_helpers.ts";
import { pyAddress, PyPeer } from "../_py_peer.ts";

const SCRIPT = new URL("../py/interop_peer.py", import.meta.url).pathname;
const SIZES = [0, 16, 1 << 20];
/** Binary keys, not valid UTF-8, to show keys are bytes. */
const KEY = new Uint8Array([
  0x00,
  0xff,
  0x10,
  0x80,
  ...enc.encode("interop-key"),
]);
const OTHER_KEY = enc.encode("not-the-same-key");

function reversed(b: Uint8Array): Uint8Array {
  return b.slice().reverse();
}

/** Deno drives: sends the three sizes, checks the reversed echoes, says bye. */
async function drive(conn: Connection): Promise<void> {
  for (const [i, n] of SIZES.entries()) {
    const p = pattern(n, i);
    await conn.sendBytes(p);
    const r = await deadline(conn.recvBytes(), 20_000, `echo of ${n} bytes`);
    assert.equal(r.length, n);
    assert.deepEqual(r, reversed(p), `echo of ${n} bytes`);
  }
  await conn.sendBytes(enc.encode("bye"));
}

/** Deno echoes: answers every message reversed until bye; returns the sizes seen. */
async function echo(conn: Connection): Promise<number[]> {
  const sizes: number[] = [];
  for (let i = 0; i < 10; i++) {
    const b = await deadline(conn.recvBytes(), 20_000, "message from python");
    if (dec.decode(b) === "bye") return sizes;
    sizes.push(b.length);
    await conn.sendBytes(reversed(b));
  }
  throw new Error("python sent too many messages");
}

const pythons = await findPythons();

// Never a silent pass: without a CPython this fails, saying why.
Deno.test("interop: a CPython interpreter to test against is found", () => {
  assert.ok(
    pythons.length > 0,
    "Cannot test interop as none of CPython 3.11.7/3.12.1/3.13.0 (pyenv prefix) nor python3 is available: install one",
  );
});

for (const py of pythons) {
  Deno.test(`interop[CPython ${py.version}]: Listener/Client both ways, TCP and Unix, with/without/wrong authkey, 0 B/16 B/1 MiB`, async (t) => {
    await using peer = new PyPeer(py.exe, SCRIPT);
    await peer.send({ op: "version" });
    const { version } = await peer.next();
    if (py.version.match(/^\d+\.\d+\.\d+$/)) assert.equal(version, py.version);

    for (const family of ["AF_INET", "AF_UNIX"] as const) {
      for (const key of [undefined, KEY]) {
        const keyHex = key ? hex(key) : null;
        const label = `${family}, ${key ? "authkey" : "no authkey"}`;

        await t.step(`Deno Client -> CPython Listener (${label})`, async () => {
          await peer.send({ op: "listen", family, authkey: keyHex });
          const { address } = await peer.next();
          assert.ok(address, "python reported its address");
          const conn = await deadline(
            Client(address as Address, key ? { authkey: key } : {}),
            10_000,
            "Client to CPython",
          );
          try {
            await drive(conn);
          } finally {
            conn.close();
          }
          assert.deepEqual(await peer.next(), { ok: true, count: 3 });
        });

        await t.step(`CPython Client -> Deno Listener (${label})`, async () => {
          await using l = new Listener({
            family,
            ...(key ? { authkey: key } : {}),
          });
          const accepting = deadline(l.accept(), 10_000, "accept of CPython");
          await peer.send({
            op: "connect",
            family,
            address: pyAddress(l),
            authkey: keyHex,
          });
          const conn = await accepting;
          try {
            assert.deepEqual(await echo(conn), SIZES);
          } finally {
            conn.close();
          }
          assert.deepEqual(await peer.next(), { ok: true });
        });
      }

      await t.step(
        `key on one side only: keyless Deno Client -> keyed CPython Listener (${family})`,
        async () => {
          await peer.send({ op: "listen", family, authkey: hex(KEY) });
          const { address } = await peer.next();
          const conn = await deadline(
            Client(address as Address),
            5000,
            "keyless Client",
          );
          try {
            await conn.sendBytes(pattern(16));
            const e = await rejection(
              conn.recvBytes(),
              5000,
              "keyless client recv",
            );
            assert.ok(e instanceof AuthenticationError, String(e));
            assert.match((e as Error).message, /authkey/);
          } finally {
            conn.close();
          }
          const res = await peer.next();
          assert.equal(res.ok, false);
          // CPython raises AuthenticationError after sending #FAILURE#, or the
          // send itself fails first when our side has already closed.
          assert.ok(
            ["AuthenticationError", "BrokenPipeError", "ConnectionResetError"]
              .includes(
                res.error as string,
              ),
            JSON.stringify(res),
          );
        },
      );

      await t.step(
        `key on one side only: keyless CPython Client -> keyed Deno Listener (${family})`,
        async () => {
          await using l = new Listener({ family, authkey: KEY });
          const accepting = rejection(
            l.accept(),
            5000,
            "accept of a keyless CPython client",
          );
          await peer.send({
            op: "connect",
            family,
            address: pyAddress(l),
            authkey: null,
          });
          const e = await accepting;
          assert.ok(e instanceof AuthenticationError, String(e));
          const res = await peer.next();
          assert.equal(
            res.ok,
            false,
            "CPython cannot talk to a keyed listener without a key",
          );
        },
      );

      await t.step(
        `wrong key: Deno Client -> CPython Listener (${family})`,
        async () => {
          await peer.send({ op: "listen", family, authkey: hex(OTHER_KEY) });
          const { address } = await peer.next();
          const e = await rejection(
            Client(address as Address, { authkey: KEY }),
            10_000,
            "Client with a wrong key",
          );
          assert.ok(e instanceof AuthenticationError, String(e));
          const res = await peer.next();
          assert.equal(res.ok, false);
          assert.equal(res.error, "AuthenticationError", JSON.stringify(res));
        },
      );

      await t.step(
        `wrong key: CPython Client -> Deno Listener (${family})`,
        async () => {
          await using l = new Listener({ family, authkey: KEY });
          const accepting = rejection(
            l.accept(),
            10_000,
            "accept of a wrong-key CPython client",
          );
          await peer.send({
            op: "connect",
            family,
            address: pyAddress(l),
            authkey: hex(OTHER_KEY),
          });
          const e = await accepting;
          assert.ok(e instanceof AuthenticationError, String(e));
          const res = await peer.next();
          assert.equal(res.ok, false);
          assert.equal(res.error, "AuthenticationError", JSON.stringify(res));
          // The listener still serves a good client afterwards.
          const [s, c] = await deadline(
            Promise.all([l.accept(), Client(l.address, { authkey: KEY })]),
            5000,
            "good client after a bad one",
          );
          s.close();
          c.close();
        },
      );
    }
  });
}
