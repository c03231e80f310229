// deliverChallenge / answerChallenge: both CPython dialects, the known-answer
// vectors of cpython-wire.md §8, and every rejection path. The peer is driven
// by hand over a Pipe() (a "fake connection" as in CPython's OtherTest).

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import {
  answerChallenge,
  AuthenticationError,
  type Connection,
  deliverChallenge,
  Pipe,
} from "../../connection/mod.ts";
import {
  createResponse,
  loadCrypto,
  verifyResponse,
} from "../../connection/_auth.ts";
import {
  concat,
  deadline,
  dec,
  enc,
  hex,
  rejection,
  unhex,
} from "./_helpers.ts";

const KEY = enc.encode("supadupasecretkey");
const CHALLENGE = enc.encode("#CHALLENGE#");
const WELCOME = enc.encode("#WELCOME#");
const FAILURE = enc.encode("#FAILURE#");
const range40 = Uint8Array.from({ length: 40 }, (_, i) => i);

/** The four known-answer vectors of cpython-wire.md §8 (CPython 3.12.1). */
const VECTORS = {
  legacy: {
    body: enc.encode("is-twenty-bytes-long"),
    reply: "f08c5aa7ef61fc426b5b135fd8a223ae",
  },
  sha256: {
    body: concat(enc.encode("{sha256}"), range40),
    reply: "7b7368613235367d" +
      "8d546a07722430e6e36d9a1e16a2b23c30b7f555678dc9d50321e882a89160fc",
  },
  py311: {
    body: concat(enc.encode("{sha256}"), range40),
    reply: "3dd4e9882f920c33ae4c8c27e52d30c6",
  },
  md5Prefixed: {
    body: enc.encode("{md5}is-twenty-bytes-long"),
    reply: "7b6d64357d" + "2b30be753d06dcff0a1db3c97c96e7eb",
  },
};

function mac(alg: string, key: Uint8Array, msg: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac(alg, key).update(msg).digest());
}

async function withPipe(fn: (a: Connection, b: Connection) => Promise<void>) {
  const [a, b] = Pipe();
  try {
    await deadline(fn(a, b), 5000, "handshake test");
  } finally {
    a.close();
    b.close();
  }
}

Deno.test("auth vectors: createResponse matches CPython 3.12.1 (legacy, {sha256}, {md5})", async () => {
  await loadCrypto();
  assert.equal(
    hex(createResponse(KEY, VECTORS.legacy.body)),
    VECTORS.legacy.reply,
  );
  assert.equal(
    hex(createResponse(KEY, VECTORS.sha256.body)),
    VECTORS.sha256.reply,
  );
  assert.equal(
    hex(createResponse(KEY, VECTORS.md5Prefixed.body)),
    VECTORS.md5Prefixed.reply,
  );
});

Deno.test("auth vectors: verifyResponse accepts every vector, incl. a 3.11 client's bare HMAC-MD5 of a {sha256} challenge", async () => {
  await loadCrypto();
  for (const v of Object.values(VECTORS)) {
    verifyResponse(KEY, v.body, unhex(v.reply));
  }
});

Deno.test("auth vectors: answerChallenge sends exactly the known answers over a Pipe", async () => {
  for (const v of [VECTORS.legacy, VECTORS.sha256, VECTORS.md5Prefixed]) {
    await withPipe(async (ours, peer) => {
      const answering = answerChallenge(ours, KEY);
      await peer.sendBytes(concat(CHALLENGE, v.body));
      assert.equal(hex(await peer.recvBytes()), v.reply);
      await peer.sendBytes(WELCOME);
      await answering;
    });
  }
});

Deno.test("auth vectors: deliverChallenge accepts the 3.11-style bare MD5 reply to its {sha256} challenge", async () => {
  await withPipe(async (ours, peer) => {
    const delivering = deliverChallenge(ours, KEY);
    const ch = await peer.recvBytes();
    const body = ch.subarray(CHALLENGE.length);
    await peer.sendBytes(mac("md5", KEY, body));
    assert.deepEqual(await peer.recvBytes(), WELCOME);
    await delivering;
  });
});

Deno.test("auth: deliverChallenge sends #CHALLENGE#{sha256} + 40 random bytes (59-byte frame), fresh each time", async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 3; i++) {
    await withPipe(async (ours, peer) => {
      const delivering = deliverChallenge(ours, KEY);
      const ch = await peer.recvBytes();
      assert.equal(ch.length, 59);
      assert.equal(dec.decode(ch.subarray(0, 19)), "#CHALLENGE#{sha256}");
      const body = ch.subarray(11);
      seen.add(hex(body));
      await peer.sendBytes(
        concat(enc.encode("{sha256}"), mac("sha256", KEY, body)),
      );
      assert.deepEqual(await peer.recvBytes(), WELCOME);
      await delivering;
    });
  }
  assert.equal(seen.size, 3, "the nonce is random");
});

Deno.test("auth: deliverChallenge({legacy: true}) uses the 3.11 dialect (20 random bytes, bare HMAC-MD5)", async () => {
  await withPipe(async (ours, peer) => {
    const delivering = deliverChallenge(ours, KEY, { legacy: true });
    const ch = await peer.recvBytes();
    assert.equal(ch.length, 31);
    assert.equal(dec.decode(ch.subarray(0, 11)), "#CHALLENGE#");
    await peer.sendBytes(mac("md5", KEY, ch.subarray(11)));
    assert.deepEqual(await peer.recvBytes(), WELCOME);
    await delivering;
  });
});

Deno.test("auth: deliverChallenge accepts every allowed digest named in the reply", async () => {
  const digests: [string, string][] = [
    ["md5", "md5"],
    ["sha256", "sha256"],
    ["sha384", "sha384"],
    ["sha3_256", "sha3-256"],
    ["sha3_384", "sha3-384"],
  ];
  for (const [py, node] of digests) {
    await withPipe(async (ours, peer) => {
      const delivering = deliverChallenge(ours, KEY);
      const body = (await peer.recvBytes()).subarray(11);
      await peer.sendBytes(concat(enc.encode(`{${py}}`), mac(node, KEY, body)));
      assert.deepEqual(await peer.recvBytes(), WELCOME, py);
      await delivering;
    });
  }
});

Deno.test("auth: a wrong, unknown-digest, wrong-length or oversized reply => #FAILURE# and AuthenticationError", async () => {
  const bad: [string, (body: Uint8Array) => Uint8Array, RegExp][] = [
    [
      "wrong key",
      (b) =>
        concat(enc.encode("{sha256}"), mac("sha256", enc.encode("nope"), b)),
      /wrong/i,
    ],
    [
      "unknown digest",
      (b) => concat(enc.encode("{sha1}"), mac("sha1", KEY, b)),
      /digest|unsupported/i,
    ],
    ["20-byte legacy reply", () => new Uint8Array(20), /length 16 got 20/],
    [
      "truncated sha256",
      (b) =>
        concat(enc.encode("{sha256}"), mac("sha256", KEY, b).subarray(0, 31)),
      /length/,
    ],
    ["garbage", () => enc.encode("something bogus"), /./],
    ["empty", () => new Uint8Array(0), /./],
  ];
  for (const [name, reply, re] of bad) {
    await withPipe(async (ours, peer) => {
      const delivering = rejection(deliverChallenge(ours, KEY));
      const body = (await peer.recvBytes()).subarray(11);
      await peer.sendBytes(reply(body));
      assert.deepEqual(await peer.recvBytes(), FAILURE, name);
      const e = await delivering;
      assert.ok(e instanceof AuthenticationError, `${name}: ${e}`);
      assert.match((e as Error).message, re, name);
    });
  }
  await withPipe(async (ours, peer) => {
    const delivering = rejection(deliverChallenge(ours, KEY));
    await peer.recvBytes();
    await peer.sendBytes(new Uint8Array(257));
    const e = await delivering;
    assert.ok(e instanceof AuthenticationError, `oversized: ${e}`);
  });
});

Deno.test("auth: answerChallenge rejects a missing prefix, a short challenge, an unknown digest, #FAILURE#", async () => {
  const cases: [string, Uint8Array, boolean][] = [
    ["no #CHALLENGE# prefix", enc.encode("hello there, this is not it"), false],
    ["challenge under 20 bytes", concat(CHALLENGE, new Uint8Array(19)), false],
    [
      "unsupported digest",
      concat(CHALLENGE, enc.encode("{sha1}"), range40),
      false,
    ],
    ["over 256 bytes", concat(CHALLENGE, new Uint8Array(250)), false],
  ];
  for (const [name, challenge] of cases) {
    await withPipe(async (ours, peer) => {
      const answering = rejection(answerChallenge(ours, KEY), 3000, name);
      await peer.sendBytes(challenge);
      const e = await answering;
      assert.ok(e instanceof AuthenticationError, `${name}: ${e}`);
    });
  }
  await withPipe(async (ours, peer) => {
    const answering = rejection(answerChallenge(ours, KEY));
    await peer.sendBytes(concat(CHALLENGE, VECTORS.sha256.body));
    await peer.recvBytes();
    await peer.sendBytes(FAILURE);
    const e = await answering;
    assert.ok(e instanceof AuthenticationError);
    assert.match((e as Error).message, /rejected/i);
  });
});

Deno.test("auth: deliver + answer over a Pipe succeed with equal keys (bytes, string, empty)", async () => {
  for (
    const [k1, k2] of [[KEY, KEY], ["clé", enc.encode("clé")], [
      new Uint8Array(0),
      "",
    ]] as const
  ) {
    await withPipe(async (a, b) => {
      await Promise.all([deliverChallenge(a, k1), answerChallenge(b, k2)]);
      await Promise.all([deliverChallenge(b, k2), answerChallenge(a, k1)]);
      await a.send("after");
      assert.equal(await b.recv(), "after");
    });
  }
});

Deno.test("auth: different keys fail on both sides with AuthenticationError", async () => {
  await withPipe(async (a, b) => {
    const [d, r] = await Promise.allSettled([
      deliverChallenge(a, "one"),
      answerChallenge(b, "two"),
    ]);
    assert.equal(d.status, "rejected");
    assert.equal(r.status, "rejected");
    assert.ok(
      (d as PromiseRejectedResult).reason instanceof AuthenticationError,
    );
    assert.ok(
      (r as PromiseRejectedResult).reason instanceof AuthenticationError,
    );
    assert.match(
      (d as PromiseRejectedResult).reason.message,
      /received was wrong/i,
    );
    assert.match(
      (r as PromiseRejectedResult).reason.message,
      /sent was rejected/i,
    );
  });
});

Deno.test("auth: a non-bytes, non-string authkey is a TypeError", async () => {
  await withPipe(async (a) => {
    const e = await (async () => {
      try {
        await deliverChallenge(a, 42 as unknown as string);
      } catch (e) {
        return e;
      }
    })();
    assert.ok(e instanceof TypeError, String(e));
  });
});
