// Pool with runtime: "process": CPython's _TestPool cases with each worker a
// child process, and crash recovery per death kind (API.md §6).

import assert from "node:assert/strict";
import {
  Pool,
  PoolTerminatedError,
  RemoteError,
  TimeoutError,
  WorkerLostError,
} from "../../pool/mod.ts";
import { Pipe } from "../../connection/pipe.ts";
import { alive } from "../process/_helpers.ts";
import { runScript } from "./_helpers.ts";

type Tasks = typeof import("../fixtures/pool_process_tasks.ts");
const TASKS = new URL("../fixtures/pool_process_tasks.ts", import.meta.url);
const GUARD = 60_000;

function makePool(
  options: ConstructorParameters<typeof Pool>[1] = {},
): Pool<Tasks> {
  return new Pool<Tasks>(TASKS, {
    processes: 2,
    runtime: "process",
    ...options,
  });
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

Deno.test("process pool: apply, map, starmap, imap, imapUnordered (CPython test_apply, test_map, test_starmap, test_imap, test_imap_unordered)", async () => {
  await using pool = makePool();
  assert.equal(await pool.apply("sqr", [5]), 25);
  assert.deepEqual(
    await pool.map("sqr", range(10)),
    range(10).map((i) => i * i),
  );
  assert.deepEqual(
    await pool.map("sqr", range(100), 7),
    range(100).map((i) => i * i),
  );
  assert.deepEqual(await pool.starmap("sqr", range(5).map((i) => [i])), [
    0,
    1,
    4,
    9,
    16,
  ]);
  const ordered: number[] = [];
  for await (const x of pool.imap("sqr", range(20), 3)) ordered.push(x);
  assert.deepEqual(ordered, range(20).map((i) => i * i));
  const unordered: number[] = [];
  for await (const x of pool.imapUnordered("sqr", range(20))) unordered.push(x);
  assert.deepEqual(
    unordered.sort((a, b) => a - b),
    range(20).map((i) => i * i),
  );
  assert.deepEqual(await pool.map("sqr", []), []);
});

Deno.test("process pool: AsyncResult get/timeout and callbacks (CPython test_async, test_async_timeout, test_map_async_callbacks)", async () => {
  await using pool = makePool();
  const r = pool.applyAsync("sqrWait", [3, 10]);
  assert.equal(await r.get(GUARD), 9);
  assert.ok(r.ready() && r.successful());
  const slow = pool.applyAsync("sqrWait", [4, 2_000]);
  await assert.rejects(slow.get(1), TimeoutError);
  assert.equal(await slow.get(GUARD), 16);
  const seen: number[][] = [];
  await pool.mapAsync("sqr", [1, 2], undefined, {
    callback: (v) => seen.push(v),
  }).get();
  assert.deepEqual(seen, [[1, 4]]);
});

Deno.test("process pool: values cross by structured clone's types", async () => {
  await using pool = makePool({ processes: 1 });
  const v = {
    m: new Map([[1, "a"]]),
    s: new Set([2]),
    f: new Float64Array([1.5]),
    b: 2n ** 70n,
    d: new Date(5),
    u: undefined,
  };
  assert.deepEqual(await pool.apply("echo", [v]), v);
});

Deno.test("process pool: a throwing task rejects with RemoteError (CPython test_traceback)", async () => {
  await using pool = makePool({ processes: 1 });
  await assert.rejects(pool.apply("raising", ["boom"]), (e: Error) => {
    assert.ok(e instanceof RemoteError);
    assert.match(e.message, /RangeError.*boom|boom/);
    return true;
  });
  assert.equal(await pool.apply("sqr", [3]), 9);
});

Deno.test("process pool: initializer and maxtasksperchild (CPython _TestInitializers, test_pool_worker_lifetime)", async () => {
  await using pool = makePool({
    initializer: "init",
    initargs: [{ token: 42 }],
  });
  for (
    const g of await Promise.all(range(4).map(() => pool.apply("getInit")))
  ) {
    assert.deepEqual(g, { token: 42 });
  }
  const p2 = makePool({ processes: 1, maxtasksperchild: 2 });
  const pids = [];
  for (let i = 0; i < 6; i++) pids.push(await p2.apply("pid"));
  assert.ok(
    new Set(pids).size >= 3,
    `a fresh worker process every 2 tasks: ${pids}`,
  );
  p2.close();
  await p2.join();
});

Deno.test("process pool: terminate() rejects pending results (CPython test_terminate)", async () => {
  const pool = makePool();
  assert.equal(await pool.apply("sqr", [1]), 1);
  const res = range(4).map(() => pool.applyAsync("hang"));
  pool.terminate();
  for (const r of res) await assert.rejects(r.get(), PoolTerminatedError);
  await pool.join();
});

Deno.test("process pool: stats().workers lists the worker processes with their pids", async () => {
  await using pool = makePool();
  const got = new Set(
    await Promise.all(
      range(8).map(() =>
        pool.apply("sqrWait", [1, 20]).then(() => pool.apply("pid"))
      ),
    ),
  );
  const pids = pool.stats().workers.flatMap((w) => w.pid ?? []);
  assert.equal(pids.length, 2);
  for (const p of pids) {
    assert.notEqual(p, Deno.pid);
    assert.ok(alive(p));
  }
  for (const p of got) assert.ok(pids.includes(p));
});

async function crash(
  pool: Pool<Tasks>,
  kill: () => Promise<unknown>,
  pattern: RegExp,
): Promise<void> {
  const before = pool.stats().workers.flatMap((w) => w.pid ?? []);
  const others = range(6).map((i) => pool.apply("sqr", [i]));
  await assert.rejects(kill(), (e: Error) => {
    assert.ok(e instanceof WorkerLostError, String(e));
    assert.match(e.message, pattern);
    return true;
  });
  assert.deepEqual(await Promise.all(others), range(6).map((i) => i * i));
  // the worker was replaced: the pool keeps its size and keeps working
  assert.equal(await pool.apply("sqr", [9]), 81);
  assert.equal(pool.stats().workers.length, 2);
  // the replacement's pid shows once it has connected (bounded wait, a hang guard)
  for (
    let i = 0;
    i < 400 &&
    !pool.stats().workers.flatMap((w) => w.pid ?? []).some((p) =>
      !before.includes(p)
    );
    i++
  ) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(
    pool.stats().workers.flatMap((w) => w.pid ?? []).some((p) =>
      !before.includes(p)
    ),
    "a new worker process",
  );
  assert.equal(await pool.apply("sqr", [10]), 100);
}

Deno.test("process pool: a worker that exits fails only its task and is replaced", async () => {
  await using pool = makePool();
  await pool.map("sqr", range(4));
  await crash(
    pool,
    () => pool.apply("sqrOrExit", [3, 3]),
    /Deno\.exit\(7\)|exited with code 7/,
  );
});

Deno.test("process pool: a worker SIGKILLed from outside fails only its task and is replaced", async () => {
  await using pool = makePool();
  await pool.map("sqr", range(4));
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/pid`;
    await crash(pool, async () => {
      const hung = pool.apply("tellAndHang", [file]);
      let pid = NaN;
      for (let i = 0; i < 600 && Number.isNaN(pid); i++) {
        await new Promise((r) => setTimeout(r, 50));
        pid = Number(await Deno.readTextFile(file).catch(() => "NaN"));
      }
      Deno.kill(pid, "SIGKILL");
      return hung;
    }, /killed by signal 9/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("process pool: a worker out of memory (64 MiB cap) fails only its task and is replaced", async () => {
  await using pool = makePool({ memoryLimitMb: 64 });
  await pool.map("sqr", range(4));
  await crash(
    pool,
    () => pool.apply("hog"),
    /worker process \d+ (was killed by signal|exited with code)/,
  );
});

Deno.test("process pool: a worker that dies on its very first task is replaced (not taken for a worker that cannot start)", async () => {
  await using pool = makePool({ processes: 1, memoryLimitMb: 64 });
  // queued before the worker has started: it is the first thing it runs
  await assert.rejects(pool.apply("hog"), WorkerLostError);
  assert.equal(await pool.apply("sqr", [4]), 16);
});

Deno.test("process pool: a Pipe() end cannot be a task argument (TypeError), the pool keeps working", async () => {
  await using pool = makePool({ processes: 1 });
  const [a, b] = Pipe();
  await assert.rejects(
    pool.apply("echo", [b]),
    /Pipe\(\) end|MessagePort|cannot/i,
  );
  assert.equal(await pool.apply("sqr", [2]), 4);
  a.close();
  b.close();
});

Deno.test("process pool: memoryLimitMb needs runtime process; bad runtime is a TypeError", () => {
  assert.throws(
    () => new Pool(TASKS, { memoryLimitMb: 64 }),
    /runtime: "process"/,
  );
  // deno-lint-ignore no-explicit-any
  assert.throws(() => new Pool(TASKS, { runtime: "fork" as any }), TypeError);
  assert.throws(
    () => new Pool(TASKS, { runtime: "process", memoryLimitMb: 0 }),
    RangeError,
  );
});

function runIdle(args: string[]) {
  // no --unstable-worker-options: permissions are real flags of the workers
  return runScript(
    new URL("../fixtures/pool_process_idle.ts", import.meta.url),
    {
      flags: ["-A"],
      args,
    },
  );
}

Deno.test("process pool: an idle pool does not keep the program alive", async () => {
  const { code, stdout, stderr, exited } = await runIdle([]);
  assert.ok(exited, "the script exited by itself");
  assert.equal(code, 0, stderr);
  assert.equal(stdout.trim(), "49");
});

Deno.test("process pool: permissions are real flags, without --unstable-worker-options", async () => {
  const { code, stdout, stderr, exited } = await runIdle(["perms"]);
  assert.ok(exited, "the script exited by itself");
  assert.equal(code, 0, stderr);
  const got = JSON.parse(stdout.trim());
  assert.notEqual(got.net, "granted");
  assert.notEqual(got.write, "granted");
  assert.equal(got.read, "granted");
});
