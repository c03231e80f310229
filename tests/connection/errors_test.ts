// Error classes and messages of the connection layer (API.md §1, style.md §8
// rule 6): names, instanceof, structured fields, and messages in sentence
// case without a trailing period, collected from real failures.

import assert from "node:assert/strict";
import {
  answerChallenge,
  AuthenticationError,
  BufferTooShortError,
  Client,
  deliverChallenge,
  EOFError,
  Listener,
  Pipe,
  ProtocolError,
  TimeoutError,
} from "../../connection/mod.ts";
import { TimeoutError as SharedTimeoutError } from "../../errors.ts";
import { concat, enc, header, rawConnect, writeAll } from "./_helpers.ts";

Deno.test("errors: classes have their names, extend Error and carry their fields", () => {
  const bytes = new Uint8Array([1, 2, 3]);
  const cases: [Error, string][] = [
    [
      new AuthenticationError("Digest received was wrong"),
      "AuthenticationError",
    ],
    [new BufferTooShortError(bytes), "BufferTooShortError"],
    [new EOFError(), "EOFError"],
    [new ProtocolError("Malformed"), "ProtocolError"],
  ];
  for (const [e, name] of cases) {
    assert.ok(e instanceof Error);
    assert.equal(e.name, name);
  }
  assert.equal(new BufferTooShortError(bytes).bytes, bytes);
  assert.equal(
    TimeoutError,
    SharedTimeoutError,
    "one TimeoutError class for all areas",
  );
  const cause = new Error("root");
  assert.equal(new AuthenticationError("X", { cause }).cause, cause);
});

function checkMessage(where: string, e: unknown) {
  assert.ok(e instanceof Error, `${where}: not an Error: ${e}`);
  const m = e.message;
  assert.ok(m.length > 0, `${where}: empty message`);
  assert.match(m[0]!, /[A-Z]/, `${where}: not sentence case: '${m}'`);
  assert.ok(!m.endsWith("."), `${where}: trailing period: '${m}'`);
}

Deno.test("errors: messages from real failures are sentence case with no trailing period", async () => {
  const collected: [string, unknown][] = [];
  const grab = async (where: string, p: () => Promise<unknown> | unknown) => {
    try {
      await p();
      collected.push([where, new Error("Did not fail")]);
    } catch (e) {
      collected.push([where, e]);
    }
  };

  const [a, b] = Pipe();
  await grab("send non-serializable", () => a.send({ f: () => 1 }));
  await grab("sendBytes bad offset", () => a.sendBytes(new Uint8Array(2), 5));
  await grab("recvBytes(-1)", () => a.recvBytes(-1));
  await a.sendBytes(new Uint8Array(10));
  await grab(
    "recvBytesInto too short",
    () => b.recvBytesInto(new Uint8Array(2)),
  );
  await a.sendBytes(new Uint8Array([0xc1]));
  await grab("recv bad msgpack", () => b.recv());
  await a.sendBytes(new Uint8Array(10));
  await grab("recvBytes over maxlength", () => b.recvBytes(5));
  await grab("recv on closed", () => b.recv());
  a.close();
  const [c, d] = Pipe();
  c.close();
  await grab("recv at EOF", () => d.recv());
  d.close();

  const [e1, e2] = Pipe();
  await grab(
    "deliver wrong key",
    () =>
      Promise.all([
        deliverChallenge(e1, "x"),
        answerChallenge(e2, "y").catch(() => {}),
      ]),
  );
  e1.close();
  e2.close();

  await grab("Listener bad address", () => new Listener({ address: "nope" }));
  await grab(
    "Listener non-loopback",
    () => new Listener({ address: "0.0.0.0:0" }),
  );
  await grab(
    "Client bad timeout",
    () => Client("127.0.0.1:1", { timeout: -5 }),
  );

  {
    await using l = new Listener({ handshakeTimeout: 100, authkey: "k" });
    await grab("accept handshake timeout", async () => {
      const raw = await rawConnect(l.address);
      try {
        await l.accept();
      } finally {
        raw.close();
      }
    });
  }
  {
    await using l = new Listener();
    const accepted = l.accept();
    const raw = await rawConnect(l.address);
    const s = await accepted;
    await writeAll(raw, concat(header(-5)));
    await grab("negative length", () => s.recvBytes());
    raw.close();
    s.close();
    const accepted2 = l.accept();
    const raw2 = await rawConnect(l.address);
    const s2 = await accepted2;
    await writeAll(raw2, concat(header(100), enc.encode("abc")));
    raw2.close();
    await grab("EOF mid-frame", () => s2.recvBytes());
    s2.close();
  }
  {
    const l = new Listener();
    const addr = l.address;
    l.close();
    await grab("accept on closed listener", () => l.accept());
    await grab("connect refused", () => Client(addr));
  }

  assert.equal(collected.length, 17);
  const failures: string[] = [];
  for (const [where, e] of collected) {
    try {
      checkMessage(where, e);
    } catch (err) {
      failures.push((err as Error).message);
    }
  }
  // Errors raised by Deno itself (e.g. "Connection refused (os error 111)")
  // are passed through as they are; only ours must follow the rule.
  assert.deepEqual(
    failures.filter((f) => !f.startsWith("connect refused")),
    [],
  );
});
