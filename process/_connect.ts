// The child side of `_child.ts`, once the library has loaded: wrap the
// connections `_dial.ts` made into `Connection`s, and exit as soon as the
// control connection ends (the parent died).

import { type Connection, createConnection } from "../connection/connection.ts";
import { SocketChannel } from "../connection/_socket_channel.ts";
import type { Dialed } from "./_dial.ts";

/** The parent as the child sees it. */
export interface ParentLink {
  /** The control connection. */
  control: Connection;
  /** Opens extra connection `id` to the parent (a Pipe() relay). */
  openAux(id: number): Promise<Connection>;
}

/** The connections of `dialing` as `Connection`s. */
export async function connectToParent(
  dialing: Promise<Dialed>,
): Promise<ParentLink> {
  const { control, open } = await dialing;
  const wrap = (raw: Deno.Conn) => createConnection(new SocketChannel(raw));
  return {
    control: wrap(control),
    openAux: async (id) => wrap(await open({ role: "aux", id })),
  };
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
