// Optional TLS: a Listener with { tls: { cert, key } } and a Client with
// { tls: { caCerts, hostname } }. A self-signed certificate is made with
// `openssl` in a temp dir (removed once read) on first use; without openssl the tests fail,
// saying why (never a silent pass).

import assert from "node:assert/strict";
import {
  AuthenticationError,
  Client,
  type Connection,
  Listener,
  TimeoutError,
} from "../../connection/mod.ts";
import { deadline, pattern, rawConnect, rejection } from "./_helpers.ts";

interface Cert {
  cert: string;
  key: string;
}

async function openssl(args: string[], dir: string): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

/**
 * Makes a throwaway CA (`<ca>.crt`, also the PEM the client trusts) and a
 * leaf certificate signed by it for `names` (DNS) plus 127.0.0.1 and ::1.
 * (rustls refuses a self-signed CA certificate used as the server's own.)
 */
async function makeCert(
  dir: string,
  ca: string,
  names: string[],
): Promise<Cert & { ca: string }> {
  const ec = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
  ];
  await openssl(
    [
      "req",
      "-x509",
      ...ec,
      "-days",
      "2",
      "-subj",
      `/CN=${ca} test CA`,
      "-keyout",
      `${ca}-ca.key`,
      "-out",
      `${ca}-ca.crt`,
    ],
    dir,
  );
  await openssl([
    "req",
    ...ec,
    "-subj",
    `/CN=${names[0]}`,
    "-keyout",
    `${ca}.key`,
    "-out",
    `${ca}.csr`,
  ], dir);
  const san = [...names.map((n) => `DNS:${n}`), "IP:127.0.0.1", "IP:::1"].join(
    ",",
  );
  await Deno.writeTextFile(
    `${dir}/${ca}.ext`,
    `basicConstraints=critical,CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`,
  );
  await openssl(
    [
      "x509",
      "-req",
      "-in",
      `${ca}.csr`,
      "-CA",
      `${ca}-ca.crt`,
      "-CAkey",
      `${ca}-ca.key`,
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      `${ca}.ext`,
      "-out",
      `${ca}.crt`,
    ],
    dir,
  );
  return {
    cert: await Deno.readTextFile(`${dir}/${ca}.crt`),
    key: await Deno.readTextFile(`${dir}/${ca}.key`),
    ca: await Deno.readTextFile(`${dir}/${ca}-ca.crt`),
  };
}

async function haveOpenssl(): Promise<boolean> {
  try {
    return (await new Deno.Command("openssl", {
      args: ["version"],
      stdout: "null",
      stderr: "null",
    })
      .output()).success;
  } catch {
    return false;
  }
}

const OPENSSL = await haveOpenssl();
type Certs = Record<"localhost" | "other" | "named", Cert & { ca: string }>;
let certs: Certs | undefined;

async function getCerts(): Promise<Certs> {
  if (!certs) {
    // Made in a private temp dir, read into memory, and the dir removed at
    // once: nothing is left behind whichever tests run.
    const dir = await Deno.makeTempDir({ prefix: "mproc-tls-" });
    try {
      certs = {
        localhost: await makeCert(dir, "localhost", ["localhost"]),
        other: await makeCert(dir, "other", ["localhost"]),
        named: await makeCert(dir, "named", ["mproc.test"]),
      };
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  return certs;
}

function tlsTest(
  name: string,
  fn: (c: Awaited<ReturnType<typeof getCerts>>) => Promise<void>,
) {
  Deno.test(`tls: ${name}`, async () => {
    // Never a silent pass: without openssl these tests fail, saying why.
    assert.ok(
      OPENSSL,
      "Cannot make a test certificate as `openssl` is not on PATH: install openssl",
    );
    await deadline(fn(await getCerts()), 15_000, name);
  });
}

async function roundTrip(server: Connection, client: Connection) {
  await client.send({ over: "tls" });
  assert.deepEqual(await server.recv(), { over: "tls" });
  const big = pattern(1 << 20, 5);
  const [, got] = await Promise.all([
    server.sendBytes(big),
    client.recvBytes(),
  ]);
  assert.deepEqual(got, big);
}

tlsTest(
  "an authenticated TLS listener and client talk (localhost cert, 127.0.0.1)",
  async (c) => {
    await using l = new Listener({
      tls: { cert: c.localhost.cert, key: c.localhost.key },
      authkey: "k",
    });
    const [server, client] = await Promise.all([
      l.accept(),
      Client(l.address, {
        authkey: "k",
        tls: { caCerts: [c.localhost.ca], hostname: "localhost" },
      }),
    ]);
    try {
      await roundTrip(server, client);
    } finally {
      server.close();
      client.close();
    }
  },
);

tlsTest("TLS without an authkey works too", async (c) => {
  await using l = new Listener({
    tls: { cert: c.localhost.cert, key: c.localhost.key },
  });
  const [server, client] = await Promise.all([
    l.accept(),
    Client(l.address, { tls: { caCerts: [c.localhost.ca] } }),
  ]);
  try {
    await roundTrip(server, client);
  } finally {
    server.close();
    client.close();
  }
});

tlsTest(
  "tls.hostname names the certificate to verify, not where to connect",
  async (c) => {
    // The cert is for "mproc.test", which does not resolve: the client must
    // still connect to the listener's address and verify against that name.
    await using l = new Listener({
      tls: { cert: c.named.cert, key: c.named.key },
      authkey: "k",
    });
    const [server, client] = await Promise.all([
      deadline(l.accept(), 5000, "accept"),
      deadline(
        Client(l.address, {
          authkey: "k",
          tls: { caCerts: [c.named.ca], hostname: "mproc.test" },
        }),
        5000,
        "client",
      ),
    ]);
    try {
      await roundTrip(server, client);
    } finally {
      server.close();
      client.close();
    }
  },
);

tlsTest(
  "a client that does not trust the certificate is refused, the listener keeps serving",
  async (c) => {
    await using l = new Listener({
      tls: { cert: c.localhost.cert, key: c.localhost.key },
      authkey: "k",
    });
    const accepting = rejection(
      l.accept(),
      5000,
      "accept of an untrusting client",
    );
    const e = await rejection(
      Client(l.address, {
        authkey: "k",
        tls: { caCerts: [c.other.ca], hostname: "localhost" },
      }),
      5000,
      "untrusting client",
    );
    assert.ok(e instanceof Error, String(e));
    assert.ok((await accepting) instanceof Error);
    const [server, client] = await Promise.all([
      l.accept(),
      Client(l.address, {
        authkey: "k",
        tls: { caCerts: [c.localhost.ca], hostname: "localhost" },
      }),
    ]);
    server.close();
    client.close();
  },
);

tlsTest(
  "a plain-TCP client to a TLS listener fails on both sides by the deadlines, never a hang",
  async (c) => {
    await using l = new Listener({
      tls: { cert: c.localhost.cert, key: c.localhost.key },
      authkey: "k",
      handshakeTimeout: 300,
    });
    const [ae, ce] = await Promise.all([
      rejection(l.accept(), 4000, "accept of a plain client"),
      rejection(
        Client(l.address, { authkey: "k", timeout: 300 }),
        4000,
        "plain client",
      ),
    ].map((p) => p.catch((e) => e)));
    assert.ok(ae instanceof AuthenticationError, `listener side: ${ae}`);
    assert.ok(ce instanceof AuthenticationError, `client side: ${ce}`);
  },
);

tlsTest(
  "a keyless TLS listener on loopback is allowed (the non-loopback rule is about the address)",
  async (c) => {
    await using l = new Listener({
      tls: { cert: c.localhost.cert, key: c.localhost.key },
      address: "127.0.0.1:0",
    });
    assert.ok(l.address);
  },
);

// While a TLS handshake is stalled, Deno cannot close the socket under it
// (denoland/deno#35292, documented in the README next to `tls`): these tests
// check what the library controls — a deadline that always fires, a typed
// error, a listener that keeps serving — not that the silent peer sees EOF.

tlsTest(
  "a keyed TLS client to a silent plain-TCP server rejects by its deadline",
  async (c) => {
    const srv = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    let peer: Deno.Conn | undefined;
    const accepted = srv.accept().then((p) => (peer = p));
    try {
      const e = await rejection(
        Client(srv.addr as Deno.NetAddr, {
          authkey: "k",
          timeout: 300,
          tls: { caCerts: [c.localhost.ca], hostname: "localhost" },
        }),
        4000,
        "TLS client to a silent server",
      );
      assert.ok(
        e instanceof TimeoutError || e instanceof AuthenticationError,
        String(e),
      );
      await accepted;
    } finally {
      peer?.close();
      srv.close();
    }
  },
);

tlsTest(
  "a TLS listener rejects a silent raw peer at the handshake deadline and keeps serving",
  async (c) => {
    await using l = new Listener({
      tls: { cert: c.localhost.cert, key: c.localhost.key },
      authkey: "k",
      handshakeTimeout: 200,
    });
    const accepting = rejection(
      l.accept(),
      4000,
      "accept of a silent raw peer",
    );
    const raw = await rawConnect(l.address);
    try {
      assert.ok((await accepting) instanceof AuthenticationError);
      const [server, client] = await deadline(
        Promise.all([
          l.accept(),
          Client(l.address, {
            authkey: "k",
            tls: { caCerts: [c.localhost.ca], hostname: "localhost" },
          }),
        ]),
        5000,
        "a good TLS client after the silent one",
      );
      await roundTrip(server, client);
      server.close();
      client.close();
    } finally {
      raw.close();
    }
  },
);
