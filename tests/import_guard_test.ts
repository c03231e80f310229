// The self-import runaway guard (_import_guard.ts, API.md §9).
import assert from "node:assert/strict";
import {
  assertNotImporting,
  importGuarded,
  importingNow,
} from "../_import_guard.ts";

Deno.test("assertNotImporting throws only while importGuarded runs, naming the module and the fix", async () => {
  assertNotImporting("Pool");
  const url = "file:///tmp/tasks.ts";
  let thrown: unknown;
  await importGuarded(url, () => {
    try {
      assertNotImporting("Manager");
    } catch (e) {
      thrown = e;
    }
    return Promise.resolve();
  });
  assert.ok(thrown instanceof Error);
  assert.match(
    thrown.message,
    /^Cannot start a Manager while a worker or child process imports file:\/\/\/tmp\/tasks\.ts: the module starts a Manager at top level; put it under `if \(import\.meta\.main\)`$/,
  );
  assert.equal(importingNow(), undefined);
  assertNotImporting("Process");
});

Deno.test("importGuarded clears the flag when the import fails", async () => {
  await assert.rejects(
    importGuarded("file:///tmp/x.ts", () => Promise.reject(new Error("nope"))),
    /nope/,
  );
  assertNotImporting("Pool");
});
