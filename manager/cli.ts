/**
 * A standalone manager server: serves SyncManager's types plus every type
 * registered while importing `--module`, on `--address`, with the authkey
 * from `--authkey` or the `MPROC_AUTHKEY` environment variable. Prints one
 * JSON line `{"address": …, "epoch": …}` on stdout once listening; stops on
 * SIGINT / SIGTERM (or when stdin closes, with `--stdin-eof`).
 *
 * ```sh
 * deno run -A manager/cli.ts --module ./my_types.ts --address 127.0.0.1:50000
 * ```
 *
 * To ship it as one binary, include the types module (a dynamic import a
 * compiled binary can only reach when it is embedded), from the project
 * root so that deno.json's import map applies, and name the module the same
 * way at run time:
 *
 * ```sh
 * deno compile -A --include ./my_types.ts -o manager-server manager/cli.ts
 * MPROC_AUTHKEY=secret ./manager-server --module ./my_types.ts --address 0.0.0.0:50000
 * ```
 *
 * Prefer `MPROC_AUTHKEY` to `--authkey`: other users can read a process's
 * arguments.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { Address } from "../connection/address.ts";
import { servedTypes } from "./types/_sync_registry.ts";
import { ManagerServer } from "./server/server.ts";

/**
 * What {@linkcode main} returns.
 *
 * @example Stop the server main() started
 * ```ts ignore
 * import { main } from "@mproc/multiprocessing/manager/cli";
 *
 * const result: { server: { close(): Promise<void> } } = await main(["--address", "127.0.0.1:0"]);
 * await result.server.close();
 * ```
 */
export interface CliResult {
  /** The running server. */
  server: ManagerServer;
}

/**
 * Runs the server described by `args` (command-line arguments).
 *
 * @example Serve the built-in types on a free port
 * ```ts ignore
 * import { main } from "@mproc/multiprocessing/manager/cli";
 *
 * const { server } = await main(["--address", "127.0.0.1:0", "--authkey", "secret"]);
 * await server.close();
 * ```
 *
 * @param args The arguments (`--module`, `--address`, `--authkey`, `--stdin-eof`).
 * @returns The running server.
 */
export async function main(args: string[]): Promise<CliResult> {
  const { values } = parseArgs({
    args,
    options: {
      module: { type: "string", multiple: true },
      address: { type: "string", default: "127.0.0.1:0" },
      authkey: { type: "string" },
      "stdin-eof": { type: "boolean", default: false },
    },
    strict: true,
  });
  const base = new URL(`file://${Deno.cwd()}/`);
  for (const m of values.module ?? []) {
    const url = /^[a-z][a-z0-9+.-]*:/i.test(m) ? m : new URL(m, base).href;
    await import(url);
  }
  const registry = servedTypes();
  const authkey = values.authkey ?? Deno.env.get("MPROC_AUTHKEY");
  const server = ManagerServer.listen(registry, {
    address: values.address as Address,
    ...(authkey ? { authkey } : {}),
  });
  console.log(JSON.stringify({ address: server.address, epoch: server.epoch }));
  const stop = () => void server.close();
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, stop);
  }
  server.closed.then(() => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      Deno.removeSignalListener(sig, stop);
    }
  });
  if (values["stdin-eof"]) {
    (async () => {
      for await (const _ of Deno.stdin.readable);
      stop();
    })();
  }
  return { server };
}

const USAGE =
  `Usage: deno run -A manager/cli.ts [--module ./types.ts]... [--address HOST:PORT|PATH]
       [--authkey KEY (or env MPROC_AUTHKEY)] [--stdin-eof]
Serves SyncManager's types and those registered by each --module; prints
{"address": ..., "epoch": ...} once listening; stops on SIGINT/SIGTERM.`;

if (import.meta.main) {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(USAGE);
    Deno.exit(0);
  }
  let running: CliResult;
  try {
    running = await main(Deno.args);
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    Deno.exit(2);
  }
  await running.server.closed;
}
