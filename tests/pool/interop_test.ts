// Live handles from the other areas travel as task arguments (shared `[TRANSFER]` encoding).
import assert from "node:assert/strict";
import { Pipe } from "../../connection/mod.ts";
import { Value } from "../../sharedmem/mod.ts";
import { Manager } from "../../manager/mod.ts";
import { makePool } from "./_helpers.ts";

Deno.test("A Pipe() end passed to a task works in the worker", async () => {
  await using pool = makePool({ processes: 1 });
  const [a, b] = Pipe();
  const echo = (async () => {
    const got = await a.recv();
    await a.send({ echo: got });
  })();
  assert.deepEqual(await pool.apply("echoOn", [b, "ping"]), { echo: "ping" });
  await echo;
  a.close();
});

Deno.test("A sharedmem Value passed to tasks is shared with the main thread", async () => {
  await using pool = makePool({ processes: 2 });
  const v = new Value("i", 0);
  await Promise.all(
    Array.from({ length: 20 }, () => pool.apply("addToValue", [v, 1])),
  );
  assert.equal(v.value, 20);
});

Deno.test("A manager proxy passed to a task is a working proxy in the worker", async () => {
  await using pool = makePool({ processes: 1 });
  await using manager = await Manager();
  const list = await manager.list();
  assert.equal(await pool.apply("appendTo", [list, 5]), "appended");
  assert.equal(await pool.apply("appendTo", [list, 6]), "appended");
  assert.deepEqual(await list.toArray(), [5, 6]);
});
