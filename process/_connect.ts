// The child side of `_child.ts`: read the control address and authkey from
// stdin, connect back with our `Client`, say which connection this is, and
// exit as soon as the control connection ends (the parent died).

import { Client } from "../connection/client.ts";
import type { Connection } from "../connection/connection.ts";
import type { Hello, StdinConfig } from "./_child.ts";

/** The parent as the child sees it. */
export interface ParentLink {
  /** The control connection. */
  control: Connection;
  /** Opens extra connection `id` to the parent (a Pipe() relay). */
  openAux(id: number): Promise<Connection>;
}

async function readConfig(): Promise<StdinConfig> {
  const reader = Deno.stdin.readable.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
      if (value.includes(10) || size > 64 * 1024) break;
    }
  } finally {
    reader.releaseLock();
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

/** Connects to the parent; the process exits when the parent goes away. */
export async function connectToParent(): Promise<ParentLink> {
  const { address, key } = await readConfig();
  const authkey = unhex(key);
  const open = async (hello: Hello): Promise<Connection> => {
    const conn = await Client(address, { authkey });
    await conn.send(hello);
    return conn;
  };
  const control = await open({ role: "control" });
  return { control, openAux: (id) => open({ role: "aux", id }) };
}

/**
 * Reads the control connection until it ends, passing each message to
 * `onMessage`; at its end (the parent died or let go) the process exits.
 */
export function watchParent(
  control: Connection,
  onMessage?: (msg: unknown) => void,
): void {
  (async () => {
    try {
      for (;;) {
        const msg = await control.recv();
        onMessage?.(msg);
      }
    } catch {
      // end of stream or a broken connection: the parent is gone
    }
    Deno.exit(1);
  })();
}
