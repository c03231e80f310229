// Hostile and broken peers (issue: "Bad input and security"). Every case
// checks that the error is typed, stays on that connection, and that the
// listener keeps serving a well-behaved client.

import assert from "node:assert/strict";
import {
  AuthenticationError,
  Client,
  type Connection,
  EOFError,
  Listener,
  type ListenerOptions,
  ProtocolError,
} from "../../connection/mod.ts";
import {
  closeQuietly,
  concat,
  deadline,
  enc,
  frame,
  header,
  longHeader,
  rawConnect,
  readRawFrame,
  readToEnd,
  rejection,
  writeAll,
} from "./_helpers.ts";

/** A well-behaved client still gets through `l` (with `authkey` if any). */
async function stillServes(l: Listener, authkey?: string): Promise<void> {
  const [s, c] = await deadline(
    Promise.all([
      l.accept(),
      Client(l.address, authkey === undefined ? {} : { authkey }),
    ]),
    5000,
    "a good client after the bad one",
  );
  try {
    await c.send("ping");
    assert.equal(await s.recv(), "ping");
    await s.send("pong");
    assert.equal(await c.recv(), "pong");
  } finally {
    s.close();
    c.close();
  }
}

/** Accepts one raw peer on a keyless listener; returns its server Connection. */
async function acceptRaw(
  l: Listener,
): Promise<{ conn: Connection; raw: Deno.Conn }> {
  const [conn, raw] = await deadline(
    Promise.all([l.accept(), rawConnect(l.address)]),
    5000,
    "raw accept",
  );
  return { conn, raw };
}

function isMidFrameError(e: unknown): boolean {
  return (e instanceof ProtocolError ||
    e instanceof Deno.errors.UnexpectedEof) &&
    !(e instanceof EOFError);
}

for (const family of ["AF_INET", "AF_UNIX"] as const) {
  Deno.test(`bad input[${family}]: negative lengths other than -1 are malformed: ProtocolError, that connection closed`, async () => {
    await using l = new Listener({ family });
    for (const n of [-2, -100, -0x80000000]) {
      const { conn, raw } = await acceptRaw(l);
      try {
        await writeAll(raw, concat(header(n), enc.encode("junk")));
        const e = await rejection(conn.recvBytes(), 5000, `length ${n}`);
        assert.ok(e instanceof ProtocolError, `length ${n}: ${e}`);
        assert.equal(conn.closed, true, `length ${n}: connection closed`);
        // The server closed its side: the raw peer sees EOF.
        await deadline(readToEnd(raw), 5000, "raw EOF");
      } finally {
        closeQuietly(raw);
        conn.close();
      }
    }
    await stillServes(l);
  });

  Deno.test(`bad input[${family}]: a peer closing mid-header or mid-payload is a ProtocolError, not EOFError`, async () => {
    await using l = new Listener({ family });
    const cuts = [
      new Uint8Array([0, 0]),
      header(10),
      concat(header(10), enc.encode("12345")),
      concat(header(100_000), new Uint8Array(70_000)),
      concat(longHeader(5), enc.encode("ab")),
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0]),
    ];
    for (const cut of cuts) {
      const { conn, raw } = await acceptRaw(l);
      try {
        const pending = rejection(
          conn.recvBytes(),
          5000,
          `cut of ${cut.length}`,
        );
        await writeAll(raw, cut);
        raw.close();
        const e = await pending;
        assert.ok(isMidFrameError(e), `cut after ${cut.length} bytes: ${e}`);
      } finally {
        closeQuietly(raw);
        conn.close();
      }
    }
    await stillServes(l);
  });

  Deno.test(`bad input[${family}]: a long-form length beyond 2^53 is a ProtocolError`, async () => {
    await using l = new Listener({ family });
    const { conn, raw } = await acceptRaw(l);
    try {
      await writeAll(raw, longHeader(2n ** 64n - 1n));
      const e = await rejection(conn.recvBytes());
      assert.ok(e instanceof ProtocolError, String(e));
    } finally {
      closeQuietly(raw);
      conn.close();
    }
    await stillServes(l);
  });
}

Deno.test("bad input: a header claiming 1 GiB allocates nothing much; the receive waits for the bytes", async () => {
  await using l = new Listener();
  const before = Deno.memoryUsage().rss;
  const peers: { conn: Connection; raw: Deno.Conn }[] = [];
  try {
    for (const h of [header(0x40000000), longHeader(2 ** 40)]) {
      const p = await acceptRaw(l);
      peers.push(p);
      await writeAll(p.raw, concat(h, new Uint8Array(1000)));
    }
    const pending = peers.map((p) =>
      rejection(p.conn.recvBytes(), 5000, "1 GiB recv")
    );
    // Each receive has the header and is waiting for the payload.
    let settled = 0;
    for (const p of pending) p.then(() => settled++);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(settled, 0, "the receives wait for the payload");
    const grown = Deno.memoryUsage().rss - before;
    assert.ok(grown < 64 * 1024 * 1024, `rss grew by ${grown} bytes`);
    for (const p of peers) p.raw.close();
    for (const e of await Promise.all(pending)) {
      assert.ok(isMidFrameError(e), String(e));
    }
  } finally {
    for (const p of peers) {
      closeQuietly(p.raw);
      p.conn.close();
    }
  }
  await stillServes(l);
});

Deno.test("bad input: maxMessageSize on a Listener closes only the offending connection", async () => {
  await using l = new Listener({ maxMessageSize: 1024, authkey: "k" });
  const [s1, c1] = await Promise.all([
    l.accept(),
    Client(l.address, { authkey: "k" }),
  ]);
  const [s2, c2] = await Promise.all([
    l.accept(),
    Client(l.address, { authkey: "k" }),
  ]);
  try {
    await c1.sendBytes(new Uint8Array(1025));
    const e = await rejection(s1.recvBytes());
    assert.ok(e instanceof Error && !(e instanceof EOFError), String(e));
    assert.ok(
      (await rejection(c1.recv(), 5000, "c1 sees the close")) instanceof
        EOFError,
    );
    await c2.sendBytes(new Uint8Array(1024));
    assert.equal((await s2.recvBytes()).length, 1024);
    await stillServes(l, "k");
  } finally {
    for (const c of [s1, c1, s2, c2]) c.close();
  }
});

Deno.test("bad input: a maxMessageSize header is refused before its payload arrives", async () => {
  await using l = new Listener({ maxMessageSize: 10 });
  const { conn, raw } = await acceptRaw(l);
  try {
    await writeAll(raw, header(0x7fffffff));
    const e = await rejection(conn.recvBytes(), 3000, "oversized header");
    assert.ok(e instanceof Error && !(e instanceof EOFError), String(e));
  } finally {
    closeQuietly(raw);
    conn.close();
  }
});

Deno.test("bad input: pre-auth, a reply frame over 256 bytes closes the connection at once (AuthenticationError)", async () => {
  await using l = new Listener({ authkey: "k", handshakeTimeout: 10_000 });
  for (
    const bad of [
      header(257),
      header(0x40000000),
      concat(header(300), new Uint8Array(300)),
    ]
  ) {
    const accepting = rejection(l.accept(), 3000, "accept of oversized reply");
    const raw = await rawConnect(l.address);
    try {
      const ch = await deadline(readRawFrame(raw), 3000, "challenge");
      assert.ok(ch && ch.length === 59);
      await writeAll(raw, bad);
      const e = await accepting;
      assert.ok(e instanceof AuthenticationError, String(e));
      // The server closed the socket: nothing else but EOF (no #WELCOME#).
      const rest = await deadline(readToEnd(raw), 3000, "server close");
      assert.ok(!new TextDecoder().decode(rest).includes("#WELCOME#"));
    } finally {
      closeQuietly(raw);
    }
  }
  await stillServes(l, "k");
});

Deno.test("bad input: pre-auth, a Client refuses an oversized or huge challenge frame at once", async () => {
  for (
    const bad of [concat(header(300), new Uint8Array(300)), header(0x40000000)]
  ) {
    const srv = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    let peer: Deno.Conn | undefined;
    const accepted = srv.accept().then(async (c) => {
      peer = c;
      await writeAll(c, bad);
    });
    try {
      const e = await rejection(
        Client(srv.addr as Deno.NetAddr, { authkey: "k", timeout: 8000 }),
        3000,
        "client with an oversized challenge",
      );
      assert.ok(e instanceof AuthenticationError, String(e));
      await accepted;
    } finally {
      closeQuietly(peer);
      srv.close();
    }
  }
});

Deno.test("bad input: the handshake deadline drops a silent peer (accept rejects with AuthenticationError)", async () => {
  await using l = new Listener({ authkey: "k", handshakeTimeout: 150 });
  const accepting = rejection(l.accept(), 5000, "accept of a silent peer");
  const raw = await rawConnect(l.address);
  try {
    const e = await accepting;
    assert.ok(e instanceof AuthenticationError, String(e));
    assert.match((e as Error).message, /150/);
    // After the challenge, the server closed the socket.
    assert.ok((await readRawFrame(raw))!.length === 59);
    await deadline(readToEnd(raw), 3000, "server closes the silent peer");
  } finally {
    closeQuietly(raw);
  }
  await stillServes(l, "k");
});

Deno.test("bad input: a silent pre-auth peer does not delay another client's accept", async () => {
  await using l = new Listener({ authkey: "k" }); // default deadline: 10 s
  const silent = await rawConnect(l.address);
  try {
    // The silent peer connected first and never answers.
    const [s, c] = await deadline(
      Promise.all([l.accept(), Client(l.address, { authkey: "k" })]),
      3000,
      "the good client's accept while a silent peer is pending",
    );
    s.close();
    c.close();
  } finally {
    silent.close();
  }
  // The silent peer's handshake now fails (EOF) and is reported to accept().
  const e = await rejection(l.accept(), 3000, "the silent peer's outcome");
  assert.ok(e instanceof AuthenticationError, String(e));
});

Deno.test("bad input: garbage or EOF instead of a digest rejects that accept() only", async () => {
  await using l = new Listener({ authkey: "k" });
  for (
    const reply of [frame("something bogus"), frame(""), new Uint8Array(0)]
  ) {
    const accepting = rejection(l.accept(), 3000, "accept of a bad digest");
    const raw = await rawConnect(l.address);
    try {
      await readRawFrame(raw);
      if (reply.length) await writeAll(raw, reply);
      else raw.close();
      const e = await accepting;
      assert.ok(e instanceof AuthenticationError, String(e));
    } finally {
      closeQuietly(raw);
    }
  }
  await stillServes(l, "k");
});

Deno.test("bad input: keyless client vs keyed listener fails fast on both sides with AuthenticationError", async () => {
  await using l = new Listener({ authkey: "k" }); // default deadline: 10 s
  // (a) the client only receives.
  {
    const accepting = rejection(l.accept(), 3000, "keyed listener accept");
    const c = await Client(l.address);
    try {
      const e = await rejection(c.recv(), 3000, "keyless client recv");
      assert.ok(e instanceof AuthenticationError, String(e));
      assert.match((e as Error).message, /authkey/);
      const se = await accepting;
      assert.ok(se instanceof AuthenticationError, String(se));
    } finally {
      c.close();
    }
  }
  // (b) the client sends first, then receives.
  {
    const accepting = rejection(l.accept(), 3000, "keyed listener accept (b)");
    const c = await Client(l.address);
    try {
      await c.send("hello?");
      const se = await accepting;
      assert.ok(se instanceof AuthenticationError, String(se));
      const e = await rejection(c.recv(), 3000, "keyless client recv (b)");
      assert.ok(e instanceof AuthenticationError, String(e));
    } finally {
      c.close();
    }
  }
  await stillServes(l, "k");
});

Deno.test("bad input: keyed client vs keyless listener fails fast on both sides (no 10 s hang, python/cpython#123736)", async () => {
  await using l = new Listener(); // no authkey
  const accepted = deadline(l.accept(), 3000, "keyless accept");
  // The handshake deadline (8 s) is beyond the hang guard (4.5 s): the
  // failure must come from detecting the mismatch, not from the deadline.
  const client = Client(l.address, { authkey: "k", timeout: 8000 });
  const clientErr = rejection(
    client,
    4500,
    "keyed Client against a keyless listener",
  );
  const server = await accepted;
  try {
    const serverErr = rejection(server.recv(), 4500, "keyless server recv");
    const [ce, se] = await Promise.all(
      [clientErr, serverErr].map((p) => p.catch((e) => e)),
    );
    assert.ok(ce instanceof AuthenticationError, `client side: ${ce}`);
    // The error says how long it waited, and which option sets that.
    assert.match(
      ce.message,
      /sent no challenge within 2000 ms \(challengeTimeout\): does it use an authkey\?/,
    );
    assert.ok(
      se instanceof AuthenticationError || se instanceof EOFError,
      `server side: ${se}`,
    );
  } finally {
    server.close();
    await client.then((c) => c.close(), () => {});
  }
});

Deno.test("bad input: empty authkeys still authenticate (3.13 semantics); empty vs none fails", async () => {
  await using l = new Listener({ authkey: "" });
  await stillServes(l, "");
  const accepting = rejection(
    l.accept(),
    3000,
    "empty-key accept of keyless client",
  );
  const c = await Client(l.address);
  try {
    assert.ok((await rejection(c.recv(), 3000)) instanceof AuthenticationError);
    assert.ok((await accepting) instanceof AuthenticationError);
  } finally {
    c.close();
  }
});

Deno.test("bad input: a failed handshake leaks no resource and the listener closes cleanly mid-handshake", async () => {
  const opts: ListenerOptions = { authkey: "k", family: "AF_UNIX" };
  const l = new Listener(opts);
  const accepting = rejection(l.accept(), 3000, "accept at close");
  const raw = await rawConnect(l.address);
  try {
    await readRawFrame(raw); // the handshake is in progress
    l.close();
    assert.ok((await accepting) instanceof Error);
    await deadline(
      readToEnd(raw),
      3000,
      "half-authenticated peer closed by close()",
    );
  } finally {
    closeQuietly(raw);
    l.close();
  }
});

for (const family of ["AF_INET", "AF_UNIX"] as const) {
  Deno.test(`bad input[${family}]: close() drops a peer that never reads; the stuck send settles (no socket kept open)`, async () => {
    await using l = new Listener({ family });
    const { conn, raw } = await acceptRaw(l);
    try {
      // 32 MiB cannot fit the socket buffers of a peer that never reads.
      const sending = conn.sendBytes(new Uint8Array(32 << 20)).then(
        () => "resolved",
        () => "rejected",
      );
      // The write is stuck: it has not settled while the peer reads nothing.
      const early = await Promise.race([
        sending,
        new Promise((r) => setTimeout(() => r("pending"), 100)),
      ]);
      assert.equal(early, "pending");
      conn.close();
      // A server must be able to drop an abusive client: the socket is
      // released (and the send settles) without the peer's cooperation.
      const settled = await deadline(
        sending,
        5000,
        "the stuck send after close()",
      );
      assert.ok(settled === "rejected" || settled === "resolved");
    } finally {
      closeQuietly(raw);
      conn.close();
    }
  });
}

Deno.test("bad input: many failed handshakes while the app is busy do not lock out a good keyed client", async () => {
  // Junk peers that connect and go away fail their (eager) handshakes while
  // the application is busy and not calling accept(). Their failures must not
  // use up the listener's capacity to challenge the next good clients.
  const l = new Listener({ authkey: "k" });
  const [s1, c1] = await Promise.all([
    l.accept(),
    Client(l.address, { authkey: "k" }),
  ]);
  const settle = (p: Promise<Connection>) =>
    p.then((c) => c, (e) => e as Error);
  const good = settle(Client(l.address, { authkey: "k", timeout: 8000 }));
  const servers: Connection[] = [];
  let draining: Promise<void> | undefined;
  let late: Promise<Connection | Error> | undefined;
  try {
    for (let i = 0; i < 200; i++) (await rawConnect(l.address)).close();
    late = settle(Client(l.address, { authkey: "k", timeout: 8000 }));
    // The application is busy with client 1 for 2.5 s (the scenario), then
    // drains accept() as `for await (const c of listener)` does.
    await new Promise((r) => setTimeout(r, 2500));
    draining = (async () => {
      for await (const c of l) servers.push(c);
    })();
    const [g, lt] = await deadline(
      Promise.all([good, late]),
      6000,
      "the good clients",
    );
    assert.ok(
      !(g instanceof Error),
      `the good client connected before the junk: ${g}`,
    );
    assert.ok(
      !(lt instanceof Error),
      `the good client connected after the junk: ${lt}`,
    );
  } finally {
    l.close();
    await draining;
    s1.close();
    c1.close();
    for (const s of servers) s.close();
    for (const p of [good, late]) {
      const c = await p;
      if (c && !(c instanceof Error)) c.close();
    }
  }
});
