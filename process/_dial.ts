// The first thing a child does (imported by its generated main module, before
// and while the rest of its module graph loads, so it has no imports that run):
// read the control address and the child's secret from stdin, connect back,
// and send the secret and the hello as two frames (CPython's framing: a 4-byte
// big-endian length, then the bytes) in one write, with no round trip.

/** Where the parent listens (a Unix socket path, or TCP loopback). */
export type ControlAddress = { path: string } | {
  hostname: string;
  port: number;
};

/** The first line the child reads on stdin. */
export interface StdinConfig {
  address: ControlAddress;
  /** The child's secret, hex. */
  key: string;
}

/** What the child sends after the secret on each connection (JSON). */
export type Hello = { role: "control" } | { role: "aux"; id: number };

/** The child's way back to its parent, before any library code has loaded. */
export interface Dialed {
  /** The control connection, authenticated and greeted. */
  control: Deno.Conn;
  /** Opens, authenticates and greets one more connection. */
  open(hello: Hello): Promise<Deno.Conn>;
}

/**
 * The first line of stdin. Read with `Deno.stdin.read`: `Deno.stdin.readable`
 * would load the web streams first, ~5 ms of every child's start.
 */
async function readConfig(): Promise<StdinConfig> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const buf = new Uint8Array(4096);
    const n = await Deno.stdin.read(buf);
    if (n === null) break;
    const chunk = buf.subarray(0, n);
    chunks.push(chunk);
    size += n;
    if (chunk.includes(10) || size > 64 * 1024) break;
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) all.set(c, at), at += c.length;
  const text = new TextDecoder().decode(all);
  const line = text.slice(0, text.indexOf("\n"));
  return JSON.parse(line) as StdinConfig;
}

function unhex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

/** Two frames, the secret and the JSON hello, in one buffer. */
function greeting(secret: Uint8Array, hello: Hello): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(hello));
  const out = new Uint8Array(8 + secret.length + text.length);
  const view = new DataView(out.buffer);
  view.setInt32(0, secret.length);
  out.set(secret, 4);
  view.setInt32(4 + secret.length, text.length);
  out.set(text, 8 + secret.length);
  return out;
}

/** Reads stdin, connects back and greets; rejects when the parent is gone. */
export async function dialParent(): Promise<Dialed> {
  const { address, key } = await readConfig();
  const secret = unhex(key);
  const open = async (hello: Hello): Promise<Deno.Conn> => {
    let raw: Deno.Conn;
    if ("path" in address) {
      raw = await Deno.connect({ transport: "unix", path: address.path });
    } else {
      raw = await Deno.connect(address);
      (raw as Deno.TcpConn).setNoDelay(true);
    }
    const bytes = greeting(secret, hello);
    for (let at = 0; at < bytes.length;) {
      at += await raw.write(bytes.subarray(at));
    }
    return raw;
  };
  return { control: await open({ role: "control" }), open };
}
