// Process: CPython's _TestProcess (test_process, test_terminate, test_kill,
// test_active_children, test_recursion, test_sentinel, test_close's exit
// codes) plus the contract of API.md §6.

import assert from "node:assert/strict";
import { Pipe } from "../../connection/pipe.ts";
import { Listener } from "../../connection/listener.ts";
import { EOFError } from "../../connection/errors.ts";
import { SyncManager } from "../../manager/mod.ts";
import { Value } from "../../sharedmem/mod.ts";
import { activeChildren, currentProcess, Process } from "../../process/mod.ts";
import {
  alive,
  deadline,
  runParent,
  spawnParent,
  TARGETS,
} from "./_helpers.ts";

const GUARD = 60_000;

Deno.test("test_process: name, args, pid, isAlive, activeChildren, exitCode", async () => {
  const [r, w] = Pipe();
  const p = new Process({
    module: TARGETS,
    target: "sendBack",
    args: [w, 1, 2, { hello: 23, bye: 2.54 }],
    name: "SomeProcess",
  });
  assert.equal(p.isAlive(), false);
  assert.equal(p.pid, undefined);
  assert.ok(!activeChildren().includes(p));
  assert.ok(Array.isArray(activeChildren()));
  assert.equal(p.exitCode, null);

  await deadline(p.start(), GUARD, "start");
  assert.equal(p.exitCode, null);
  assert.equal(p.isAlive(), true);
  assert.ok(activeChildren().includes(p));
  assert.equal(typeof p.pid, "number");
  assert.notEqual(p.pid, Deno.pid);

  const got = await r.recv<{ name: string; pid: number; values: unknown[] }>();
  assert.deepEqual(got.values, [1, 2, { hello: 23, bye: 2.54 }]);
  assert.equal(got.name, "SomeProcess");
  assert.equal(got.pid, p.pid);
  assert.equal(p.isAlive(), true); // it waits for "bye"
  await r.send("bye");

  assert.equal(await deadline(p.join(), GUARD, "join"), 0);
  assert.equal(p.exitCode, 0);
  assert.equal(p.isAlive(), false);
  assert.ok(!activeChildren().includes(p));
  // the child's end closed when it exited: end of stream here
  await assert.rejects(r.recv(), EOFError);
  r.close();
});

Deno.test("currentProcess() is MainProcess here; children are named Process-N", () => {
  assert.equal(currentProcess().name, "MainProcess");
  assert.equal(currentProcess().pid, Deno.pid);
  const a = new Process({ module: TARGETS, target: "noop" });
  const b = new Process({ module: TARGETS, target: "noop" });
  const n = Number(a.name.slice("Process-".length));
  assert.match(a.name, /^Process-\d+$/);
  assert.equal(b.name, `Process-${n + 1}`);
});

async function killProcess(how: "terminate" | "kill"): Promise<number | null> {
  const [r, w] = Pipe(false);
  const p = new Process({ module: TARGETS, target: "forever", args: [w] });
  await deadline(p.start(), GUARD, "start");
  assert.equal(await r.recv(), "running");
  assert.equal(p.isAlive(), true);
  assert.ok(activeChildren().includes(p));
  assert.equal(p.exitCode, null);
  assert.equal(await p.join(0), null);
  assert.equal(p.isAlive(), true);
  assert.equal(await p.join(-1), null);
  assert.equal(p.isAlive(), true);
  p[how]();
  const code = await deadline(p.join(), GUARD, "join");
  assert.equal(p.isAlive(), false);
  assert.ok(!activeChildren().includes(p));
  assert.equal(await p.join(), code);
  r.close();
  return p.exitCode;
}

Deno.test("test_terminate: exitCode is -SIGTERM", async () => {
  assert.equal(await killProcess("terminate"), -15);
});

Deno.test("test_kill: exitCode is -SIGKILL", async () => {
  assert.equal(await killProcess("kill"), -9);
});

Deno.test("test_close exit codes: 1 when the target throws, Deno.exit(n) gives n", async (t) => {
  await t.step("throws", async () => {
    const p = new Process({
      module: TARGETS,
      target: "throws",
      args: ["boom"],
      stderr: "null",
    });
    await p.start();
    assert.equal(await deadline(p.join(), GUARD, "join"), 1);
  });
  for (const rc of [0, 3, 255]) {
    await t.step(`Deno.exit(${rc})`, async () => {
      const p = new Process({
        module: TARGETS,
        target: "exitWith",
        args: [rc],
      });
      await p.start();
      assert.equal(await deadline(p.join(), GUARD, "join"), rc);
      assert.equal(p.exitCode, rc);
    });
  }
});

Deno.test("a target that throws prints its stack on the child's stderr", async () => {
  const { stdout, stderr } = await runParent(["-A"], ["throw"]);
  assert.equal(stdout.trim(), "1");
  assert.match(stderr, /Process Process-1:/);
  assert.match(stderr, /RangeError: boom/);
  assert.match(stderr, /targets\.ts/);
});

Deno.test("test_active_children", async () => {
  assert.ok(Array.isArray(activeChildren()));
  const [a, b] = Pipe();
  // sendBack waits for "bye": the child is alive until then
  const p = new Process({ module: TARGETS, target: "sendBack", args: [b] });
  assert.ok(!activeChildren().includes(p));
  await p.start();
  assert.ok(activeChildren().includes(p));
  await a.recv();
  await a.send("bye");
  await deadline(p.join(), GUARD, "join");
  assert.ok(!activeChildren().includes(p));
  a.close();
});

Deno.test("test_recursion: children start children (names Process-1:2…)", async () => {
  await using m = await SyncManager.start();
  const queue = await m.Queue();
  const p = new Process({
    module: TARGETS,
    target: "recursion",
    args: [queue, []],
  });
  await p.start();
  assert.equal(await deadline(p.join(), GUARD, "join"), 0);
  const got: { id: number[]; name: string }[] = [];
  while (!(await queue.empty())) {
    got.push(await queue.get() as { id: number[]; name: string });
  }
  assert.deepEqual(got.map((m) => m.id), [
    [],
    [0],
    [0, 0],
    [0, 1],
    [1],
    [1, 0],
    [1, 1],
  ]);
  // CPython's names: a child's children are "Process-<its identity>:<n>"
  assert.equal(got[0]!.name, p.name);
  assert.equal(got[1]!.name, `${p.name}:1`);
  assert.equal(got[2]!.name, `${p.name}:1:1`);
  assert.equal(got[4]!.name, `${p.name}:2`);
  assert.equal(got[5]!.name, `${p.name}:2:1`);
});

Deno.test("test_sentinel: join(0) is null while the child waits, then its exit code", async () => {
  await using m = await SyncManager.start();
  const event = await m.Event();
  const p = new Process({
    module: TARGETS,
    target: "waitEvent",
    args: [event],
  });
  await p.start();
  assert.equal(await p.join(0), null);
  await event.set();
  assert.equal(await deadline(p.join(), GUARD, "join"), 0);
  assert.equal(await p.join(0), 0);
});

Deno.test("manager proxies arrive as working proxies", async () => {
  await using m = await SyncManager.start();
  const value = await m.Value("i", 41);
  const queue = await m.Queue();
  const p = new Process({
    module: TARGETS,
    target: "useProxies",
    args: [value, queue],
    name: "prox",
  });
  await p.start();
  assert.equal(await deadline(p.join(), GUARD, "join"), 0);
  assert.equal(await value.get(), 42);
  assert.deepEqual(await queue.get(), ["from", "prox"]);
});

Deno.test("a duplex Pipe end is relayed both ways", async () => {
  const [a, b] = Pipe();
  const p = new Process({ module: TARGETS, target: "echo", args: [b] });
  await p.start();
  for (const v of [1, "two", { three: [3] }, new Uint8Array([4, 5])]) {
    await a.send(v);
    assert.deepEqual(await a.recv(), v);
  }
  await a.send("stop");
  assert.equal(await deadline(p.join(), GUARD, "join"), 0);
  await assert.rejects(a.recv(), EOFError);
  a.close();
});

Deno.test("a Listener address is usable by the child", async () => {
  await using listener = new Listener({ authkey: "k" });
  const accepted = listener.accept();
  const p = new Process({
    module: TARGETS,
    target: "dial",
    args: [listener.address as string, "k"],
  });
  await p.start();
  await using conn = await deadline(accepted, GUARD, "accept");
  assert.equal(await conn.recv(), `hello from ${p.pid}`);
  assert.equal(await deadline(p.join(), GUARD, "join"), 0);
});

Deno.test("a sharedmem object in args is a TypeError naming its path; nothing starts", async () => {
  const v = new Value("i", 1);
  const p = new Process({
    module: TARGETS,
    target: "noop",
    args: [1, { deep: [v] }],
  });
  await assert.rejects(p.start(), (e: Error) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /args\[1\]\.deep\[0\]/);
    assert.match(e.message, /cannot cross processes/);
    return true;
  });
  assert.equal(p.pid, undefined);
  assert.ok(!activeChildren().includes(p));
  const raw = new Process({
    module: TARGETS,
    target: "noop",
    args: [new SharedArrayBuffer(8)],
  });
  await assert.rejects(raw.start(), TypeError);
});

Deno.test("a function in args is a TypeError naming its path; nothing starts", async () => {
  const p = new Process({
    module: TARGETS,
    target: "noop",
    args: [{ f: () => 1 }],
  });
  await assert.rejects(p.start(), /args\[0\]\.f.*function/);
  assert.equal(p.pid, undefined);
});

Deno.test("start() rejects clearly when the child cannot run the target", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/bad.ts`, "export const x = ;\n");
    const cases: [string, ProcessOptionsLike, RegExp][] = [
      [
        "missing export",
        { module: TARGETS, target: "nope" },
        /no exported function.*nope|nope.*no exported function/,
      ],
      [
        "module not found",
        { module: `${dir}/missing.ts`, target: "f" },
        /Module not found/,
      ],
      [
        "syntax error",
        { module: `${dir}/bad.ts`, target: "f" },
        /Expression expected|SyntaxError/,
      ],
      [
        "self-import",
        {
          module: new URL("./fixtures/self_start.ts", import.meta.url).href,
          target: "f",
        },
        /Cannot start a Process while a worker or child process imports .*import\.meta\.main/,
      ],
    ];
    for (const [name, opts, re] of cases) {
      await t.step(name, async () => {
        const p = new Process({ ...opts, stderr: "null" });
        await assert.rejects(
          deadline(p.start(), GUARD, "start"),
          (e: Error) => {
            assert.match(e.message, /^Cannot start Process-/);
            assert.match(e.message, re);
            return true;
          },
        );
        assert.equal(p.isAlive(), false);
        assert.equal(await p.join(), 1);
        assert.ok(!activeChildren().includes(p));
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
type ProcessOptionsLike = { module: string; target: string };

Deno.test("start() twice rejects; join() before start() rejects", async () => {
  const p = new Process({ module: TARGETS, target: "noop" });
  await assert.rejects(p.join(), /not started/);
  await p.start();
  await assert.rejects(p.start(), /started already/);
  assert.equal(await deadline(p.join(), GUARD, "join"), 0);
});

Deno.test("permissions are real flags of the child; env and cwd are set", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const secret = `${dir}/secret.txt`;
    await Deno.writeTextFile(secret, "x");
    const [a, b] = Pipe();
    const p = new Process({
      module: TARGETS,
      target: "environment",
      args: [b, "MPROC_TEST_VAR", secret],
      permissions: { read: false, net: false, env: ["MPROC_TEST_VAR"] },
      env: { MPROC_TEST_VAR: "set" },
      cwd: dir,
    });
    await p.start();
    const got = await a.recv<
      { env: string; cwd: string; read: string; net: string }
    >();
    assert.equal(got.env, "set");
    assert.equal(await Deno.realPath(got.cwd), await Deno.realPath(dir));
    assert.equal(got.read, "NotCapable");
    assert.notEqual(got.net, "granted");
    assert.equal(await deadline(p.join(), GUARD, "join"), 0);
    a.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("by default a child gets what this process was granted, no more", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/f.txt`;
    await Deno.writeTextFile(file, "x");
    const cases: [string, string[]][] = [
      ["inherited kinds", ["--allow-read", "--allow-env"]],
      // lists are read from the parent's command line
      ["inherited lists", [`--allow-read=${dir}`, "--allow-env=HOME"]],
    ];
    for (const [name, flags] of cases) {
      await t.step(name, async () => {
        const { stdout, stderr } = await runParent(
          [...flags, "--allow-write", "--allow-run", "--allow-net=127.0.0.1"],
          ["inherit", file],
        );
        assert.ok(stdout.trim(), stderr);
        const got = JSON.parse(stdout.trim());
        assert.equal(got.read, "ok");
        assert.equal(typeof got.env, "string");
        assert.notEqual(got.net, "granted");
      });
    }
    await t.step(
      "asking for more is refused before anything starts",
      async () => {
        const { stdout } = await runParent(
          [
            "--allow-read",
            "--allow-write",
            "--allow-run",
            "--allow-env",
            "--allow-net=127.0.0.1",
          ],
          ["escalate"],
        );
        assert.match(
          stdout,
          /NotCapable: Cannot start the child with net permission/,
        );
        assert.match(stdout, /--allow-net/);
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the parent's --unstable-* flags travel to the child", async () => {
  const withFlag = await runParent(["-A", "--unstable-kv"], ["unstable"]);
  assert.equal(withFlag.stdout.trim(), "function", withFlag.stderr);
  const without = await runParent(["-A"], ["unstable"]);
  assert.equal(without.stdout.trim(), "undefined", without.stderr);
});

Deno.test("memoryLimitMb caps the child's heap: it dies, the parent lives", async () => {
  const p = new Process({
    module: TARGETS,
    target: "hog",
    memoryLimitMb: 64,
    stderr: "null",
  });
  await p.start();
  const code = await deadline(p.join(), GUARD, "join");
  assert.notEqual(code, 0);
  assert.notEqual(code, null);
});

Deno.test("aborting the signal terminates the child; an aborted signal stops start()", async () => {
  const ac = new AbortController();
  const [r, w] = Pipe(false);
  const p = new Process({
    module: TARGETS,
    target: "forever",
    args: [w],
    signal: ac.signal,
  });
  await p.start();
  assert.equal(await r.recv(), "running");
  ac.abort();
  assert.equal(await deadline(p.join(), GUARD, "join"), -15);
  r.close();
  const q = new Process({
    module: TARGETS,
    target: "noop",
    signal: AbortSignal.abort(new Error("no")),
  });
  await assert.rejects(q.start(), /no/);
  assert.equal(q.pid, undefined);
});

Deno.test("await using terminates a running child and waits for it", async () => {
  const [r, w] = Pipe(false);
  let pid: number | undefined;
  {
    await using p = new Process({
      module: TARGETS,
      target: "forever",
      args: [w],
    });
    await p.start();
    pid = p.pid;
    assert.equal(await r.recv(), "running");
  }
  assert.ok(pid !== undefined && !alive(pid));
  r.close();
});

Deno.test("a joined Process does not keep the program alive", async () => {
  const { code, stdout } = await runParent(["-A"], ["joined"]);
  assert.equal(code, 0);
  assert.equal(stdout.trim(), "0");
});

Deno.test("no orphans: the child exits when its parent is SIGKILLed", async () => {
  const parent = spawnParent(["-A"], ["orphan"]);
  const stderr = new Response(parent.stderr).text();
  const reader = parent.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await deadline(
        reader.read(),
        GUARD,
        "the child's pid",
      );
      if (done) break;
      text += value;
    }
    const pid = Number(text.trim());
    assert.ok(pid > 0 && alive(pid), `no child pid: ${text}`);
    parent.kill("SIGKILL");
    await parent.status;
    // bounded wait (a hang guard): the child notices the closed control socket
    for (let i = 0; i < 200 && alive(pid); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(!alive(pid), `child ${pid} outlived its parent`);
  } finally {
    try {
      parent.kill("SIGKILL");
    } catch {
      // gone
    }
    await parent.status;
    await reader.cancel();
    await stderr;
  }
});
