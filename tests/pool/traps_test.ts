// Regression tests for the traps of issue 9 §2: each failed on the main of
// before the issue (a hang, a runaway, a wrong result or a lost field).
import assert from "node:assert/strict";
import { Pipe } from "../../connection/mod.ts";
import { RemoteError } from "../../pool/mod.ts";
import { sqr } from "../fixtures/pool_tasks.ts";
import { flag, makePool, runScript, waitFlag } from "./_helpers.ts";

Deno.test("A custom Error subclass thrown by a task keeps its name and own cloneable fields", async () => {
  await using pool = makePool({ processes: 1 });
  const err = await pool.apply("throwQuota").then(() => undefined, (e) => e);
  assert.ok(err instanceof RemoteError);
  assert.equal(err.remoteName, "QuotaError");
  assert.equal(err.remoteMessage, "over quota");
  const own = err as unknown as Record<string, unknown>;
  assert.equal(own.code, "E_QUOTA");
  assert.equal(own.limit, 3);
  assert.equal("callback" in err, false);
  const orig = err.cause as Error & { code: string };
  assert.equal(orig.name, "QuotaError");
  assert.equal(orig.code, "E_QUOTA");
  assert.equal((orig.cause as Error).name, "TypeError");
  // in a map too
  const e2 = await pool.map("throwQuota", [1]).then(() => undefined, (e) => e);
  assert.equal((e2 as RemoteError).remoteName, "QuotaError");
});

Deno.test("A task module that starts a Pool of itself at top level is refused in the worker, naming the fix", async () => {
  const script = new URL("../fixtures/pool_self_start.ts", import.meta.url);
  const r = await runScript(script, { env: { MPROC_TEST_SELF_DEPTH: "0" } });
  assert.ok(r.exited, `the script did not exit: ${r.stdout}\n${r.stderr}`);
  assert.doesNotMatch(r.stdout + r.stderr, /runaway/);
  assert.match(
    r.stdout,
    /^error WorkerLostError: .*Cannot start a Pool while a worker or child process imports file:\/\/.*pool_self_start\.ts: the module starts a Pool at top level; put it under `if \(import\.meta\.main\)`/m,
  );
  assert.equal(r.code, 0);
});

Deno.test("A script that is its own task module can pass the export itself from top-level await (no self-import deadlock)", async () => {
  // Importing the main module while its top-level await runs waits for that
  // await: the look-alike check must not import it (it hung before).
  const script = new URL("../fixtures/pool_main_ref.ts", import.meta.url);
  const r = await runScript(script);
  assert.ok(r.exited, `the script did not exit: ${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^map \[1,4,9\]$/m);
  assert.match(r.stdout, /^apply 16$/m);
  assert.equal(r.code, 0);
});

for (const mode of ["idle", "pending", "permissions"]) {
  Deno.test(
    `A script that ends with its Pool ${
      mode === "pending"
        ? "still running a task"
        : mode === "idle"
        ? "idle"
        : "idle (workers with permissions)"
    } exits by itself (API.md §9)`,
    async () => {
      const script = new URL("../fixtures/pool_forgotten.ts", import.meta.url);
      const r = await runScript(script, { args: [mode], ms: 30_000 });
      assert.ok(r.exited, `the script did not exit: ${r.stdout}\n${r.stderr}`);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^sqr 49$/m);
      // a pending task keeps the process alive until it settles
      if (mode === "pending") assert.match(r.stdout, /^late number$/m);
    },
  );
}

Deno.test("An argument that cannot be transferred fails its task only: the next task runs and close() + join() resolves", async () => {
  const pool = makePool({ processes: 1 });
  const [a, b] = Pipe();
  a.close(); // a closed end cannot be transferred
  await assert.rejects(pool.apply("identity", [a]), /closed/);
  const next = pool.applyAsync("sqr", [3]);
  assert.equal(await next.get(30_000), 9);
  // in a map and among other applies too
  await assert.rejects(pool.map("identity", [1, a]), /closed/);
  const burst = [
    pool.applyAsync("sqr", [1]),
    pool.applyAsync("identity", [a]),
    pool.applyAsync("sqr", [2]),
  ];
  assert.equal(await burst[0]!.get(30_000), 1);
  await assert.rejects(burst[1]!.get(30_000), /closed/);
  assert.equal(await burst[2]!.get(30_000), 4);
  assert.deepEqual(pool.stats().queued, 0);
  pool.close();
  await pool.join();
  b.close();
});

Deno.test("A function passed by reference must be the task module's export: a look-alike is refused with a TypeError", async () => {
  await using pool = makePool({ processes: 1 });
  // the export itself runs
  assert.equal(await pool.apply(sqr, [4]), 16);
  // a local function named like an export must not run the export
  function sqrLookAlike(x: number): number {
    return -x;
  }
  Object.defineProperty(sqrLookAlike, "name", { value: "sqr" });
  await assert.rejects(
    pool.apply(sqrLookAlike as typeof sqr, [4]),
    (e: unknown) =>
      e instanceof TypeError &&
      /Cannot run the function sqr as it is not the export 'sqr' of the task module .*pool_tasks\.ts: pass that export \(imported from the module\) or its name/
        .test(e.message),
  );
  await assert.rejects(
    pool.map(sqrLookAlike as typeof sqr, [1, 2]),
    TypeError,
  );
  const it = pool.imap(sqrLookAlike as typeof sqr, [1, 2]);
  await assert.rejects(it.next(), TypeError);
  // by name, and the export again, still fine
  assert.equal(await pool.apply("sqr", [5]), 25);
  assert.deepEqual(await pool.map(sqr, [1, 2, 3]), [1, 4, 9]);
});

Deno.test("Every Promise-returning Pool method rejects instead of throwing", async () => {
  const pool = makePool({ processes: 1 });
  const calls: [string, () => PromiseLike<unknown>][] = [
    ["apply(anonymous)", () => pool.apply((() => 1) as never, [] as never)],
    ["apply(non-function)", () => pool.apply(42 as never, [] as never)],
    ["apply(args not an array)", () => pool.apply("sqr", 3 as never)],
    ["apply(a function argument)", () => pool.apply("identity", [() => 1])],
    ["applyAsync(a symbol)", () => pool.applyAsync("identity", [Symbol()])],
    ["map(not iterable)", () => pool.map("sqr", 5 as never)],
    ["map(bad chunksize)", () => pool.map("sqr", [1], 0)],
    ["mapAsync(a function item)", () => pool.mapAsync("identity", [() => 1])],
    ["starmap(item not an array)", () => pool.starmap("mul", [3] as never)],
    ["starmapAsync(bad chunksize)", () => pool.starmapAsync("mul", [], -1)],
    ["join() while running", () => pool.join()],
  ];
  for (const [what, call] of calls) {
    let p: PromiseLike<unknown>;
    try {
      p = call();
    } catch (e) {
      assert.fail(`${what} threw synchronously: ${e}`);
    }
    await assert.rejects(Promise.resolve(p), Error, what);
  }
  pool.close();
  await pool.join();
  const closed = [
    () => pool.apply("sqr", [1]),
    () => pool.map("sqr", [1]),
    () => pool.applyAsync("sqr", [1]),
  ];
  for (const call of closed) {
    await assert.rejects(Promise.resolve(call()), /not running/);
  }
});

Deno.test("Aborted hung tasks do not eat the pool: processes workers keep serving while they drain their grace", async () => {
  // abortGrace is far longer than the hang guard: a pool that waited for
  // the aborted tasks' workers would not finish the map in time
  const pool = makePool({ processes: 2, abortGrace: 120_000 });
  try {
    for (let round = 0; round < 3; round++) {
      const hung = [flag(), flag()].map((f) => {
        const ac = new AbortController();
        const res = pool.applyAsync("blockForever", [f], { signal: ac.signal });
        return { f, ac, res };
      });
      for (const h of hung) await waitFlag(h.f);
      for (const h of hung) h.ac.abort("hung");
      for (const h of hung) {
        await assert.rejects(h.res.get(), (e) => e === "hung");
      }
      // both workers are stuck in blockForever, yet the pool serves
      const squares = await deadline(
        pool.map("sqr", Array.from({ length: 40 }, (_, i) => i), 1),
        30_000,
      );
      assert.equal(squares[39], 39 * 39);
      assert.equal(pool.stats().workers.length, 2);
    }
  } finally {
    pool.terminate(); // also stops the draining workers
    await pool.join();
  }
});

/** Rejects when `p` takes longer than `ms` (a hang guard). */
function deadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`not settled within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([p, guard]).finally(() => clearTimeout(timer));
}
