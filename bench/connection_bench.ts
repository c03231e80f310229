/**
 * Benchmark of the connection layer, side by side in one run with its
 * anchors:
 * - raw Deno sockets (`Deno.connect`/`Deno.listen`, a 4-byte length prefix
 *   written with the payload in one write, `setNoDelay(true)`, one buffered
 *   reader) — what the runtime gives with no library in between;
 * - CPython 3.11 `multiprocessing.connection` (bench/py/connection_peer.py:
 *   its serving end in a forked child process, its driving end driven run by
 *   run over stdin).
 *
 * The serving end of every Deno scenario (echo server, sink, listener) runs
 * in a Worker (its own thread and event loop); the driving end runs here.
 * Each figure: a warm-up, then RUNS runs of about SECONDS each of every
 * subject, interleaved (ours, raw, CPython, ours, ...). The table shows the
 * median of each side and the median of the run-by-run ratios, so load from
 * elsewhere on the machine hits both sides of a ratio alike. A second table
 * gives the CPU time of this process (both Deno ends) per operation, which
 * such load does not inflate. The process pins itself and its children to
 * CPU 0 (see `pin()`; `BENCH_PIN=0` to disable).
 *
 * Run: `deno run -A --unstable-worker-options bench/connection_bench.ts`
 * (env: `BENCH_SECONDS` per run, default 1; `BENCH_RUNS`, default 3;
 * `BENCH_ONLY` a comma-separated list of figure keys: rtt-tcp, rtt-unix,
 * rtt-obj, pipelined, awaited, bulk, handshake-tcp, handshake-unix;
 * handshake = both; command-line arguments are ignored). A full run
 * writes bench/results/connection.json; a BENCH_ONLY run only prints.
 *
 * @module
 */

import process from "node:process";
import { Client, EOFError, Listener } from "../connection/mod.ts";
import {
  type BenchRow,
  cpython,
  median,
  pin,
  row,
  writeResults,
} from "./_common.ts";

const PEER_NAME = "connection-bench-peer";
const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 1);
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 3);
const WARM_SECONDS = 0.3;
const AUTHKEY = "bench-secret";
const MIB = 1024 * 1024;
const MSG16 = new Uint8Array(16).fill(0x78);
/** 14 bytes: msgpack bin8 of it is 16 bytes, the same frame as MSG16. */
const MSG14 = new Uint8Array(14).fill(0x78);
const OBJ = { id: 1, op: "get", args: [1, "x"] };
const BULK = new Uint8Array(MIB).fill(0x62);
const OK = new TextEncoder().encode("ok");
/** Pipelined sends fired before awaiting (two windows in flight). */
const WINDOW_SMALL = 4096;
const WINDOW_BULK = 4;

type Kind = "ours" | "raw";
type Transport = "tcp" | "unix";
type Role =
  | "echo-bytes"
  | "echo-obj"
  | "sink-bytes"
  | "sink-into"
  | "sink-iter"
  | "accept"
  | "exchange";

interface PeerCommand {
  id: number;
  kind: Kind;
  transport: Transport;
  role: Role;
}

type PeerReply =
  | { id: number; address: Deno.NetAddr | Deno.UnixAddr }
  | { id: number; error: string };

// ---------------------------------------------------------------------------
// Raw Deno framing: the anchor. One buffered reader; header and payload of a
// small frame in one write; a large payload written as it is.

class RawConn {
  #conn: Deno.Conn;
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  async writeAll(p: Uint8Array): Promise<void> {
    let off = 0;
    while (off < p.length) {
      off += await this.#conn.write(off === 0 ? p : p.subarray(off));
    }
  }

  /** One frame; small ones in one write. */
  async writeFrame(payload: Uint8Array): Promise<void> {
    const n = payload.length;
    if (n <= 64 * 1024) {
      const f = new Uint8Array(4 + n);
      f[0] = n >>> 24;
      f[1] = (n >>> 16) & 0xff;
      f[2] = (n >>> 8) & 0xff;
      f[3] = n & 0xff;
      f.set(payload, 4);
      await this.writeAll(f);
    } else {
      const h = new Uint8Array(4);
      new DataView(h.buffer).setUint32(0, n);
      await this.writeAll(h);
      await this.writeAll(payload);
    }
  }

  /** `count` copies of `payload` framed into one buffer, one write. */
  async writeCoalesced(payload: Uint8Array, count: number): Promise<void> {
    const n = payload.length;
    const out = new Uint8Array((4 + n) * count);
    let at = 0;
    for (let i = 0; i < count; i++, at += 4 + n) {
      out[at] = n >>> 24;
      out[at + 1] = (n >>> 16) & 0xff;
      out[at + 2] = (n >>> 8) & 0xff;
      out[at + 3] = n & 0xff;
      out.set(payload, at + 4);
    }
    await this.writeAll(out);
  }

  /** A whole frame already buffered (copied out), or null. */
  tryFrame(): Uint8Array | null {
    const avail = this.#end - this.#start;
    if (avail < 4) return null;
    const b = this.#buf;
    const s = this.#start;
    const n = ((b[s]! << 24) | (b[s + 1]! << 16) | (b[s + 2]! << 8) |
      b[s + 3]!) >>> 0;
    if (avail < 4 + n) return null;
    this.#start = s + 4 + n;
    return b.slice(s + 4, s + 4 + n);
  }

  /** Reads more bytes; false at end of stream. */
  async fill(): Promise<boolean> {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    else if (this.#buf.length - this.#end < 16 * 1024) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    const r = await this.#conn.read(this.#buf.subarray(this.#end));
    if (r === null) return false;
    this.#end += r;
    return true;
  }

  /** The next frame, or null at end of stream. */
  async readFrame(): Promise<Uint8Array | null> {
    for (;;) {
      const f = this.tryFrame();
      if (f) return f;
      const avail = this.#end - this.#start;
      if (avail >= 4) {
        const b = this.#buf;
        const s = this.#start;
        const n = ((b[s]! << 24) | (b[s + 1]! << 16) | (b[s + 2]! << 8) |
          b[s + 3]!) >>> 0;
        if (n > this.#buf.length - 16 * 1024) return await this.#readLarge(n);
      }
      if (!(await this.fill())) return null;
    }
  }

  /** A frame larger than the buffer: read straight into its own array. */
  async #readLarge(n: number): Promise<Uint8Array> {
    const frame = new Uint8Array(n);
    const have = this.#end - this.#start - 4;
    frame.set(this.#buf.subarray(this.#start + 4, this.#end));
    this.#start = this.#end = 0;
    let filled = have;
    while (filled < n) {
      const r = await this.#conn.read(frame.subarray(filled));
      if (r === null) throw new Error("Unexpected end of stream");
      filled += r;
    }
    return frame;
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // closed already
    }
  }
}

// ---------------------------------------------------------------------------
// The handshake's floor: its four messages over raw Deno sockets, sized as
// ours ({sha256} dialect), with no crypto and no library in between.

/** #CHALLENGE# + {sha256} + 40 random bytes, framed. */
const EX_CHALLENGE = new Uint8Array(4 + 11 + 8 + 40);
/** The client's answer ({sha256} + 32) and its own challenge, framed. */
const EX_ANSWER_CHALLENGE = new Uint8Array(4 + 8 + 32 + EX_CHALLENGE.length);
/** #WELCOME# and the server's answer, framed. */
const EX_WELCOME_ANSWER = new Uint8Array(4 + 9 + 4 + 8 + 32);
/** The client's #WELCOME#, framed. */
const EX_WELCOME = new Uint8Array(4 + 9);

/** Reads exactly `n` bytes into `buf`; false if the stream ends first. */
async function readN(c: Deno.Conn, buf: Uint8Array, n: number) {
  for (let got = 0; got < n;) {
    const r = await c.read(buf.subarray(got, n));
    if (r === null) return false;
    got += r;
  }
  return true;
}

/**
 * The serving end of a raw connect+close: waits for the peer's close; false
 * for the stop connection (which writes one byte first).
 */
async function serveConnectClose(c: Deno.Conn): Promise<boolean> {
  const r = await c.read(new Uint8Array(1)).catch(() => null);
  c.close();
  return r !== 1;
}

/**
 * The serving end of one exchange: the handshake's four messages with their
 * sizes and nothing else; false for the stop connection (which sends one
 * 0xff byte instead).
 */
async function serveExchange(
  c: Deno.Conn,
  transport: Transport,
): Promise<boolean> {
  const buf = new Uint8Array(EX_ANSWER_CHALLENGE.length);
  try {
    if (transport === "tcp") (c as Deno.TcpConn).setNoDelay(true);
    await c.write(EX_CHALLENGE);
    if (!(await readN(c, buf, 1))) return true;
    if (buf[0] === 0xff) return false;
    await readN(c, buf.subarray(1), EX_ANSWER_CHALLENGE.length - 1);
    await c.write(EX_WELCOME_ANSWER);
    await readN(c, buf, EX_WELCOME.length);
    return true;
  } catch {
    return true;
  } finally {
    try {
      c.close();
    } catch {
      // closed already
    }
  }
}

// ---------------------------------------------------------------------------
// The peer (Worker side): serving ends.

function rawListen(transport: Transport): {
  listener: Deno.Listener;
  address: Deno.NetAddr | Deno.UnixAddr;
  dir?: string;
} {
  if (transport === "unix") {
    const dir = Deno.makeTempDirSync({ prefix: "mproc-bench-" });
    const path = `${dir}/raw.sock`;
    const listener = Deno.listen({ transport: "unix", path });
    return { listener, address: { transport: "unix", path }, dir };
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return { listener, address: listener.addr as Deno.NetAddr };
}

function parseCount(b: Uint8Array): number {
  return Number(new TextDecoder().decode(b));
}

async function serveOurs(
  cmd: PeerCommand,
  post: (r: PeerReply) => void,
): Promise<void> {
  const listener = new Listener({
    ...(cmd.transport === "unix" ? { family: "AF_UNIX" as const } : {}),
    ...(cmd.role === "accept" ? { authkey: AUTHKEY } : {}),
  });
  const a = listener.address as { hostname: string; port: number } | {
    path: string;
  };
  post({
    id: cmd.id,
    address: "path" in a
      ? { transport: "unix", path: a.path }
      : { transport: "tcp", hostname: a.hostname, port: a.port },
  });
  if (cmd.role === "accept") {
    // Accept until the driver sends a connection carrying "stop".
    for await (const c of listener) {
      if (await c.poll(0)) {
        c.close();
        break;
      }
      c.close();
    }
    listener.close();
    return;
  }
  const c = await listener.accept();
  listener.close();
  try {
    switch (cmd.role) {
      case "echo-bytes":
        // Each loop ends with the EOFError of the driver's close().
        for (;;) await c.sendBytes(await c.recvBytes());
      case "echo-obj":
        for (;;) await c.send(await c.recv());
      case "sink-bytes":
        for (;;) {
          const n = parseCount(await c.recvBytes());
          for (let i = 0; i < n; i++) await c.recvBytes();
          await c.sendBytes(OK);
        }
      case "sink-into": {
        // Receives into one buffer (recvBytesInto): no allocation per message.
        const buf = new Uint8Array(64 * 1024);
        for (;;) {
          const n = parseCount(buf.subarray(0, await c.recvBytesInto(buf)));
          for (let i = 0; i < n; i++) await c.recvBytesInto(buf);
          await c.sendBytes(OK);
        }
      }
      case "sink-iter": {
        let left = 0;
        for await (const v of c) {
          if (left === 0) left = v as number;
          else if (--left === 0) await c.send("ok");
        }
        break;
      }
    }
  } catch (e) {
    if (!(e instanceof EOFError)) throw e;
  } finally {
    c.close();
  }
}

async function serveRaw(
  cmd: PeerCommand,
  post: (r: PeerReply) => void,
): Promise<void> {
  const { listener, address, dir } = rawListen(cmd.transport);
  post({ id: cmd.id, address });
  if (cmd.role === "accept" || cmd.role === "exchange") {
    // Each connection is served on its own, so that accepting never waits on
    // one (a Unix listener's backlog fills otherwise: connect() gets EAGAIN).
    // A "stop" connection closes the listener.
    const serve = cmd.role === "accept" ? serveConnectClose : serveExchange;
    const stop = () => {
      try {
        listener.close();
      } catch {
        // closed already
      }
    };
    try {
      for await (const c of listener) {
        serve(c, cmd.transport).then((go) => go || stop());
      }
    } catch {
      // the stop connection closed the listener
    }
    if (dir) Deno.removeSync(dir, { recursive: true });
    return;
  }
  const conn = await listener.accept();
  listener.close();
  if (dir) Deno.removeSync(dir, { recursive: true });
  if (cmd.transport === "tcp") (conn as Deno.TcpConn).setNoDelay(true);
  const c = new RawConn(conn);
  try {
    switch (cmd.role) {
      case "echo-bytes":
        for (;;) {
          const f = await c.readFrame();
          if (!f) break;
          await c.writeFrame(f);
        }
        break;
      case "sink-bytes":
        for (;;) {
          const h = await c.readFrame();
          if (!h) break;
          let left = parseCount(h);
          while (left > 0) {
            // Take every buffered frame synchronously, then read more.
            let f = c.tryFrame();
            while (f && left > 0) {
              left--;
              if (left > 0) f = c.tryFrame();
            }
            if (left > 0) {
              const g = await c.readFrame();
              if (!g) return;
              left--;
            }
          }
          await c.writeFrame(OK);
        }
        break;
      default:
        throw new Error(`Unsupported raw role ${cmd.role}`);
    }
  } finally {
    c.close();
  }
}

function runPeer(): void {
  const scope = globalThis as unknown as {
    postMessage(r: PeerReply): void;
    onmessage: ((e: MessageEvent<PeerCommand>) => void) | null;
  };
  const post = (r: PeerReply) => scope.postMessage(r);
  scope.onmessage = (e: MessageEvent<PeerCommand>) => {
    const cmd = e.data;
    const serve = cmd.kind === "ours" ? serveOurs : serveRaw;
    serve(cmd, post).catch((err) =>
      post({ id: cmd.id, error: String(err?.stack ?? err) })
    );
  };
}

// ---------------------------------------------------------------------------
// The driver (main side).

class Peer {
  #worker: Worker;
  #next = 1;
  #waiting = new Map<number, (r: PeerReply) => void>();

  constructor() {
    this.#worker = new Worker(import.meta.url, {
      type: "module",
      name: PEER_NAME,
    });
    this.#worker.onmessage = (e: MessageEvent<PeerReply>) => {
      const r = e.data;
      if ("error" in r) {
        console.error(`peer error: ${r.error}`);
        return;
      }
      this.#waiting.get(r.id)?.(r);
      this.#waiting.delete(r.id);
    };
  }

  /** Starts a serving end; resolves with its address. */
  start(
    kind: Kind,
    transport: Transport,
    role: Role,
  ): Promise<Deno.NetAddr | Deno.UnixAddr> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, (r) => {
        if ("address" in r) resolve(r.address);
        else reject(new Error(r.error));
      });
      this.#worker.postMessage({ id, kind, transport, role });
    });
  }

  terminate(): void {
    this.#worker.terminate();
  }
}

function ourAddress(a: Deno.NetAddr | Deno.UnixAddr) {
  return a.transport === "unix" ? { path: (a as Deno.UnixAddr).path } : {
    hostname: (a as Deno.NetAddr).hostname,
    port: (a as Deno.NetAddr).port,
  };
}

async function rawConnect(
  a: Deno.NetAddr | Deno.UnixAddr,
): Promise<Deno.Conn> {
  if (a.transport === "unix") {
    return await Deno.connect({
      transport: "unix",
      path: (a as Deno.UnixAddr).path,
    });
  }
  const c = await Deno.connect({
    hostname: (a as Deno.NetAddr).hostname,
    port: (a as Deno.NetAddr).port,
  });
  c.setNoDelay(true);
  return c;
}

/** One measured subject: warm-up once, then one rate per `measure()`. */
interface Subject {
  warm(): Promise<void>;
  measure(): Promise<number>;
  close(): void | Promise<void>;
  /** Runs in another process: this process's CPU time says nothing of it. */
  external?: boolean;
}

/** Runs `step(k)` (k iterations) until `seconds` pass; iterations/s. */
async function timed(
  step: (k: number) => Promise<void>,
  seconds: number,
): Promise<number> {
  const k = 64;
  let count = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  for (;;) {
    await step(k);
    count += k;
    const now = performance.now();
    if (now >= end) return count / ((now - t0) / 1000);
  }
}

function timedSubject(
  step: (k: number) => Promise<void>,
  close: () => void,
): Subject {
  return {
    warm: async () => {
      await timed(step, WARM_SECONDS);
    },
    measure: () => timed(step, SECONDS),
    close,
  };
}

async function oursRtt(
  peer: Peer,
  transport: Transport,
  obj: boolean,
): Promise<Subject> {
  const addr = await peer.start(
    "ours",
    transport,
    obj ? "echo-obj" : "echo-bytes",
  );
  const c = await Client(ourAddress(addr));
  const step = obj
    ? async (k: number) => {
      for (let i = 0; i < k; i++) {
        await c.send(OBJ);
        await c.recv();
      }
    }
    : async (k: number) => {
      for (let i = 0; i < k; i++) {
        await c.sendBytes(MSG16);
        await c.recvBytes();
      }
    };
  return timedSubject(step, () => c.close());
}

async function rawRtt(peer: Peer, transport: Transport): Promise<Subject> {
  const addr = await peer.start("raw", transport, "echo-bytes");
  const c = new RawConn(await rawConnect(addr));
  return timedSubject(async (k) => {
    for (let i = 0; i < k; i++) {
      await c.writeFrame(MSG16);
      await c.readFrame();
    }
  }, () => c.close());
}

/** A subject that sends batches of `n` items, calibrated to ~SECONDS. */
function batchSubject(
  batch: (n: number) => Promise<void>,
  firstN: number,
  perItem: number,
  close: () => void,
): Subject {
  let n = firstN;
  const once = async (count: number) => {
    const t0 = performance.now();
    await batch(count);
    return (performance.now() - t0) / 1000;
  };
  return {
    warm: async () => {
      await once(n);
      const dt = await once(n);
      n = Math.max(firstN, Math.round(n * SECONDS / Math.max(dt, 1e-6)));
    },
    measure: async () => n * perItem / await once(n),
    close,
  };
}

/**
 * A batch against a sink: sends the count `n` as a message, runs `body(n)`
 * (the n messages), then waits for the sink's ack.
 */
function countedBatch(
  sendCount: (count: Uint8Array) => Promise<unknown>,
  body: (n: number) => Promise<void>,
  ack: () => Promise<unknown>,
  firstN: number,
  perItem: number,
  close: () => void,
): Subject {
  const enc = new TextEncoder();
  return batchSubject(
    async (n) => {
      await sendCount(enc.encode(String(n)));
      await body(n);
      await ack();
    },
    firstN,
    perItem,
    close,
  );
}

/** Fires `n` sends, `window` at a time without awaiting, two windows in flight. */
async function fire(
  n: number,
  window: number,
  send: () => Promise<void>,
): Promise<void> {
  let prev: Promise<void> | null = null;
  for (let i = 0; i < n;) {
    const k = Math.min(window, n - i);
    let last!: Promise<void>;
    for (let j = 0; j < k; j++) last = send();
    i += k;
    if (prev) await prev;
    prev = last;
  }
  await prev;
}

async function oursPipelined(peer: Peer, iter: boolean): Promise<Subject> {
  const addr = await peer.start(
    "ours",
    "tcp",
    iter ? "sink-iter" : "sink-bytes",
  );
  const c = await Client(ourAddress(addr));
  const enc = new TextEncoder();
  const batch = iter
    ? async (n: number) => {
      await c.send(n);
      await fire(n, WINDOW_SMALL, () => c.send(MSG14));
      if (await c.recv() !== "ok") throw new Error("bad ack");
    }
    : async (n: number) => {
      await c.sendBytes(enc.encode(String(n)));
      await fire(n, WINDOW_SMALL, () => c.sendBytes(MSG16));
      await c.recvBytes();
    };
  return batchSubject(batch, 20_000, 1, () => c.close());
}

async function rawPipelined(peer: Peer): Promise<Subject> {
  const addr = await peer.start("raw", "tcp", "sink-bytes");
  const c = new RawConn(await rawConnect(addr));
  return countedBatch(
    (b) => c.writeFrame(b),
    async (n) => {
      for (let i = 0; i < n; i += WINDOW_SMALL) {
        await c.writeCoalesced(MSG16, Math.min(WINDOW_SMALL, n - i));
      }
    },
    () => c.readFrame(),
    20_000,
    1,
    () => c.close(),
  );
}

/**
 * `await conn.sendBytes(m)` in a loop: the natural sender. The sink takes
 * each message with recvBytesInto (no allocation per message), so that on
 * the one pinned CPU the figure measures the sender.
 */
async function oursAwaited(peer: Peer): Promise<Subject> {
  const addr = await peer.start("ours", "tcp", "sink-into");
  const c = await Client(ourAddress(addr));
  return countedBatch(
    (b) => c.sendBytes(b),
    async (n) => {
      for (let i = 0; i < n; i++) await c.sendBytes(MSG16);
    },
    () => c.recvBytes(),
    20_000,
    1,
    () => c.close(),
  );
}

/** Raw Deno with an awaited write per frame: the runtime's awaited sender. */
async function rawAwaited(peer: Peer): Promise<Subject> {
  const addr = await peer.start("raw", "tcp", "sink-bytes");
  const c = new RawConn(await rawConnect(addr));
  return countedBatch(
    (b) => c.writeFrame(b),
    async (n) => {
      for (let i = 0; i < n; i++) await c.writeFrame(MSG16);
    },
    () => c.readFrame(),
    5_000,
    1,
    () => c.close(),
  );
}

async function oursBulk(peer: Peer): Promise<Subject> {
  const addr = await peer.start("ours", "tcp", "sink-bytes");
  const c = await Client(ourAddress(addr));
  return countedBatch(
    (b) => c.sendBytes(b),
    (n) => fire(n, WINDOW_BULK, () => c.sendBytes(BULK)),
    () => c.recvBytes(),
    50,
    MIB / 1e6,
    () => c.close(),
  );
}

async function rawBulk(peer: Peer): Promise<Subject> {
  const addr = await peer.start("raw", "tcp", "sink-bytes");
  const c = new RawConn(await rawConnect(addr));
  return countedBatch(
    (b) => c.writeFrame(b),
    async (n) => {
      for (let i = 0; i < n; i++) await c.writeFrame(BULK);
    },
    () => c.readFrame(),
    50,
    MIB / 1e6,
    () => c.close(),
  );
}

async function oursHandshake(
  peer: Peer,
  transport: Transport,
): Promise<Subject> {
  const addr = ourAddress(await peer.start("ours", transport, "accept"));
  return timedSubject(async (k) => {
    for (let i = 0; i < k; i++) {
      (await Client(addr, { authkey: AUTHKEY })).close();
    }
  }, () => {
    // A last connection that writes before the server looks stops it.
    Client(addr, { authkey: AUTHKEY }).then(async (c) => {
      await c.sendBytes(OK);
      c.close();
    });
  });
}

/**
 * A raw connect that waits out a full backlog: a Unix connect() that needs
 * no reply outpaces the accepting peer and gets EAGAIN (WouldBlock).
 */
async function connectRetrying(
  addr: Deno.NetAddr | Deno.UnixAddr,
): Promise<Deno.Conn> {
  for (let attempt = 0;; attempt++) {
    try {
      return await rawConnect(addr);
    } catch (e) {
      if (!(e instanceof Deno.errors.WouldBlock) || attempt > 10_000) throw e;
      await new Promise((r) => setTimeout(r, 0));
    }
  }
}

async function rawConnectClose(
  peer: Peer,
  transport: Transport,
): Promise<Subject> {
  const addr = await peer.start("raw", transport, "accept");
  return timedSubject(async (k) => {
    for (let i = 0; i < k; i++) (await connectRetrying(addr)).close();
  }, () => {
    rawConnect(addr).then(async (c) => {
      await c.write(new Uint8Array(1));
      c.close();
    });
  });
}

async function rawExchange(
  peer: Peer,
  transport: Transport,
): Promise<Subject> {
  const addr = await peer.start("raw", transport, "exchange");
  const buf = new Uint8Array(EX_CHALLENGE.length);
  return timedSubject(async (k) => {
    for (let i = 0; i < k; i++) {
      const c = await connectRetrying(addr);
      if (transport === "tcp") (c as Deno.TcpConn).setNoDelay(true);
      await readN(c, buf, EX_CHALLENGE.length);
      await c.write(EX_ANSWER_CHALLENGE);
      await readN(c, buf, EX_WELCOME_ANSWER.length);
      await c.write(EX_WELCOME);
      c.close();
    }
  }, () => {
    rawConnect(addr).then(async (c) => {
      await readN(c, buf, EX_CHALLENGE.length);
      await c.write(new Uint8Array([0xff]));
      c.close();
    });
  });
}

// -- CPython --

/**
 * A CPython scenario driven run by run over stdin (see connection_peer.py),
 * so its runs interleave with the Deno ones.
 */
function pythonSubject(py: string, scenario: string): Promise<Subject> {
  const script = new URL("./py/connection_peer.py", import.meta.url).pathname;
  const child = new Deno.Command(py, {
    args: [script, scenario, String(SECONDS), "0"],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const enc = new TextEncoder();
  let pending = "";
  const ask = async (cmd: string): Promise<Record<string, number>> => {
    await writer.write(enc.encode(`${cmd}\n`));
    for (;;) {
      const nl = pending.indexOf("\n");
      if (nl >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        return JSON.parse(line);
      }
      const { value, done } = await reader.read();
      if (done) throw new Error(`python ${scenario} ended early`);
      pending += value;
    }
  };
  return Promise.resolve({
    external: true,
    warm: async () => {
      await ask("warm");
    },
    measure: async () => (await ask("run")).rate!,
    close: async () => {
      await writer.close();
      await reader.cancel();
      await child.status;
    },
  });
}

// -- orchestration --

function fmt(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(0);
}

/** Rates per subject, run by run (runs of different subjects interleave). */
type Runs = Record<string, number[]>;

/** CPU µs (user + system, all threads of this process) per operation. */
const cpuLines: string[] = [];

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * Warms every subject, then interleaves RUNS runs of each (ours, anchor,
 * ours, anchor, ...), so a load change on the machine hits all of them alike.
 * Also records, for the Deno subjects, the CPU time of this process (both
 * ends: main thread and Worker) per operation — a figure that other load on
 * the machine does not inflate.
 */
async function compare(
  label: string,
  subjects: Record<string, (peer: Peer) => Promise<Subject>>,
): Promise<Runs> {
  // A fresh Worker per figure: no figure inherits another one's heap.
  const peer = new Peer();
  const made: [string, Subject][] = [];
  const runs: Runs = {};
  const cpu: Runs = {};
  try {
    for (const [name, make] of Object.entries(subjects)) {
      made.push([name, await make(peer)]);
    }
    for (const [, s] of made) await s.warm();
    for (let r = 0; r < RUNS; r++) {
      for (const [name, s] of made) {
        const c0 = cpuMicros();
        const t0 = performance.now();
        const rate = await s.measure();
        const ops = rate * (performance.now() - t0) / 1000;
        (runs[name] ??= []).push(rate);
        if (!s.external) (cpu[name] ??= []).push((cpuMicros() - c0) / ops);
      }
    }
  } finally {
    for (const [, s] of made) await s.close();
    // Let the stop connections reach the peer before it goes.
    await new Promise((r) => setTimeout(r, 100));
    peer.terminate();
  }
  for (const [name, xs] of Object.entries(runs)) {
    console.error(`  ${label} ${name}: ${xs.map(fmt).join(", ")}`);
  }
  cpuLines.push(
    `| ${label} | ${
      Object.entries(cpu).map(([n, xs]) => `${n} ${median(xs).toFixed(2)}`)
        .join(" · ")
    } |`,
  );
  return runs;
}

type Row = BenchRow;

/** A hung scenario must not hang `deno task bench`. */
const WATCHDOG_MS = 300_000;

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error(
      `connection bench: no result after ${WATCHDOG_MS} ms, giving up`,
    );
    Deno.exit(1);
  }, WATCHDOG_MS);
  Deno.unrefTimer(watchdog);
  const pinned = await pin();
  const only = Deno.env.get("BENCH_ONLY")?.split(",");
  const want = (k: string) => !only || only.includes(k);
  const py = await cpython();
  const rows: Row[] = [];
  const started = performance.now();
  try {
    for (const t of ["tcp", "unix"] as const) {
      if (!want(`rtt-${t}`)) continue;
      const d = await compare(`rtt-${t}`, {
        ours: (peer) => oursRtt(peer, t, false),
        raw: (peer) => rawRtt(peer, t),
        cpython: () => pythonSubject(py, `rtt-${t}`),
      });
      const name = `round trips, 16 B, ${t === "tcp" ? "TCP" : "Unix"}`;
      const u = "round trips/s";
      rows.push(row(name, u, d.ours!, "raw Deno socket", d.raw!, 0.95));
      rows.push(row(name, u, d.ours!, "CPython 3.11", d.cpython!, 1.3));
    }
    if (want("rtt-obj")) {
      const d = await compare("rtt-obj", {
        obj: (peer) => oursRtt(peer, "tcp", true),
        bytes: (peer) => oursRtt(peer, "tcp", false),
        raw: (peer) => rawRtt(peer, "tcp"),
        cpython: () => pythonSubject(py, "rtt-obj-tcp"),
      });
      const name = "round trips, small object send/recv, TCP";
      const u = "round trips/s";
      rows.push(row(name, u, d.obj!, "our sendBytes/recvBytes", d.bytes!, 0.8));
      rows.push(row(name, u, d.obj!, "raw Deno socket (bytes)", d.raw!, null));
      rows.push(
        row(name, u, d.obj!, "CPython 3.11 send/recv", d.cpython!, null),
      );
    }
    if (want("pipelined")) {
      const d = await compare("pipelined", {
        bytes: (peer) => oursPipelined(peer, false),
        iter: (peer) => oursPipelined(peer, true),
        raw: (peer) => rawPipelined(peer),
        cpython: () => pythonSubject(py, "pipelined-tcp"),
        cpythonObj: () => pythonSubject(py, "pipelined-obj-tcp"),
      });
      const bytes = "pipelined one-way 16 B, recvBytes loop, TCP";
      const iter = "pipelined one-way 16 B, async iteration, TCP";
      const u = "msgs/s";
      rows.push(row(bytes, u, d.bytes!, "CPython 3.11", d.cpython!, 10));
      rows.push(row(iter, u, d.iter!, "CPython 3.11", d.cpython!, 10));
      rows.push(
        row(
          bytes,
          u,
          d.bytes!,
          "raw Deno (coalesced writes, sync parse)",
          d.raw!,
          null,
        ),
      );
      rows.push(
        row(iter, u, d.iter!, "CPython 3.11 recv() loop", d.cpythonObj!, null),
      );
      rows.push(
        row(
          iter,
          u,
          d.iter!,
          "raw Deno (coalesced writes, sync parse)",
          d.raw!,
          null,
        ),
      );
    }
    if (want("awaited")) {
      const d = await compare("awaited", {
        ours: (peer) => oursAwaited(peer),
        raw: (peer) => rawAwaited(peer),
        cpython: () => pythonSubject(py, "pipelined-tcp"),
      });
      const name = "awaited sendBytes loop, 16 B, TCP";
      const u = "msgs/s";
      rows.push(
        row(name, u, d.ours!, "CPython 3.11 send_bytes loop", d.cpython!, 10),
      );
      rows.push(
        row(
          name,
          u,
          d.ours!,
          "raw Deno, awaited write per frame",
          d.raw!,
          null,
        ),
      );
    }
    if (want("bulk")) {
      const d = await compare("bulk", {
        ours: (peer) => oursBulk(peer),
        raw: (peer) => rawBulk(peer),
        cpython: () => pythonSubject(py, "bulk-tcp"),
      });
      const name = "bulk 1 MiB messages, TCP";
      rows.push(row(name, "MB/s", d.ours!, "raw Deno socket", d.raw!, 0.8));
      rows.push(row(name, "MB/s", d.ours!, "CPython 3.11", d.cpython!, null));
    }
    for (const t of ["tcp", "unix"] as const) {
      if (!want(`handshake-${t}`) && !want("handshake")) continue;
      const d = await compare(`handshake-${t}`, {
        ours: (peer) => oursHandshake(peer, t),
        raw: (peer) => rawConnectClose(peer, t),
        exchange: (peer) => rawExchange(peer, t),
        cpython: () => pythonSubject(py, `handshake-${t}`),
      });
      const name = `authenticated handshakes (connect+auth+close), ${
        t === "tcp" ? "TCP" : "Unix"
      }`;
      const u = "handshakes/s";
      rows.push(row(name, u, d.ours!, "CPython 3.11", d.cpython!, 1.2));
      rows.push(
        row(name, u, d.ours!, "raw Deno connect+close, no auth", d.raw!, null),
      );
      rows.push(
        row(
          name,
          u,
          d.ours!,
          "raw Deno, the four messages alone (no crypto)",
          d.exchange!,
          null,
        ),
      );
      rows.push(
        row(
          `${name}: the floor`,
          u,
          d.exchange!,
          "CPython 3.11",
          d.cpython!,
          null,
        ),
      );
    }
  } finally {
    clearTimeout(watchdog);
  }

  const lines = [
    "| figure | ours | anchor | ratio | target |",
    "|---|---:|---|---:|---|",
    ...rows.map((r) => {
      const ok = r.target === "info"
        ? ""
        : r.ratio >= Number(r.target.slice(3, -1))
        ? " ✅"
        : " ❌";
      return `| ${r.name} | ${fmt(r.ours)} ${r.unit} | ${r.anchor}: ${
        fmt(r.anchorValue)
      } | ${r.ratio.toFixed(2)}x | ${r.target}${ok} |`;
    }),
  ];
  console.log(lines.join("\n"));
  console.log(
    [
      "",
      "CPU µs per operation of this process (both Deno ends), median:",
      "| figure | subjects |",
      "|---|---|",
      ...cpuLines,
    ].join("\n"),
  );
  console.log(
    `\n${RUNS} runs of ~${SECONDS} s per figure, median; ${
      ((performance.now() - started) / 1000).toFixed(0)
    } s in all; Deno ${Deno.version.deno}; ${pinned}`,
  );
  if (only) return; // a partial run must not replace the full results
  await writeResults("connection", rows);
}

if ((globalThis as { name?: string }).name === PEER_NAME) {
  runPeer();
} else if (import.meta.main) {
  await main();
}
