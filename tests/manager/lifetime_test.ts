// API.md §9 for managers: an idle manager never keeps its program alive (a
// waiting call does), its private socket dir is removed on every way out but
// SIGKILL, and a module starting a manager of itself at top level is refused
// in the server Worker. Each program runs in a subprocess with its own TMPDIR.

import assert from "node:assert/strict";

const FIXTURES = new URL("../fixtures/", import.meta.url);
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
/** Hang guard only: every program here ends by itself well before. */
const DEADLINE = 30_000;

interface Run {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
  /** What is left in the program's TMPDIR. */
  left: string[];
}

async function run(
  fixture: string,
  args: string[],
  opts: { signal?: Deno.Signal; perms?: string[] } = {},
): Promise<Run> {
  const tmp = await Deno.makeTempDir({ prefix: "mproc-lifetime-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...(opts.perms ?? ["-A"]),
        "--no-check",
        "--config",
        CONFIG,
        new URL(fixture, FIXTURES).pathname,
        ...args,
      ],
      env: { TMPDIR: tmp },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const guard = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone
      }
    }, DEADLINE);
    let stdout = "";
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    const stderrText = new Response(child.stderr).text();
    let signalled = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      stdout += value;
      if (opts.signal && !signalled && stdout.includes("ready\n")) {
        signalled = true;
        child.kill(opts.signal);
      }
    }
    const status = await child.status;
    clearTimeout(guard);
    const left: string[] = [];
    for await (const e of Deno.readDir(tmp)) left.push(e.name);
    return {
      code: status.code,
      signal: status.signal,
      stdout,
      stderr: await stderrText,
      left,
    };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

function clean(r: Run): void {
  assert.deepEqual(
    r.left,
    [],
    `the manager's temp dir was left behind: ${r.left.join(", ")}\n${r.stderr}`,
  );
}

Deno.test("the CPython door is loaded on demand: listen({ python }) alone is refused, serve({ python }) loads it", async () => {
  const r = await run("manager_door_on_demand.ts", []);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /listen: TypeError: Cannot serve CPython clients as the CPython door is not loaded: use SyncManager\.serve\(\{ python \}\)/,
  );
  assert.match(r.stdout, /serve: python address object/);
  clean(r);
});
Deno.test("a script that uses a manager and ends exits by itself, its socket dir removed", async () => {
  const r = await run("manager_exit.ts", ["end"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /used 1/);
  clean(r);
});

Deno.test("a Manager() that fails on a bad address rejects naming it and leaves no Worker keeping the program alive", async () => {
  // A symbol address used to throw inside the Worker's postMessage after the
  // Worker had started: the rejection came, and the program never exited.
  const r = await run("manager_bad_start.ts", []);
  assert.equal(r.signal, null, `killed by the hang guard:\n${r.stdout}`);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /started\?!/);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 5, r.stdout);
  for (const line of lines) {
    assert.match(
      line,
      /^rejected TypeError: Cannot (use|parse) the address as /,
    );
  }
  clean(r);
});

Deno.test("Deno.exit(0) with a live manager removes its socket dir", async () => {
  const r = await run("manager_exit.ts", ["exit"]);
  assert.equal(r.code, 0, r.stderr);
  clean(r);
});

Deno.test("an uncaught throw with a live manager removes its socket dir", async () => {
  const r = await run("manager_exit.ts", ["throw"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /boom/);
  clean(r);
});

Deno.test("an unhandled rejection with a live manager removes its socket dir", async () => {
  const r = await run("manager_exit.ts", ["reject"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /rejected/);
  clean(r);
});

for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`${sig} with a live manager removes its socket dir and exits ${code}`, async () => {
    const r = await run("manager_exit.ts", ["signal"], { signal: sig });
    assert.equal(r.code, code, r.stderr);
    assert.doesNotMatch(r.stdout, /no signal came/);
    clean(r);
  });
}

Deno.test("a call waiting for its reply keeps the program alive until it settles", async () => {
  const r = await run("manager_exit.ts", ["pending"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /pending call settled: Empty/);
  clean(r);
});

Deno.test("a module starting a manager of itself at top level is refused in the server Worker, naming the fix", async () => {
  const r = await run("manager_self_start.ts", []);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^error Error: Cannot start a Manager while a worker or child process imports file:.*manager_self_start\.ts: the module starts a Manager at top level; put it under `if \(import\.meta\.main\)`$/m,
  );
  // The program's own start (not an import) goes on and works.
  assert.match(r.stdout, /^result 1$/m);
  assert.doesNotMatch(r.stdout + r.stderr, /runaway/);
  clean(r);
});

for (
  const [missing, perms] of [
    ["net", ["--allow-read", "--allow-write"]],
    ["write", ["--allow-read"]],
    ["read", ["--allow-write", "--allow-net"]],
  ] as const
) {
  Deno.test(`without --allow-${missing}, Manager() rejects naming every flag it needs; nothing is left behind`, async () => {
    const r = await run("manager_exit.ts", ["end"], { perms: [...perms] });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `NotCapable: Cannot start the manager as Deno denied ${missing} access: run with --allow-read --allow-write --allow-net`,
      ),
    );
    clean(r);
  });
}

for (const kind of ["web", "node"] as const) {
  Deno.test(`the ${kind} kind of server Worker, unref'd while serving, never keeps the program alive`, async () => {
    const r = await run("manager_thread.ts", [kind]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${kind} ready, hello hello$`, "m"));
  });

  Deno.test(`the ${kind} kind of server Worker shuts down, its socket dir removed`, async () => {
    const r = await run("manager_thread.ts", [kind, "shutdown"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^closed$/m);
    clean(r);
  });
}
