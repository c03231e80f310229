// CPython docs, "Listeners and Clients": a server with an authkey, a client
// that sends objects and bytes, and wait() over several pipes.
//
//   deno run -A examples/cpython_docs/listener_client.ts
import { Client, EOFError, Listener, Pipe, wait } from "../../mod.ts";

await using listener = new Listener({ authkey: "secret password" });
const serving = (async () => {
  await using conn = await listener.accept();
  console.log("connection accepted from", listener.lastAccepted);
  await conn.send([2.25, null, "junk", 2n ** 60n]); // msgpack: bigints up to 64 bits
  await conn.sendBytes(new TextEncoder().encode("hello"));
  await conn.sendBytes(new Uint8Array([1, 2, 3, 4, 5]));
})();

{
  await using conn = await Client(listener.address, {
    authkey: "secret password",
  });
  console.log(await conn.recv()); // [ 2.25, null, "junk", 1152921504606846976n ]
  console.log(new TextDecoder().decode(await conn.recvBytes())); // hello
  const buf = new Uint8Array(8);
  console.log(await conn.recvBytesInto(buf), buf); // 5 Uint8Array [1, 2, 3, 4, 5, 0, 0, 0]
}
await serving;

// A wrong key is refused on both sides; the listener keeps serving.
const refused = listener.accept().catch((e) => `server: ${e.name}`);
const denied = await Client(listener.address, { authkey: "wrong" })
  .then(() => "connected?!", (e) => `client: ${e.name}`);
console.log(denied, await refused); // client: AuthenticationError server: AuthenticationError

// connection.wait(): read from several writers until each one closes.
const readers = [];
for (let i = 0; i < 4; i++) {
  const [r, w] = Pipe(false);
  readers.push(r);
  (async () => {
    for (let j = 0; j < 2; j++) await w.send([i, j]);
    w.close();
  })();
}
const got: unknown[] = [];
let open = readers;
while (open.length > 0) {
  for (const r of await wait(open)) {
    try {
      got.push(await r.recv());
    } catch (e) {
      if (!(e instanceof EOFError)) throw e;
      open = open.filter((x) => x !== r);
      r.close();
    }
  }
}
console.log(`wait: ${got.length} messages from ${readers.length} pipes`); // 8 from 4
