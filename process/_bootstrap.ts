// The child side of a Process (CPython's `spawn._main` +
// `BaseProcess._bootstrap`): connect back, learn what to run, import the
// module under the self-import guard, report ready (or why not), run the
// target and exit with 0, or 1 after printing what it threw.

import { decodeFromPost } from "../_transfer.ts";
import { errorToWire } from "../_error_wire.ts";
import { importGuarded } from "../_import_guard.ts";
import { decode } from "../_msgpack.ts";
import { fillArgs } from "./_placeholders.ts";
import { connectToParent, watchParent } from "./_connect.ts";
import { setCurrentIdentity } from "./_current.ts";
import type { RunMessage, StartMessage } from "./_protocol.ts";

type Fn = (...args: unknown[]) => unknown;

/** Entry of the child (called by the generated main module). */
export async function main(
  moduleUrl: string,
  load: () => Promise<Record<string, unknown>>,
): Promise<void> {
  const { control, openAux } = await connectToParent();
  const run = await control.recv<RunMessage>();
  setCurrentIdentity({ name: run.name, identity: run.identity });
  let fn: Fn;
  let args: unknown[];
  try {
    const live = await Promise.all(
      run.handles.map((h) =>
        h.kind === "relay" ? openAux(h.id) : decodeFromPost(h.marker)
      ),
    );
    args = fillArgs(decode(run.args), live) as unknown[];
    const mod = await importGuarded(moduleUrl, load);
    const f = mod[run.target];
    if (typeof f !== "function") {
      throw new TypeError(
        `Cannot run '${run.target}' as ${moduleUrl} has no exported function of that name`,
      );
    }
    fn = f as Fn;
  } catch (e) {
    await control.send(
      { t: "failed", error: errorToWire(e) } satisfies StartMessage,
    )
      .catch(() => {});
    Deno.exit(1);
  }
  watchParent(control);
  await control.send({ t: "ready" } satisfies StartMessage);
  try {
    await fn(...args);
  } catch (e) {
    console.error(`Process ${run.name}:`);
    console.error(e);
    Deno.exit(1);
  }
  Deno.exit(0);
}
