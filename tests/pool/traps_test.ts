// Regression tests for the traps of issue 9 §2: each failed on the main of
// before the issue (a hang, a runaway, a wrong result or a lost field).
import assert from "node:assert/strict";
import { RemoteError } from "../../pool/mod.ts";
import { makePool, runScript } from "./_helpers.ts";

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
    /^error WorkerLostError: .*Cannot start a Pool while a worker imports file:\/\/.*pool_self_start\.ts: the module starts a Pool at top level; put it under `if \(import\.meta\.main\)`/m,
  );
  assert.equal(r.code, 0);
});
