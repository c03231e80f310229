// The child side of a Pipe() relay (see `_args.ts`): one more connection to
// the parent, as a `Connection`. Loaded by `_bootstrap.ts` only when the
// args hold a relayed Pipe() end.

import { type Connection, createConnection } from "../connection/connection.ts";
import { SocketChannel } from "../connection/_socket_channel.ts";
import type { Dialed } from "./_dial.ts";

/** Opens extra connection `id` to the parent (a Pipe() relay). */
export async function openAux(dialed: Dialed, id: number): Promise<Connection> {
  return createConnection(
    new SocketChannel(await dialed.open({ role: "aux", id })),
  );
}
