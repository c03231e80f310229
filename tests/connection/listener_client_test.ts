// Listener and Client: families, every Address form, defaults, socket-file
// hygiene, authentication on accept(), iteration, cancellation.

import assert from "node:assert/strict";
import {
  type Address,
  AuthenticationError,
  Client,
  type Connection,
  Listener,
  parseAddress,
  Pipe,
} from "../../connection/mod.ts";
import {
  closeQuietly,
  connectedPair,
  deadline,
  readToEnd,
  rejection,
  runFixtureToExit,
} from "./_helpers.ts";
import { TimeoutError } from "../../errors.ts";

async function roundTrip(
  listener: Listener,
  address: Address,
  authkey?: string,
) {
  const [server, client] = await deadline(
    Promise.all([
      listener.accept(),
      Client(address, authkey === undefined ? {} : { authkey }),
    ]),
    5000,
    `connect to ${JSON.stringify(address)}`,
  );
  try {
    await client.send({ hello: [1, 2] });
    assert.deepEqual(await server.recv(), { hello: [1, 2] });
    await server.sendBytes(new Uint8Array([1, 2, 3]));
    assert.deepEqual(await client.recvBytes(), new Uint8Array([1, 2, 3]));
  } finally {
    client.close();
    server.close();
  }
}

Deno.test("listener: default is 127.0.0.1 with an ephemeral port; two listeners get different ports", async () => {
  await using a = new Listener();
  await using b = new Listener();
  const pa = parseAddress(a.address);
  const pb = parseAddress(b.address);
  assert.equal(pa.family, "AF_INET");
  assert.ok("port" in pa && "port" in pb);
  assert.equal(pa.hostname, "127.0.0.1");
  assert.ok(pa.port > 0 && pb.port > 0 && pa.port !== pb.port);
  await roundTrip(a, a.address);
});

Deno.test("listener: IPv6 ::1 via family AF_INET6 and via '[::1]:0'", async () => {
  await using a = new Listener({ family: "AF_INET6" });
  const pa = parseAddress(a.address);
  assert.equal(pa.family, "AF_INET6");
  assert.ok("port" in pa && pa.port > 0);
  await roundTrip(a, a.address);
  await roundTrip(a, `[::1]:${pa.port}`);
  await roundTrip(a, `tcp://[::1]:${pa.port}`);
  await roundTrip(a, ["::1", pa.port]);
  await using b = new Listener({ address: "[::1]:0", authkey: "k" });
  await roundTrip(b, b.address, "k");
});

Deno.test("listener: every TCP Address form works for Listener and Client", async () => {
  const listenForms: Address[] = [
    "127.0.0.1:0",
    "tcp://127.0.0.1:0",
    ["127.0.0.1", 0],
    { hostname: "127.0.0.1", port: 0 },
  ];
  for (const form of listenForms) {
    await using l = new Listener({ address: form });
    const p = parseAddress(l.address);
    assert.ok(p.family === "AF_INET" && p.port > 0, JSON.stringify(form));
    const clientForms: Address[] = [
      l.address,
      `127.0.0.1:${p.port}`,
      `tcp://127.0.0.1:${p.port}`,
      ["127.0.0.1", p.port],
      { hostname: "127.0.0.1", port: p.port },
    ];
    for (const c of clientForms) await roundTrip(l, c);
  }
});

Deno.test("listener: 'localhost' addresses resolve and connect", async () => {
  await using l = new Listener({ address: "localhost:0" });
  const p = parseAddress(l.address);
  assert.ok(p.family !== "AF_UNIX" && p.port > 0);
  await roundTrip(l, l.address);
});

Deno.test("listener: AF_UNIX default is a fresh private path; socket mode 0600, dir 0700; both removed on close", async () => {
  const l = new Listener({ family: "AF_UNIX" });
  const p = parseAddress(l.address);
  assert.equal(p.family, "AF_UNIX");
  const path = (p as { path: string }).path;
  const dir = path.slice(0, path.lastIndexOf("/"));
  try {
    const st = Deno.statSync(path);
    assert.ok(st.isSocket, "a socket file exists");
    assert.equal(st.mode! & 0o777, 0o600);
    assert.equal(Deno.statSync(dir).mode! & 0o777, 0o700);
    await roundTrip(l, l.address);
    await roundTrip(l, path);
    await roundTrip(l, `unix://${path}`);
    await roundTrip(l, { path });
  } finally {
    l.close();
  }
  assert.throws(() => Deno.statSync(path), Deno.errors.NotFound);
  assert.throws(() => Deno.statSync(dir), Deno.errors.NotFound);
  l.close(); // idempotent
  const other = new Listener({ family: "AF_UNIX" });
  try {
    assert.notEqual((other.address as { path: string }).path, path);
  } finally {
    other.close();
  }
});

Deno.test("listener: explicit unix paths ('/x', 'unix:///x', {path}) are used as given and removed on close", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "mproc-test-" });
  try {
    const forms: [Address, string][] = [
      [`${dir}/a.sock`, `${dir}/a.sock`],
      [`unix://${dir}/b.sock`, `${dir}/b.sock`],
      [{ path: `${dir}/c.sock` }, `${dir}/c.sock`],
    ];
    for (const [form, path] of forms) {
      const l = new Listener({ address: form, authkey: "k" });
      try {
        assert.deepEqual(parseAddress(l.address), { family: "AF_UNIX", path });
        assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);
        await roundTrip(l, path, "k");
      } finally {
        await l[Symbol.asyncDispose]();
      }
      assert.throws(() => Deno.statSync(path), Deno.errors.NotFound);
    }
    assert.ok(Deno.statSync(dir).isDirectory, "a caller's dir is left alone");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("listener: binding a unix path in use fails and leaves the other listener's file alone", async () => {
  await using a = new Listener({ family: "AF_UNIX" });
  const path = (a.address as { path: string }).path;
  assert.throws(() => new Listener({ address: path }));
  assert.ok(Deno.statSync(path).isSocket);
  await roundTrip(a, path);
});

Deno.test("listener: Linux abstract unix addresses ('\\0name') work and leave no file", async () => {
  const name = `\0mproc-test-${crypto.randomUUID()}`;
  await using l = new Listener({ address: name });
  await roundTrip(l, name);
});

Deno.test("listener: bad addresses and options are refused synchronously", () => {
  assert.throws(() => new Listener({ address: "no port here" }), TypeError);
  assert.throws(() => new Listener({ address: "127.0.0.1:99999" }), RangeError);
  assert.throws(
    () => new Listener({ address: ["127.0.0.1"] as never }),
    TypeError,
  );
  assert.throws(() => new Listener({ address: 42 as never }), TypeError);
  assert.throws(
    () => new Listener({ address: "127.0.0.1:0", family: "AF_UNIX" }),
    TypeError,
  );
  assert.throws(() => new Listener({ maxMessageSize: -1 }), RangeError);
  assert.throws(() => new Listener({ handshakeTimeout: 0 }), RangeError);
});

Deno.test("listener: a non-loopback address without an authkey is refused with a clear error", () => {
  for (const address of ["0.0.0.0:0", "[::]:0", ["10.1.2.3", 0] as Address]) {
    assert.throws(
      () => new Listener({ address }),
      (e: unknown) =>
        e instanceof TypeError && /authkey/.test(e.message) &&
        /allowUnauthenticated/.test(e.message),
      JSON.stringify(address),
    );
  }
});

Deno.test("listener: accept() authenticates; a wrong key rejects that accept() only", async () => {
  await using l = new Listener({ authkey: "right" });
  const bad = rejection(
    Client(l.address, { authkey: "wrong" }),
    5000,
    "bad client",
  );
  const e = await rejection(l.accept(), 5000, "accept of bad client");
  assert.ok(e instanceof AuthenticationError, String(e));
  assert.ok((await bad) instanceof AuthenticationError);
  await roundTrip(l, l.address, "right");
});

Deno.test("listener: async iteration skips peers that fail the handshake and ends on close", async () => {
  const l = new Listener({ authkey: "right" });
  const clients: Connection[] = [];
  const bad1 = rejection(Client(l.address, { authkey: "wrong" }), 5000);
  const bad2 = rejection(Client(l.address, { authkey: "wrong2" }), 5000);
  const got: Connection[] = [];
  const loop = (async () => {
    for await (const c of l) {
      got.push(c);
      await c.send(got.length);
      if (got.length === 2) l.close();
    }
  })();
  assert.ok((await bad1) instanceof AuthenticationError);
  assert.ok((await bad2) instanceof AuthenticationError);
  clients.push(await Client(l.address, { authkey: "right" }));
  clients.push(await Client(l.address, { authkey: "right" }));
  try {
    await deadline(loop, 5000, "listener iteration");
    assert.equal(got.length, 2);
    assert.deepEqual(
      (await Promise.all(clients.map((c) => c.recv()))).sort(),
      [1, 2],
    );
  } finally {
    for (const c of [...clients, ...got]) c.close();
    l.close();
  }
});

Deno.test("listener: accept({signal}) rejects with signal.reason; the listener loses no connection", async () => {
  await using l = new Listener();
  const ac = new AbortController();
  const pending = rejection(l.accept({ signal: ac.signal }));
  const reason = new Error("stop accepting");
  ac.abort(reason);
  assert.equal(await pending, reason);
  const pre = new AbortController();
  pre.abort("already");
  assert.equal(await rejection(l.accept({ signal: pre.signal })), "already");
  await roundTrip(l, l.address);
});

Deno.test("listener: close() rejects pending accepts, later accepts reject, close is idempotent", async () => {
  const l = new Listener({ family: "AF_UNIX" });
  const pending = rejection(l.accept());
  l.close();
  assert.ok((await pending) instanceof Error);
  assert.ok((await rejection(l.accept())) instanceof Error);
  l.close();
  await l[Symbol.asyncDispose]();
});

Deno.test("listener: connections accepted before close stay open after it", async () => {
  const l = new Listener();
  const [s, c] = await Promise.all([l.accept(), Client(l.address)]);
  l.close();
  try {
    await c.send("still here");
    assert.equal(await s.recv(), "still here");
  } finally {
    s.close();
    c.close();
  }
});

Deno.test("listener: 20 concurrent authenticated clients are all accepted", async () => {
  await using l = new Listener({ authkey: "k", family: "AF_UNIX" });
  const n = 20;
  const servers = Promise.all(Array.from({ length: n }, () => l.accept()));
  const clients = await deadline(
    Promise.all(
      Array.from({ length: n }, () => Client(l.address, { authkey: "k" })),
    ),
    10_000,
    "20 clients",
  );
  const accepted = await deadline(servers, 10_000, "20 accepts");
  try {
    await Promise.all(clients.map((c, i) => c.send(i)));
    const got = await Promise.all(accepted.map((s) => s.recv<number>()));
    assert.deepEqual(
      got.sort((a, b) => a - b),
      Array.from({ length: n }, (_, i) => i),
    );
  } finally {
    for (const c of [...clients, ...accepted]) c.close();
  }
});

Deno.test("client: connecting to a closed port rejects", async () => {
  const l = new Listener();
  const addr = l.address;
  l.close();
  const e = await rejection(Client(addr), 5000, "connect to closed port");
  assert.ok(e instanceof Error);
});

Deno.test("client: a handshake past 'timeout' rejects with AuthenticationError (silent server)", async () => {
  const raw = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let peer: Deno.Conn | undefined;
  const accepting = raw.accept().then((c) => (peer = c));
  try {
    const e = await rejection(
      Client(raw.addr as Deno.NetAddr, { authkey: "k", timeout: 150 }),
      5000,
      "client handshake timeout",
    );
    assert.ok(e instanceof AuthenticationError, String(e));
    await accepting;
  } finally {
    closeQuietly(peer);
    raw.close();
  }
});

Deno.test("client: signal aborts connect/handshake with signal.reason", async () => {
  await using l = new Listener({ authkey: "k" });
  const pre = new AbortController();
  pre.abort(new Error("pre"));
  const e1 = await rejection(
    Client(l.address, { authkey: "k", signal: pre.signal }),
  );
  assert.equal((e1 as Error).message, "pre");

  // A silent raw server: the client waits in the handshake until aborted.
  const raw = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let peer: Deno.Conn | undefined;
  const accepted = raw.accept().then((c) => (peer = c));
  const ac = new AbortController();
  // The handshake deadline (8 s) is far beyond the hang guard (3 s): the
  // rejection must come from the abort, not from the deadline.
  const cp = Client(raw.addr as Deno.NetAddr, {
    authkey: "k",
    signal: ac.signal,
    timeout: 8000,
  });
  try {
    const pending = rejection(cp, 3000, "Client after abort");
    await accepted;
    const reason = new Error("changed my mind");
    ac.abort(reason);
    assert.equal(await pending, reason);
  } finally {
    closeQuietly(peer);
    await cp.catch(() => {});
    raw.close();
  }
});

Deno.test("client: bad address / family / timeout are refused with TypeError/RangeError", async () => {
  await using l = new Listener();
  const cases: [() => Promise<unknown>, typeof TypeError][] = [
    [() => Client("nonsense"), TypeError],
    [() => Client(l.address, { family: "AF_UNIX" }), TypeError],
    [() => Client(l.address, { timeout: -1 }), RangeError],
    [() => Client(l.address, { authkey: 5 as never }), TypeError],
  ];
  for (const [call, cls] of cases) {
    let err: unknown;
    try {
      await call();
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof cls, String(err));
  }
});

Deno.test("client/listener: string and bytes authkeys are the same key", async () => {
  await using p = await connectedPair(
    { authkey: new TextEncoder().encode("ключ") },
    "ключ",
  );
  await p.client.send(1);
  assert.equal(await p.server.recv(), 1);
});

Deno.test("listener: keyed clients queued behind a busy serial server are not failed before their timeout", async () => {
  // The classic serial server: accept one client, serve it, then accept the
  // next. Clients that connect meanwhile must wait (CPython's do), not be
  // failed by a guess that the server has no authkey.
  await using l = new Listener({ authkey: "k" });
  const [s1, c1] = await Promise.all([
    l.accept(),
    Client(l.address, { authkey: "k" }),
  ]);
  const queued = [0, 1, 2].map(() =>
    Client(l.address, { authkey: "k", timeout: 8000 })
  );
  const settled = queued.map((p) =>
    p.then(() => "resolved", (e) => `rejected: ${e}`)
  );
  const servers: Connection[] = [];
  try {
    // The server is busy with client 1 for 2.5 s (the scenario, not a sync
    // point), then comes back to accept() the others one by one.
    await c1.send("work");
    assert.equal(await s1.recv(), "work");
    await new Promise((r) => setTimeout(r, 2500));
    for (let i = 0; i < queued.length; i++) {
      servers.push(
        await deadline(l.accept(), 5000, `accept of queued client ${i}`),
      );
    }
    assert.deepEqual(await Promise.all(settled), [
      "resolved",
      "resolved",
      "resolved",
    ]);
    const clients = await Promise.all(queued);
    await Promise.all(clients.map((c, i) => c.send(i)));
    const got = await Promise.all(servers.map((s) => s.recv<number>()));
    assert.deepEqual(got.sort(), [0, 1, 2]);
  } finally {
    s1.close();
    c1.close();
    for (const s of servers) s.close();
    for (const p of queued) await p.then((c) => c.close(), () => {});
  }
});

Deno.test("listener: concurrent accept() calls each get their own connection", async () => {
  await using l = new Listener({ authkey: "k" });
  const accepts = [l.accept(), l.accept(), l.accept()];
  const clients = await Promise.all(
    [0, 1, 2].map(() => Client(l.address, { authkey: "k" })),
  );
  const servers = await deadline(Promise.all(accepts), 5000, "3 accepts");
  try {
    assert.equal(new Set(servers).size, 3);
    await Promise.all(clients.map((c, i) => c.send(i)));
    assert.deepEqual(
      (await Promise.all(servers.map((s) => s.recv<number>()))).sort(),
      [0, 1, 2],
    );
  } finally {
    for (const c of [...clients, ...servers]) c.close();
  }
});

Deno.test("listener: connections that finished the handshake but were never accepted are closed by close()", async () => {
  const l = new Listener({ authkey: "k", family: "AF_UNIX" });
  let c: Connection | undefined;
  try {
    // Keyed listeners challenge eagerly: the Client completes without accept().
    c = await deadline(
      Client(l.address, { authkey: "k" }),
      5000,
      "client without accept()",
    );
    l.close();
    assert.ok(
      (await rejection(c.recv(), 3000, "recv after listener close")) instanceof
        Error,
    );
  } finally {
    c?.close();
    l.close();
  }
});

Deno.test("client: a connect past 'timeout' rejects with TimeoutError (server accept queue full)", async () => {
  // A raw listener that never accepts: once its accept queue is full, a new
  // SYN is dropped and connect() hangs — the only loopback way to stall one.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const addr = l.addr as Deno.NetAddr;
  const held: Deno.Conn[] = [];
  const accepted: Deno.Conn[] = [];
  let probe: Promise<Deno.Conn> | undefined;
  try {
    for (let i = 0; i < 5000 && !probe; i++) {
      const p = Deno.connect({ hostname: "127.0.0.1", port: addr.port });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        p,
        new Promise<null>((res) => (timer = setTimeout(() => res(null), 200))),
      ]);
      clearTimeout(timer);
      if (r === null) probe = p; // the queue is full: this connect is stuck
      else held.push(r);
    }
    assert.ok(probe, "the accept queue filled up");
    const e = await rejection(
      Client(addr, { timeout: 300 }),
      5000,
      "Client to a full accept queue",
    );
    assert.ok(e instanceof TimeoutError, String(e));
  } finally {
    // Drain the queue so the stuck connects (the probe's and the Client's)
    // complete at their SYN retransmission and get closed; bounded.
    const total = held.length + 2;
    await deadline(
      (async () => {
        while (accepted.length < total) accepted.push(await l.accept());
      })(),
      10_000,
      "draining the accept queue",
    ).catch(() => {});
    if (probe) (await probe.catch(() => null))?.close();
    for (const c of held) c.close();
    // The Client closes its late socket itself: wait for that EOF.
    await Promise.all(accepted.map((c) => readToEnd(c, 1024).catch(() => {})));
    for (const c of accepted) closeQuietly(c);
    l.close();
  }
});

Deno.test("listener: has a 'closed' getter (style.md §8 rule 8: every socket owner)", () => {
  const l = new Listener();
  try {
    assert.equal((l as unknown as { closed: boolean }).closed, false);
  } finally {
    l.close();
  }
  assert.equal((l as unknown as { closed: boolean }).closed, true);
});

Deno.test("listener: a Listener nobody accepts from does not keep the process alive (keyed and keyless)", async () => {
  for (const mode of ["nokey", "key"]) {
    const { code, stderr } = await runFixtureToExit("forgotten_listener.ts", [
      mode,
    ]);
    assert.equal(code, 0, stderr);
  }
});

Deno.test("listener: breaking out of async iteration leaves the listener usable; close() ends a waiting iteration", async () => {
  const l = new Listener({ authkey: "k" });
  const clients: Connection[] = [];
  try {
    clients.push(await Client(l.address, { authkey: "k" }));
    for await (const c of l) {
      c.close();
      break;
    }
    assert.equal(l.closed, false);
    const [s, c2] = await Promise.all([
      l.accept(),
      Client(l.address, { authkey: "k" }),
    ]);
    clients.push(s, c2);
    // An iteration waiting for the next peer ends (no throw) when the
    // listener is closed from elsewhere.
    const seen: Connection[] = [];
    const loop = (async () => {
      for await (const c of l) seen.push(c);
    })();
    l.close();
    await deadline(loop, 3000, "iteration after close()");
    assert.equal(seen.length, 0);
  } finally {
    for (const c of clients) c.close();
    l.close();
  }
});

Deno.test("listener: a pending accept() keeps the process alive until a client comes", async () => {
  const fixture =
    new URL("./fixtures/forgotten_listener.ts", import.meta.url).pathname;
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", "--config", config, fixture, "accept"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  try {
    while (!out.includes("\n")) {
      const { value, done } = await deadline(
        lines.read(),
        10_000,
        "the child's address",
      );
      if (done) break;
      out += value;
    }
    const address = JSON.parse(out.slice(0, out.indexOf("\n")));
    // Give the child's event loop a moment in which only accept() is pending.
    await new Promise((r) => setTimeout(r, 200));
    const c = await deadline(
      Client(address, { authkey: "k" }),
      5000,
      "Client to the child",
    );
    await c.send("hello child");
    c.close();
    while (true) {
      const { value, done } = await deadline(
        lines.read(),
        5000,
        "the child's output",
      );
      if (done) break;
      out += value;
    }
    const status = await deadline(child.status, 5000, "the child to exit");
    assert.equal(status.code, 0, await stderr);
    assert.match(out, /"hello child"/);
  } catch (e) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    throw e;
  } finally {
    await lines.cancel().catch(() => {});
    await child.status;
    await stderr;
  }
});

Deno.test("listener: allowUnauthenticated: true opts in to a keyless listener the loopback rule refuses", async () => {
  // ::ffff:127.0.0.1 is loopback in fact (so this test stays on loopback), but
  // the rule does not recognise the IPv4-mapped form and refuses it: a safe
  // false positive that lets the opt-in be exercised without a public bind.
  const address = "[::ffff:127.0.0.1]:0";
  assert.throws(() => new Listener({ address }), TypeError);
  await using l = new Listener({ address, allowUnauthenticated: true });
  await using _keyed = new Listener({ address, authkey: "k" }); // a key is enough too
  const [s, c] = await Promise.all([l.accept(), Client(l.address)]);
  try {
    await c.send("opted in");
    assert.equal(await s.recv(), "opted in");
  } finally {
    s.close();
    c.close();
  }
});

Deno.test("listener: lastAccepted and remoteAddress name the peer (CPython last_accepted), TCP", async () => {
  await using listener = new Listener({ authkey: "k" });
  assert.equal(listener.lastAccepted, undefined);
  const [server, client] = await Promise.all([
    listener.accept(),
    Client(listener.address, { authkey: "k" }),
  ]);
  try {
    const port = (listener.address as { port: number }).port;
    // The client sees the listener's address; the listener sees the
    // client's ephemeral port, as both lastAccepted and remoteAddress.
    assert.deepEqual(client.remoteAddress, { hostname: "127.0.0.1", port });
    const peer = server.remoteAddress as { hostname: string; port: number };
    assert.equal(peer.hostname, "127.0.0.1");
    assert.ok(peer.port > 0 && peer.port !== port);
    assert.deepEqual(listener.lastAccepted, peer);
  } finally {
    server.close();
    client.close();
  }
});

Deno.test("listener: lastAccepted and remoteAddress over Unix; a Pipe end has none", async () => {
  await using listener = new Listener({ family: "AF_UNIX" });
  const [server, client] = await Promise.all([
    listener.accept(),
    Client(listener.address),
  ]);
  const [a, b] = Pipe();
  try {
    assert.deepEqual(client.remoteAddress, listener.address);
    assert.deepEqual(server.remoteAddress, { path: "" });
    assert.deepEqual(listener.lastAccepted, { path: "" });
    assert.equal(a.remoteAddress, undefined);
  } finally {
    server.close();
    client.close();
    a.close();
    b.close();
  }
});

Deno.test("listener: accept(null) is accept() — a Promise-returning call never throws", async () => {
  await using listener = new Listener();
  let accepting: Promise<Connection> | undefined;
  assert.doesNotThrow(() => {
    accepting = listener.accept(null as unknown as undefined);
  });
  const client = await Client(listener.address);
  const conn = await accepting!;
  conn.close();
  client.close();
});

Deno.test("listener: accept({ signal }) with a signal that is not an AbortSignal rejects with a TypeError naming the option", async () => {
  await using listener = new Listener();
  await assert.rejects(
    listener.accept({ signal: 5 as unknown as AbortSignal }),
    TypeError,
    "options.signal is not an AbortSignal",
  );
});
