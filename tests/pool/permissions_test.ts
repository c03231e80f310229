// The `permissions` option runs workers with restricted Deno permissions.
import assert from "node:assert/strict";
import { makePool } from "./_helpers.ts";

Deno.test("permissions: { net: false } denies the network in the workers only", async () => {
  await using restricted = makePool({
    processes: 1,
    permissions: { net: false },
  });
  assert.match(
    await restricted.apply("tryListen"),
    /NotCapable|PermissionDenied/,
  );
  // kinds not named are inherited: the worker could read its task module
  assert.equal(await restricted.apply("sqr", [3]), 9);
  await using open = makePool({ processes: 1 });
  assert.equal(await open.apply("tryListen"), "ok");
});

Deno.test("permissions without --unstable-worker-options gives a clear error", async () => {
  const script = new URL(
    "../fixtures/pool_permissions_noflag.ts",
    import.meta.url,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-lock", script.pathname],
    cwd: new URL("../..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(
    stdout,
    /threw: Cannot restrict the permissions of pool workers as Deno needs the --unstable-worker-options flag/,
  );
});

Deno.test('permissions: "none" fails clearly when the workers cannot read the task module', async () => {
  const pool = makePool({ processes: 1, permissions: "none" });
  await assert.rejects(
    pool.apply("sqr", [2]),
    /failed to start.*(read|NotCapable)/i,
  );
  await pool.join();
});
