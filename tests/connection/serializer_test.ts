// The `serializer` option (API.md §7): msgpack by default and when asked;
// "pickle" is tested in pickle_serializer_test.ts; anything else is a
// TypeError. The option reaches Listener, Client and Pipe alike.

import assert from "node:assert/strict";
import {
  Client,
  type Connection,
  Listener,
  Pipe,
} from "../../connection/mod.ts";
import { decodeFromPost, encodeForPost } from "../../_transfer.ts";
import { decode } from "../../_msgpack.ts";
import { rejection } from "./_helpers.ts";

Deno.test("serializer: Pipe(true, { serializer: 'msgpack' }) sends msgpack frames", async () => {
  const [a, b] = Pipe(true, { serializer: "msgpack" });
  try {
    await a.send({ x: [1, "two"] });
    // The frame on the wire is msgpack: read it raw and decode it here.
    assert.deepEqual(decode(await b.recvBytes()), { x: [1, "two"] });
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("serializer: an unknown serializer is a TypeError naming the option", async () => {
  const bad = { serializer: "json" as "msgpack" };
  assert.throws(
    () => Pipe(true, bad),
    /'serializer' must be "msgpack" or "pickle"/,
  );
  assert.throws(() => new Listener(bad), /Cannot listen as 'serializer'/);
  const err = await rejection(Client({ hostname: "127.0.0.1", port: 1 }, bad));
  assert.ok(err instanceof TypeError);
  assert.match(err.message, /Cannot connect as 'serializer'/);
});

Deno.test("serializer: a Listener's connections use its serializer", async () => {
  await using listener = new Listener({ serializer: "pickle" });
  const accepted = listener.accept();
  await using client = await Client(listener.address, {
    serializer: "pickle",
  });
  await using server = await accepted;
  await client.send({ a: 1 });
  // pickle, not the default msgpack: a dict arrives as a Map
  assert.deepEqual(await server.recv(), new Map([["a", 1]]));
  // and the frame on the wire is a protocol-4 pickle
  await client.send("x");
  const frame = await server.recvBytes();
  assert.deepEqual([...frame.subarray(0, 2)], [0x80, 0x04]);
});

Deno.test("serializer: a transferred Pipe end carries its serializer options and works", async () => {
  const [a, b] = Pipe(true, { serializer: "pickle", pickle: { protocol: 2 } });
  const { value } = encodeForPost({ end: b });
  // The options travel with the end (the revived end rebuilds its codec).
  assert.match(
    JSON.stringify(value),
    /"serializer":\{"serializer":"pickle","pickle":\{"protocol":2\}\}/,
  );
  const moved = (await decodeFromPost(value) as { end: Connection }).end;
  try {
    await a.send({ ok: true });
    // the revived end decodes pickle: a dict arrives as a Map
    assert.deepEqual(await moved.recv(), new Map([["ok", true]]));
  } finally {
    a.close();
    moved.close();
  }
});
