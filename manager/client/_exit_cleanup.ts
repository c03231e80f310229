// The private temp dirs (and the socket files in them) of the managers this
// thread started, removed on every way out of the program but SIGKILL: the
// normal end and `Deno.exit()` (the `unload` event), an uncaught error or
// rejection (the `error` / `unhandledrejection` events, unless a handler
// prevented the exit), and SIGINT / SIGTERM (removed, then the process exits
// with 130 / 143, the shell's code for the default action). The listeners are
// installed while at least one dir is registered.

const dirs = new Set<string>();
let installed = false;

function removeAll(): void {
  for (const d of dirs) {
    try {
      Deno.removeSync(d, { recursive: true });
    } catch {
      // gone already, or no permission: nothing more can be done at exit
    }
  }
  dirs.clear();
}

const onUnload = (): void => removeAll();
const onFatal = (e: Event): void => {
  // A handler registered before this one kept the program running.
  if (!e.defaultPrevented) removeAll();
};
const SIGNALS = [["SIGINT", 130], ["SIGTERM", 143]] as const;
const onSignal = SIGNALS.map(([, code]) => (): void => {
  removeAll();
  Deno.exit(code);
});

function install(on: boolean): void {
  if (installed === on) return;
  installed = on;
  const method = on ? "addEventListener" : "removeEventListener";
  globalThis[method]("unload", onUnload);
  globalThis[method]("error", onFatal);
  globalThis[method]("unhandledrejection", onFatal);
  SIGNALS.forEach(([sig], i) => {
    try {
      if (on) Deno.addSignalListener(sig, onSignal[i]);
      else Deno.removeSignalListener(sig, onSignal[i]);
    } catch {
      // this platform has no such signal (SIGTERM on Windows)
    }
  });
}

/**
 * Removes `dir` (recursively) when the program ends, however it ends but
 * SIGKILL. Returns the function that takes it off the list, removing it now
 * if it is still there (call it once the server is stopped).
 */
export function removeAtExit(dir: string): () => void {
  dirs.add(dir);
  install(true);
  return () => {
    if (!dirs.delete(dir)) return;
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // removed by its listener already
    }
    if (dirs.size === 0) install(false);
  };
}
