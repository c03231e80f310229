// Pipe(): in-process pairs, the read-only/write-only ends of Pipe(false),
// and ends moved to a Worker through encodeForPost/decodeFromPost.

import assert from "node:assert/strict";
import { type Connection, EOFError, Pipe } from "../../connection/mod.ts";
import { decodeFromPost, encodeForPost } from "../../_transfer.ts";
import {
  deadline,
  rejection,
  runFixtureToExit,
  spawnChild,
} from "./_helpers.ts";

Deno.test("pipe: Pipe() is duplex by default", async () => {
  const [a, b] = Pipe();
  try {
    await a.send("a->b");
    await b.send("b->a");
    assert.equal(await b.recv(), "a->b");
    assert.equal(await a.recv(), "b->a");
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("pipe: Pipe(false) returns [reader, writer]; the wrong direction errors", async () => {
  const [reader, writer] = Pipe(false);
  try {
    await writer.send("one way");
    assert.equal(await reader.recv(), "one way");
    assert.ok((await rejection(reader.send("x"))) instanceof Error);
    assert.ok(
      (await rejection(reader.sendBytes(new Uint8Array(1)))) instanceof Error,
    );
    assert.ok((await rejection(writer.recv())) instanceof Error);
    assert.ok((await rejection(writer.recvBytes())) instanceof Error);
    assert.ok((await rejection(writer.poll(0))) instanceof Error);
    writer.close();
    assert.ok((await rejection(reader.recv())) instanceof EOFError);
  } finally {
    reader.close();
    writer.close();
  }
});

Deno.test("pipe: an end transferred to a Worker works there (revived via decodeFromPost)", async () => {
  const [here, there] = Pipe();
  try {
    await here.send("sent before the transfer");
    using child = await spawnChild("worker", "echoUpper", there);
    assert.equal(there.closed, true, "the end given away is closed here");
    assert.ok((await rejection(there.recv())) instanceof Error);
    assert.equal(
      await deadline(here.recv(), 10_000, "echo 1"),
      "SENT BEFORE THE TRANSFER",
    );
    for (const word of ["hello", "world"]) {
      await here.send(word);
      assert.equal(
        await deadline(here.recv(), 10_000, word),
        word.toUpperCase(),
      );
    }
    here.close();
    assert.equal(await child.join(), 3, "the worker saw EOF after 3 messages");
  } finally {
    here.close();
    there.close();
  }
});

Deno.test("pipe: a Worker closing its end gives EOFError here, after its messages", async () => {
  const [here, there] = Pipe();
  try {
    using child = await spawnChild("worker", "sendThenClose", there, [1, {
      two: 2,
    }, [3]]);
    const got: unknown[] = [];
    for await (const v of here) got.push(v);
    assert.deepEqual(got, [1, { two: 2 }, [3]]);
    assert.equal(await child.join(), true);
    assert.ok((await rejection(here.recv())) instanceof EOFError);
  } finally {
    here.close();
    there.close();
  }
});

Deno.test("pipe: the reader of Pipe(false) moves to a Worker with frames already queued", async () => {
  const [reader, writer] = Pipe(false);
  try {
    await writer.send({ queued: true });
    using child = await spawnChild("worker", "recvOne", reader);
    assert.deepEqual(await child.join(), { queued: true });
  } finally {
    writer.close();
    reader.close();
  }
});

Deno.test("pipe: encodeForPost/decodeFromPost round-trip in the same thread keeps the end working", async () => {
  const [a, b] = Pipe();
  let revived: Connection | undefined;
  try {
    const { value } = encodeForPost({ nested: [b] });
    const back = await decodeFromPost(value) as { nested: Connection[] };
    revived = back.nested[0]!;
    await a.send("via revived");
    assert.equal(await revived.recv(), "via revived");
    await revived.send("back");
    assert.equal(await a.recv(), "back");
  } finally {
    a.close();
    b.close();
    revived?.close();
  }
});

Deno.test("pipe: a closed end cannot be transferred", () => {
  const [a, b] = Pipe();
  b.close();
  try {
    assert.throws(() => encodeForPost(b));
  } finally {
    a.close();
  }
});

Deno.test("pipe: large messages and many messages cross a Pipe intact", async () => {
  const [a, b] = Pipe();
  try {
    const big = new Uint8Array(8 << 20).map((_, i) => i & 0xff);
    await a.sendBytes(big);
    assert.deepEqual(await b.recvBytes(), big);
    for (let i = 0; i < 2000; i++) a.send(i);
    for (let i = 0; i < 2000; i++) assert.equal(await b.recv(), i);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("pipe: an end already read from moves to a Worker (relay) and works both ways; EOF crosses", async () => {
  const [here, there] = Pipe();
  try {
    await here.send("first");
    assert.equal(
      await there.recv(),
      "first",
      "read locally: the port has started",
    );
    await here.send("queued before the move");
    using child = await spawnChild("worker", "echoUpper", there);
    assert.equal(
      await deadline(here.recv(), 10_000, "echo 1"),
      "QUEUED BEFORE THE MOVE",
    );
    await here.send("after");
    assert.equal(await deadline(here.recv(), 10_000, "echo 2"), "AFTER");
    here.close();
    assert.equal(await child.join(), 2, "the worker saw EOF through the relay");
  } finally {
    here.close();
    there.close();
  }
});

Deno.test("pipe: a relayed end closed by the Worker gives EOFError here", async () => {
  const [here, there] = Pipe();
  try {
    assert.equal(
      await there.poll(0),
      false,
      "polled locally: the port has started",
    );
    using child = await spawnChild("worker", "sendThenClose", there, [
      "x",
      "y",
    ]);
    const got: unknown[] = [];
    for await (const v of here) got.push(v);
    assert.deepEqual(got, ["x", "y"]);
    assert.equal(await child.join(), true);
  } finally {
    here.close();
    there.close();
  }
});

Deno.test("pipe: a recv() pending on an end when it is moved away rejects; the moved end gets the message", async () => {
  const [here, there] = Pipe();
  try {
    const pending = rejection(there.recv(), 5000, "recv on a moved end");
    using child = await spawnChild("worker", "recvOne", there);
    assert.ok((await pending) instanceof Error);
    await here.send("for the worker");
    assert.equal(await child.join(), "for the worker");
  } finally {
    here.close();
    there.close();
  }
});

Deno.test("pipe: Pipe() ends used and left open do not keep the process alive", async () => {
  const { code, stdout, stderr } = await runFixtureToExit("forgotten_pipe.ts");
  assert.equal(code, 0, stderr);
  assert.equal(stdout, "x\ny false\n");
});
