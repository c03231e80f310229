// Helpers of the CPython manager interop tests: run a Python driver script
// (tests/manager/py/) and read its JSON lines.

import { findPythons, hex, type Python } from "../connection/_helpers.ts";

export { findPythons, hex, type Python };

const PY_DIR = new URL("./py/", import.meta.url).pathname;

/** A running Python driver: its JSON lines and exit status. */
export interface PyRun {
  /** Every stdout line. */
  lines: string[];
  /** The parsed `{"ok": …}` lines. */
  oks: Record<string, unknown>[];
  /** stderr. */
  stderr: string;
  /** Exit code. */
  code: number;
}

/** Runs `script` (in tests/manager/py/) with `args`; hang guard 120 s. */
export async function runPy(
  py: Python,
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<PyRun> {
  const tmp = await Deno.makeTempDir({ prefix: "cpyman-" });
  try {
    const child = new Deno.Command(py.exe, {
      args: [PY_DIR + script, ...args],
      stdout: "piped",
      stderr: "piped",
      env: { TMPDIR: tmp, PYTHONDONTWRITEBYTECODE: "1", ...env },
    }).spawn();
    const guard = setTimeout(() => child.kill("SIGKILL"), 120_000);
    const out = await child.output();
    clearTimeout(guard);
    const dec = new TextDecoder();
    const lines = dec.decode(out.stdout).split("\n").filter((l) => l);
    return {
      lines,
      oks: lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)),
      stderr: dec.decode(out.stderr),
      code: out.code,
    };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** A Python process whose stdout lines can be awaited one by one. */
export class PyProcess implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  #lines: string[] = [];
  #waiters: (() => void)[] = [];
  #done: Promise<void>;
  #stderr = "";
  #tmp: string;

  private constructor(child: Deno.ChildProcess, tmp: string) {
    this.child = child;
    this.#tmp = tmp;
    const dec = new TextDecoder();
    const readOut = (async () => {
      let buf = "";
      for await (const chunk of child.stdout) {
        buf += dec.decode(chunk, { stream: true });
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          this.#lines.push(buf.slice(0, i));
          buf = buf.slice(i + 1);
          for (const w of this.#waiters.splice(0)) w();
        }
      }
      for (const w of this.#waiters.splice(0)) w();
    })();
    const readErr = (async () => {
      for await (const chunk of child.stderr) {
        this.#stderr += dec.decode(chunk, { stream: true });
      }
    })();
    this.#done = Promise.all([readOut, readErr]).then(() => {});
  }

  /** Starts `script` with `args`. */
  static async start(
    py: Python,
    script: string,
    args: string[],
  ): Promise<PyProcess> {
    const tmp = await Deno.makeTempDir({ prefix: "cpyman-" });
    const child = new Deno.Command(py.exe, {
      args: [PY_DIR + script, ...args],
      stdout: "piped",
      stderr: "piped",
      env: { TMPDIR: tmp, PYTHONDONTWRITEBYTECODE: "1" },
    }).spawn();
    return new PyProcess(child, tmp);
  }

  /** The first line matching `pred` (hang guard 60 s). */
  async line(pred: (l: string) => boolean): Promise<string> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const l = this.#lines.find(pred);
      if (l !== undefined) return l;
      if (Date.now() > deadline) {
        throw new Error(`no such line; stderr:\n${this.#stderr}`);
      }
      const t = new Promise<void>((r) => {
        const id = setTimeout(r, 1000);
        this.#waiters.push(() => {
          clearTimeout(id);
          r();
        });
      });
      await t;
    }
  }

  /** stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Kills the process (SIGKILL) and waits for it. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await this.child.status;
    await this.#done;
    await Deno.remove(this.#tmp, { recursive: true });
  }
}
