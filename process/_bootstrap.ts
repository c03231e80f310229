// The child side of a Process (CPython's `spawn._main` +
// `BaseProcess._bootstrap`): take the control connection the child dialed
// (`_dial.ts`), learn what to run, import the module under the self-import
// guard, report ready (or why not), run the target and exit with 0, or 1
// after printing what it threw. At the end of the control connection (the
// parent died or let go) the child exits at once.
//
// The control connection is a bare `SocketChannel` and the headers are JSON
// (`_protocol.ts`): what handles args (msgpackr, manager proxies, Pipe()
// relays) and errors is imported only when there are any, so an empty
// target starts without loading the connection layer.

import type { Channel } from "../connection/_channel.ts";
import { SocketChannel } from "../connection/_socket_channel.ts";
import { importGuarded } from "../_import_guard.ts";
import { setCurrentIdentity } from "./_current.ts";
import type { Dialed } from "./_dial.ts";
import {
  jsonFrame,
  parseFrame,
  type RunHeader,
  type RunPayload,
} from "./_protocol.ts";

type Fn = (...args: unknown[]) => unknown;

/** No frame limit from the parent (it is the one that started this child). */
const MAX_FRAME = Number.MAX_SAFE_INTEGER;

/** The next frame; the process exits when the parent is gone. */
async function nextFrame(control: Channel): Promise<Uint8Array> {
  let frame: Uint8Array | null = null;
  try {
    frame = await control.readFrame(MAX_FRAME);
  } catch {
    // a broken connection: the parent is gone
  }
  if (frame === null) Deno.exit(1);
  return frame;
}

/** The args of a payload frame, with their live handles in place. */
async function liveArgs(bytes: Uint8Array, dialed: Dialed): Promise<unknown[]> {
  const [{ decode }, { decodeFromPost }, { fillArgs }, { openAux }] =
    await Promise.all([
      import("../_msgpack.ts"),
      import("../_transfer.ts"),
      import("./_placeholders.ts"),
      import("./_connect.ts"),
    ]);
  const { args, handles } = decode(bytes) as RunPayload;
  const live = await Promise.all(
    handles.map((h) =>
      h.kind === "relay" ? openAux(dialed, h.id) : decodeFromPost(h.marker)
    ),
  );
  return fillArgs(decode(args), live) as unknown[];
}

/** Tells the parent why the target cannot run. */
async function sendFailure(control: Channel, e: unknown): Promise<void> {
  const [{ encode }, { errorToWire }] = await Promise.all([
    import("../_msgpack.ts"),
    import("../_error_wire.ts"),
  ]);
  await control.writeFrame(jsonFrame({ t: "failed" }));
  await control.writeFrame(encode(errorToWire(e)));
  await control.flushed();
}

/** Reads the control connection until it ends, then exits. */
async function watchParent(control: Channel): Promise<void> {
  for (;;) await nextFrame(control);
}

/** Entry of the child (called by the generated main module). */
export async function main(
  moduleUrl: string,
  load: () => Promise<Record<string, unknown>>,
  dialing: Promise<Dialed>,
): Promise<void> {
  const dialed = await dialing;
  const control = new SocketChannel(dialed.control);
  const run = parseFrame<RunHeader>(await nextFrame(control));
  setCurrentIdentity({ name: run.name, identity: run.identity });
  let fn: Fn;
  let args: unknown[] = [];
  try {
    if (run.payload) args = await liveArgs(await nextFrame(control), dialed);
    const mod = await importGuarded(moduleUrl, load);
    const f = mod[run.target];
    if (typeof f !== "function") {
      throw new TypeError(
        `Cannot run '${run.target}' as ${moduleUrl} has no exported function of that name`,
      );
    }
    fn = f as Fn;
  } catch (e) {
    await sendFailure(control, e).catch(() => {});
    Deno.exit(1);
  }
  watchParent(control);
  // written before the target runs (it may block the event loop)
  await control.writeFrame(jsonFrame({ t: "ready" }));
  await control.flushed();
  try {
    await fn(...args);
  } catch (e) {
    console.error(`Process ${run.name}:`);
    console.error(e);
    Deno.exit(1);
  }
  Deno.exit(0);
}
