// AsyncResult on its own (settled by hand through the internal settle()).
import assert from "node:assert/strict";
import { AsyncResult, TimeoutError } from "../../pool/mod.ts";
import { settle } from "../../pool/async_result.ts";

Deno.test("AsyncResult settles once, runs the matching callback and is awaitable", async () => {
  const seen: unknown[] = [];
  const r = new AsyncResult<number>({
    callback: (v) => seen.push(v),
    errorCallback: (e) => seen.push(e),
  });
  assert.equal(r.ready(), false);
  settle(r, true, 5);
  settle(r, false, new Error("ignored"));
  assert.deepEqual(seen, [5]);
  assert.equal(await r, 5);
  assert.equal(await r.get(0), 5);
  assert.ok(r.successful());
});

Deno.test("AsyncResult.wait(ms) resolves on timeout without rejecting; get(ms) rejects with TimeoutError", async () => {
  const r = new AsyncResult<string>();
  await r.wait(5);
  assert.equal(r.ready(), false);
  await assert.rejects(r.get(5), TimeoutError);
  const later = r.get();
  settle(r, true, "ok");
  assert.equal(await later, "ok");
});

Deno.test("A failed AsyncResult nobody awaits raises no unhandled rejection", async () => {
  const r = new AsyncResult<number>();
  settle(r, false, new Error("boom"));
  // give the event loop a turn: an unhandled rejection would fail this test
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(r.successful(), false);
  await assert.rejects(r.get(), /boom/);
});

Deno.test("AsyncResult rejects bad timeouts with a TypeError", () => {
  const r = new AsyncResult<number>();
  assert.throws(() => r.get("1" as unknown as number), TypeError);
  assert.throws(() => r.wait(Number.NaN), TypeError);
});

Deno.test("AsyncResult.get(ms) with Infinity or beyond the timer limit keeps waiting", async () => {
  for (const ms of [Infinity, 2 ** 31, 1e12]) {
    const r = new AsyncResult<number>();
    const got = r.get(ms);
    const waited = r.wait(ms);
    // a timer overflowing to 1 ms would have fired by the next macrotask
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(r.ready(), false);
    settle(r, true, 7);
    assert.equal(await got, 7);
    await waited;
  }
});
