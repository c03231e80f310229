// CPython docs, "Exchanging objects between processes": a Queue and a Pipe
// shared with a child Process. A Queue that crosses processes lives in a
// manager (a sharedmem Queue is for the threads of one process).
//
//   deno run -A examples/cpython_docs/process_queue_pipe.ts
import {
  type Connection,
  Manager,
  Pipe,
  Process,
  type QueueProxy,
} from "../../mod.ts";

export async function putter(q: QueueProxy): Promise<void> {
  await q.put([42, null, "hello"]);
}

export async function sender(conn: Connection): Promise<void> {
  await conn.send([42, null, "hello"]);
  conn.close();
}

if (import.meta.main) {
  await using manager = await Manager();
  const q = await manager.Queue();
  {
    await using p = new Process({
      module: import.meta.url,
      target: putter,
      args: [q],
    });
    await p.start();
    console.log("queue:", await q.get()); // [ 42, null, "hello" ]
    await p.join();
  }
  const [parentConn, childConn] = Pipe();
  {
    await using p = new Process({
      module: import.meta.url,
      target: sender,
      args: [childConn],
    });
    await p.start();
    console.log("pipe:", await parentConn.recv()); // [ 42, null, "hello" ]
    await p.join();
  }
  parentConn.close();
}
