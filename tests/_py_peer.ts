// A Python peer process driven by JSON lines, shared by the interop tests
// (tests/connection/interop_test.ts, tests/pickle/interop_test.ts): one
// process per interpreter runs a whole scripted sequence.

import { type Listener, parseAddress } from "../connection/mod.ts";
import { deadline, enc } from "./connection/_helpers.ts";

/** A Listener's address as CPython's Client takes it: a path or (host, port). */
export function pyAddress(l: Listener): string | [string, number] {
  const a = parseAddress(l.address);
  return a.family === "AF_UNIX" ? a.path : [a.hostname, a.port];
}

/**
 * A running Python script that reads one JSON command per line on stdin and
 * answers with JSON lines on stdout (tests/py/*_peer.py).
 */
export class PyPeer implements AsyncDisposable {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #lines: string[] = [];
  #wake: (() => void) | null = null;
  #ended = false;
  #reading: Promise<void>;
  #stderr: Promise<string>;

  constructor(exe: string, script: string, env?: Record<string, string>) {
    const child = new Deno.Command(exe, {
      args: ["-u", script],
      ...(env ? { env } : {}),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#stderr = new Response(child.stderr).text();
    this.#reading = (async () => {
      let buf = "";
      for await (
        const chunk of child.stdout.pipeThrough(new TextDecoderStream())
      ) {
        buf += chunk;
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          this.#lines.push(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
        this.#wake?.();
      }
      this.#ended = true;
      this.#wake?.();
    })();
  }

  async send(cmd: Record<string, unknown>): Promise<void> {
    await this.#writer.write(enc.encode(JSON.stringify(cmd) + "\n"));
  }

  /** The next JSON line (hang guard: 30 s — a 1 MiB echo in Python is quick). */
  async next(): Promise<Record<string, unknown>> {
    const t0 = Date.now();
    while (this.#lines.length === 0) {
      if (this.#ended) throw new Error(`python exited: ${await this.#stderr}`);
      const left = 30_000 - (Date.now() - t0);
      if (left <= 0) {
        throw new Error("Hang guard: no answer from python in 30 s");
      }
      await deadline(
        new Promise<void>((r) => (this.#wake = r)),
        left,
        "python answer",
      )
        .catch(() => {});
    }
    return JSON.parse(this.#lines.shift()!);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.send({ op: "quit" });
      await this.#writer.close();
    } catch {
      // already gone
    }
    const exited = await deadline(this.#child.status, 5000, "python exit")
      .catch(() => null);
    if (!exited) {
      this.#child.kill("SIGKILL");
      await this.#child.status;
    }
    await this.#reading.catch(() => {});
    await this.#stderr.catch(() => "");
  }
}
