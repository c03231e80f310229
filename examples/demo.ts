// `deno task demo`: the three layers working together.
//   1. connection: a Listener and a Client with an authkey echo messages.
//   2. pool: a Pool of Workers maps a function, and computes in parallel.
//   3. manager: a local Manager's queue is filled by Pool tasks.

import { Client, Listener, Manager, Pool } from "../mod.ts";

const tasks = new URL("./demo_tasks.ts", import.meta.url);

console.log("# 1. connection: Listener + Client with an authkey");
{
  await using listener = new Listener({ authkey: "demo-secret" });
  // Accept and connect together: a failed handshake would reject both.
  const [server, client] = await Promise.all([
    listener.accept(),
    Client(listener.address, { authkey: "demo-secret" }),
  ]);
  await using _server = server;
  await using _client = client;
  const echo = (async () => {
    for await (const msg of server) await server.send({ echo: msg });
  })();
  for (const msg of ["hello", { n: 42 }, [1, 2, 3]]) {
    await client.send(msg);
    console.log(
      "  sent",
      JSON.stringify(msg),
      "got",
      JSON.stringify(await client.recv()),
    );
  }
  client.close();
  await echo;
}

console.log("# 2. pool: map and parallel work");
{
  await using pool = new Pool<typeof import("./demo_tasks.ts")>(tasks, {
    processes: 2,
  });
  console.log(
    "  map(sqr, 0..9) =",
    (await pool.map("sqr", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])).join(", "),
  );
  const counts = await pool.map("countPrimes", [
    20_000,
    30_000,
    40_000,
    50_000,
  ]);
  console.log("  primes below 20k/30k/40k/50k =", counts.join(", "));
  let seen = 0;
  for await (const r of pool.imapUnordered("sqr", [10, 20, 30])) seen += r;
  console.log("  imapUnordered sum of squares =", seen);
}

console.log("# 3. manager: a shared queue filled by Pool tasks");
{
  await using manager = await Manager();
  const queue = await manager.Queue();
  await using pool = new Pool<typeof import("./demo_tasks.ts")>(tasks, {
    processes: 2,
  });
  await pool.starmap("shout", [[queue, "alpha"], [queue, "beta"], [
    queue,
    "gamma",
  ]]);
  const words: string[] = [];
  for (let i = 0; i < 3; i++) words.push(await queue.get() as string);
  console.log("  queue received", words.sort().join(", "));
  const counter = await manager.Value("i", 0);
  await counter.set(await counter.get() as number + 1);
  console.log("  shared Value =", await counter.get());
}
console.log("demo done");
