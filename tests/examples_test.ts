// The ports of the CPython docs' examples in examples/cpython_docs/: each
// runs as a user would run it, in a subprocess with its own TMPDIR, exits by
// itself, prints what CPython's prints, and leaves nothing in its TMPDIR.
import assert from "node:assert/strict";

const DIR = new URL("../examples/cpython_docs/", import.meta.url);
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

const expected: Record<string, RegExp[]> = {
  "pool_map.ts": [/^\[ 1, 4, 9 \]$/m],
  "process_queue_pipe.ts": [
    /^queue: \[ 42, null, "hello" \]$/m,
    /^pipe: \[ 42, null, "hello" \]$/m,
  ],
  "lock_value_array.ts": [
    ...[0, 1, 2, 3].map((i) => new RegExp(`^hello world ${i}$`, "m")),
    /^3\.1415927$/m,
    /-9\s*\]/,
  ],
  "manager_dict_list.ts": [
    /^\[ \[ 1, "1" \], \[ "2", 2 \], \[ 0\.25, null \] \]$/m,
    /9, 8, 7, 6, 5,\s+4, 3, 2, 1, 0/,
  ],
  "listener_client.ts": [
    /^connection accepted from \{ hostname: "127\.0\.0\.1", port: \d+ \}$/m,
    /^\[ 2\.25, null, "junk", 1152921504606846976n \]$/m,
    /^hello$/m,
    /^5 Uint8Array\(8\)/m,
    /^client: AuthenticationError server: AuthenticationError$/m,
    /^wait: 8 messages from 4 pipes$/m,
  ],
  "remote_manager.ts": [/^hello$/m],
};

Deno.test("every example in examples/cpython_docs/ is checked here", async () => {
  const files: string[] = [];
  for await (const e of Deno.readDir(DIR)) files.push(e.name);
  assert.deepEqual(files.sort(), Object.keys(expected).sort());
});

for (const [file, patterns] of Object.entries(expected)) {
  Deno.test(`examples/cpython_docs/${file} runs, exits by itself and cleans up`, async () => {
    const tmp = await Deno.makeTempDir({ prefix: "mproc-example-" });
    try {
      const guard = AbortSignal.timeout(60_000); // hang guard only
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--no-check",
          "--config",
          CONFIG,
          new URL(file, DIR).pathname,
        ],
        env: { TMPDIR: tmp },
        stdout: "piped",
        stderr: "piped",
        signal: guard,
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.signal, null, `killed (hung?):\n${stdout}\n${stderr}`);
      assert.equal(out.code, 0, `${stdout}\n${stderr}`);
      assert.doesNotMatch(stderr, /error|Uncaught/i);
      for (const p of patterns) assert.match(stdout, p);
      const left: string[] = [];
      for await (const e of Deno.readDir(tmp)) left.push(e.name);
      assert.deepEqual(left, [], "temp files left behind");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });
}
