// CPython docs, "Using a remote manager": a QueueManager serving one queue
// over TCP with an authkey, and a client that connects to it by address.
// (Here both run in one program; in practice they are two `deno run`s.)
//
//   deno run --allow-net examples/cpython_docs/remote_manager.ts
import { BaseManager, type QueueProxy, SharedQueue } from "../../mod.ts";

const queue = new SharedQueue();
class QueueManager extends BaseManager {}
QueueManager.register("getQueue", () => queue);

await using server = await QueueManager.serve({
  address: "127.0.0.1:0", // "0.0.0.0:50000" to serve other machines
  authkey: "abracadabra",
});

// the client side registers the name only
class QueueClient extends BaseManager {}
QueueClient.register("getQueue");
{
  await using m = await QueueClient.connect({
    address: server.address,
    authkey: "abracadabra",
  });
  const q = await m.create<QueueProxy>("getQueue");
  await q.put("hello");
  console.log(await q.get()); // hello
}
