// CPython's "using a remote manager": a separate `deno run` serves a queue
// on TCP with an authkey (manager/cli.ts); this process and another
// `deno run` connect and put/get.

import assert from "node:assert/strict";
import { AuthenticationError } from "../../connection/mod.ts";
import { SyncManager } from "../../manager/mod.ts";
import { QueueManager2 } from "../fixtures/manager_types.ts";

const CLI = new URL("../../manager/cli.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const TYPES = new URL("../fixtures/manager_types.ts", import.meta.url).pathname;
const PUTTER =
  new URL("../fixtures/manager_putter.ts", import.meta.url).pathname;

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    for (let i = 0; i < 1000 && !text.includes("\n"); i++) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  } finally {
    reader.releaseLock();
  }
  return text.split("\n")[0]!;
}

Deno.test("a queue served by another deno process over TCP with an authkey", async () => {
  const authkey = "remote-secret";
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--config",
      CONFIG,
      CLI,
      "--module",
      TYPES,
      "--address",
      "127.0.0.1:0",
      "--stdin-eof",
    ],
    env: { MPROC_AUTHKEY: authkey },
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const stdout = server.stdout;
  try {
    const { address, epoch } = JSON.parse(await firstLine(stdout));
    assert.equal(typeof epoch, "string");
    // Another `deno run` puts CPython's test values.
    const putter = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", CONFIG, PUTTER, JSON.stringify(address)],
      env: { MPROC_AUTHKEY: authkey },
      stdout: "piped",
      stderr: "inherit",
    }).output();
    assert.equal(putter.code, 0);
    // This process gets them, and uses the built-in types too.
    await using m = await QueueManager2.connect({ address, authkey });
    const queue = await m.create<
      { get(): unknown; put(v: unknown): void; qsize(): number }
    >("get_queue");
    assert.deepEqual(await queue.get(), [
      "hello world",
      null,
      true,
      2.25,
      "hallå världen",
      "привіт світ",
      new TextEncoder().encode("hallå världen"),
    ]);
    await queue.put("back");
    assert.equal(await queue.qsize(), 1);
    await using sm = await SyncManager.connect({ address, authkey });
    const d = await sm.dict({ a: 1 });
    assert.equal(await d.get("a"), 1);
    await assert.rejects(
      SyncManager.connect({ address, authkey: "wrong" }),
      AuthenticationError,
    );
  } finally {
    await server.stdin.close();
    await stdout.cancel().catch(() => {});
    const status = await server.status;
    assert.equal(status.code, 0);
  }
});
