// A child Deno process with a control connection back to this one: the
// machinery under `Process` and the Pool's process runtime (CPython's
// `popen_spawn_posix.Popen` + `spawn.py`).
//
// 1. This process listens on a Unix socket in a private temp dir (0700; TCP
//    127.0.0.1 with an ephemeral port where that fails) and makes a fresh
//    32-byte secret for this one child.
// 2. It runs `Deno.execPath() run <flags> data:…` where the main module is a
//    few-line entry generated here: it starts `_dial.ts` (step 4) and, while
//    that runs, imports the child-side module (e.g. `_bootstrap.ts`) and
//    hands it the dialing and `() => import("<user module>")`. A literal
//    dynamic import is part of the child's module graph, so Deno loads the
//    user's module without read permission, and load errors surface at the
//    `import()` call, where the child reports them.
// 3. The socket address and the secret go to the child's stdin (never on the
//    command line, which any user can read), which is then closed.
// 4. The child connects back (`_dial.ts`) and sends the secret as its
//    first frame, which this side compares in constant time; then it says
//    which connection this is: `{ role: "control" }` first, then
//    `{ role: "aux", id }` for each extra connection it was asked to open
//    (Pipe() relays), as JSON. No challenge/response: the secret is fresh, used by one
//    child only, and never crosses anything but the child's stdin pipe and a
//    socket only this user can open (the 0700 dir) or loopback; the child
//    knows it reached its parent because the address came over that same
//    stdin. A peer without the secret is dropped after one frame of at most
//    64 bytes (MAX_BAD_PEERS of them stop the listener).
// 5. The child watches the control connection: at its end (this process died,
//    even by SIGKILL: the kernel closes the socket) it exits at once.
//
// Lifetime: the child process and the control socket can be unref'ed
// (`setRef(false)`), so an idle or joined child never keeps this process
// alive (API.md §9). The temp dir goes when the listener closes.

import { type Connection, createConnection } from "../connection/connection.ts";
import { SocketChannel } from "../connection/_socket_channel.ts";
import { equalBytes } from "../connection/_bytes.ts";
import type { ControlAddress, Hello, StdinConfig } from "./_dial.ts";
import { childFlags } from "./_flags.ts";

/** How a child ended: its exit code, or the signal that killed it. */
export interface ChildExit {
  /** The exit code (128 + N when killed by signal N, as Deno reports it). */
  code: number;
  /** The signal number that killed it, or null. */
  signal: number | null;
}

/** CPython's `exitcode` of a child that ended with `exit`. */
export function exitCodeOf(exit: ChildExit): number {
  return exit.signal !== null ? -exit.signal : exit.code;
}

/** How to start a child. */
export interface ChildOptions {
  /** URL of the child-side module; its `main(moduleUrl, load)` export runs. */
  entry: string;
  /** URL of the user's module, imported by the child with a literal `import()`. */
  module: string;
  /** Deno permissions of the child (kinds left out are inherited). */
  permissions?: Deno.PermissionOptions | undefined;
  /** V8 heap cap in MiB. */
  memoryLimitMb?: number | undefined;
  env?: Record<string, string> | undefined;
  cwd?: string | undefined;
  stdout?: "inherit" | "null" | undefined;
  stderr?: "inherit" | "null" | undefined;
  /** A name for error messages ("Process-1"). */
  name: string;
}

const HANDSHAKE_TIMEOUT = 10_000;
/** Connections that fail the handshake before the listener gives up. */
const MAX_BAD_PEERS = 16;

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Whether the string can go inside a JS string literal as it is. */
function literal(s: string): string {
  return JSON.stringify(s).replace(/\u2028/g, "\\u2028").replace(
    /\u2029/g,
    "\\u2029",
  );
}

const DIAL = new URL("./_dial.ts", import.meta.url).href;

/**
 * The main module of the child, as a data: URL: it dials the parent while
 * the entry's module graph loads (a dynamic import loads when it runs).
 */
function entrySource(entry: string, module: string): string {
  const src = `import { dialParent } from ${literal(DIAL)};\n` +
    `const dialing = dialParent();\n` +
    `dialing.catch(() => {});\n` +
    `const { main } = await import(${literal(entry)});\n` +
    `await main(${literal(module)}, () => import(${
      literal(module)
    }), dialing);\n`;
  return `data:application/javascript;base64,${btoa(src)}`;
}

type RawConn = Deno.Conn & { ref?(): void; unref?(): void };

interface Bound {
  listener: Deno.Listener;
  address: ControlAddress;
  dir: string | null;
}

async function bind(name: string): Promise<Bound> {
  let unixError: unknown = null;
  if (Deno.build.os !== "windows") {
    let dir: string | null = null;
    try {
      dir = await Deno.makeTempDir({ prefix: "mproc-proc-" });
      const path = `${dir}/c.sock`;
      const listener = Deno.listen({ transport: "unix", path });
      return { listener, address: { path }, dir };
    } catch (e) {
      unixError = e;
      if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
  try {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = listener.addr as Deno.NetAddr;
    return { listener, address: { hostname: "127.0.0.1", port }, dir: null };
  } catch (e) {
    throw new Deno.errors.NotCapable(
      `Cannot start ${name} as this process may not open the control socket it needs: ` +
        `grant --allow-read, --allow-write and --allow-net (a Unix socket in the temp dir), or --allow-net=127.0.0.1 ` +
        `(${(unixError as Error)?.message ?? "no Unix sockets"}; ${
          (e as Error).message
        })`,
      { cause: e },
    );
  }
}

/**
 * A started child: its control connection, its exit, and the extra
 * connections it opens on request.
 */
export class Child {
  readonly pid: number;
  /** The control connection (messages both ways). */
  readonly control: Connection;
  /** Resolves when the child has exited (never rejects). */
  readonly exited: Promise<ChildExit>;
  #proc: Deno.ChildProcess;
  #raw: RawConn;
  #bound: Bound | null;
  #aux = new Map<number, (c: Connection) => void>();
  #early = new Map<number, Connection>();
  #exit: ChildExit | null = null;
  #ref = true;

  private constructor(
    proc: Deno.ChildProcess,
    exited: Promise<ChildExit>,
    control: Connection,
    raw: RawConn,
    bound: Bound,
  ) {
    this.#proc = proc;
    this.pid = proc.pid;
    this.exited = exited;
    this.control = control;
    this.#raw = raw;
    this.#bound = bound;
    exited.then((e) => {
      this.#exit = e;
      this.control.close();
      this.#closeListener();
      for (const c of this.#early.values()) c.close();
      this.#early.clear();
    });
  }

  /**
   * Spawns a child and resolves once it connected back and authenticated.
   * Rejects when it cannot be spawned or exits first (nothing is left behind).
   */
  static async spawn(
    options: ChildOptions,
    signal?: AbortSignal,
  ): Promise<Child> {
    signal?.throwIfAborted();
    const bound = await bind(options.name);
    let proc: Deno.ChildProcess | undefined;
    try {
      const flags = childFlags({
        permissions: options.permissions,
        memoryLimitMb: options.memoryLimitMb,
        control: bound.address,
      });
      const cmd = new Deno.Command(Deno.execPath(), {
        args: [...flags, entrySource(options.entry, options.module)],
        stdin: "piped",
        stdout: options.stdout ?? "inherit",
        stderr: options.stderr ?? "inherit",
        ...(options.env ? { env: options.env } : {}),
        ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      });
      const key = crypto.getRandomValues(new Uint8Array(32));
      proc = cmd.spawn();
      const started = proc;
      const exited = started.status.then((s) => ({
        code: s.code,
        signal: s.signal === null ? null : s.code > 128 ? s.code - 128 : 0,
      }));
      const config: StdinConfig = { address: bound.address, key: hex(key) };
      const writer = started.stdin.getWriter();
      writer.write(new TextEncoder().encode(JSON.stringify(config) + "\n"))
        .then(() => writer.close()).catch(() => {});
      const accepting = acceptControl(bound.listener, key);
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(signal!.reason);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
      const early = exited.then((e): never => {
        throw new Error(
          `Cannot start ${options.name} as its child process exited with code ${e.code} before it connected back ` +
            `(its stderr says why): ${Deno.execPath()} ${flags.join(" ")}`,
        );
      });
      let link: Accepted;
      try {
        link = await Promise.race([accepting.first, early, aborted]);
      } catch (e) {
        accepting.stop();
        try {
          started.kill("SIGKILL");
        } catch {
          // exited already
        }
        await exited;
        throw e;
      } finally {
        signal?.removeEventListener("abort", onAbort!);
      }
      const child = new Child(started, exited, link.conn, link.raw, bound);
      accepting.onAux = (id, conn) => child.#deliverAux(id, conn);
      return child;
    } catch (e) {
      bound.listener.close();
      if (bound.dir) {
        await Deno.remove(bound.dir, { recursive: true }).catch(() => {});
      }
      throw e;
    }
  }

  #deliverAux(id: number, conn: Connection): void {
    const waiter = this.#aux.get(id);
    if (waiter) {
      this.#aux.delete(id);
      waiter(conn);
    } else if (this.#early.has(id) || this.#exit) conn.close();
    else this.#early.set(id, conn);
  }

  /**
   * The extra connection the child opens with `id` (after being told to);
   * rejects if the child exits first.
   */
  aux(id: number): Promise<Connection> {
    const early = this.#early.get(id);
    if (early) {
      this.#early.delete(id);
      return Promise.resolve(early);
    }
    if (this.#exit || !this.#bound) {
      return Promise.reject(
        new Error("Cannot open a connection to the child as it exited"),
      );
    }
    return new Promise((resolve, reject) => {
      this.#aux.set(id, resolve);
      this.exited.then(() => {
        if (this.#aux.delete(id)) {
          reject(
            new Error("Cannot open a connection to the child as it exited"),
          );
        }
      });
    });
  }

  /** Stops accepting connections from the child and removes the socket dir. */
  closeListener(): void {
    this.#closeListener();
  }

  #closeListener(): void {
    const b = this.#bound;
    if (!b) return;
    this.#bound = null;
    try {
      b.listener.close();
    } catch {
      // closed already
    }
    if (b.dir) Deno.remove(b.dir, { recursive: true }).catch(() => {});
  }

  /** How the child ended, or null while it runs. */
  get exit(): ChildExit | null {
    return this.#exit;
  }

  /** Sends a signal; a child that exited already is left alone. */
  kill(signal: Deno.Signal): void {
    if (this.#exit) return;
    try {
      this.#proc.kill(signal);
    } catch {
      // it exited in between
    }
  }

  /** Whether the child (its exit status and control socket) keeps this process alive. */
  setRef(ref: boolean): void {
    if (ref === this.#ref) return;
    this.#ref = ref;
    if (ref) {
      this.#proc.ref();
      this.#raw.ref?.();
    } else {
      this.#proc.unref();
      this.#raw.unref?.();
    }
  }
}

/** The child's control connection, as accepted. */
export interface Accepted {
  conn: Connection;
  raw: RawConn;
}

/** What {@link acceptControl} hands back. */
export interface Acceptor {
  first: Promise<Accepted>;
  onAux: ((id: number, conn: Connection) => void) | null;
  stop(): void;
}

/**
 * Accepts the child's connections: the control connection first (the
 * `first` promise), then aux ones (handed to `onAux`). A peer whose first
 * frame is not the secret (or longer than 64 bytes), or whose hello is not
 * one, is dropped; after MAX_BAD_PEERS of them the listener stops.
 */
export function acceptControl(
  listener: Deno.Listener,
  key: Uint8Array,
): Acceptor {
  let stopped = false;
  let resolveFirst!: (a: Accepted) => void;
  let rejectFirst!: (e: unknown) => void;
  let haveFirst = false;
  const first = new Promise<Accepted>((res, rej) => {
    resolveFirst = res;
    rejectFirst = rej;
  });
  first.catch(() => {});
  const acceptor: Acceptor = {
    first,
    onAux: null,
    stop() {
      stopped = true;
    },
  };
  let bad = 0;
  const greet = async (raw: RawConn): Promise<void> => {
    const conn = createConnection(new SocketChannel(raw));
    // a peer that does not finish in time is dropped (closing stops the reads)
    const timer = setTimeout(() => conn.close(), HANDSHAKE_TIMEOUT);
    Deno.unrefTimer(timer);
    try {
      if (!equalBytes(await conn.recvBytes(64), key)) {
        throw new Error("wrong secret");
      }
      const hello = JSON.parse(
        new TextDecoder().decode(await conn.recvBytes(256)),
      ) as Hello;
      clearTimeout(timer);
      if (stopped) throw new Error("stopped");
      if (hello?.role === "control" && !haveFirst) {
        haveFirst = true;
        resolveFirst({ conn, raw });
      } else if (
        hello?.role === "aux" && haveFirst && Number.isInteger(hello.id)
      ) {
        if (acceptor.onAux) acceptor.onAux(hello.id, conn);
        else conn.close();
      } else throw new Error("unexpected hello");
    } catch {
      clearTimeout(timer);
      conn.close();
      if (++bad >= MAX_BAD_PEERS) {
        stopped = true;
        try {
          listener.close();
        } catch {
          // closed
        }
        if (!haveFirst) {
          rejectFirst(
            new Error(
              "Cannot start the child as too many peers failed the handshake",
            ),
          );
        }
      }
    }
  };
  (async () => {
    for (;;) {
      let raw: RawConn;
      try {
        raw = await listener.accept() as RawConn;
      } catch (e) {
        if (!haveFirst) rejectFirst(e);
        return;
      }
      if (stopped) {
        raw.close();
        continue;
      }
      greet(raw);
    }
  })();
  return acceptor;
}
