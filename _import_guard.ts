// The self-import runaway guard (API.md §9). A worker thread or child process
// imports the user's module to find its task functions; a module that starts
// a Pool, Manager or Process of itself at top level (no
// `if (import.meta.main)`) would start another one in every worker, which
// starts another one in each of its workers… So the worker/child entry wraps
// that import in `importGuarded`, and the constructors of Pool, Manager and
// Process call `assertNotImporting` first: while the import runs, they throw.
//
// The flag lives on `globalThis` under a registered symbol, one per isolate,
// so it holds even when the user's module reaches this package through
// another specifier (another copy of the same files).

const SLOT: unique symbol = Symbol.for(
  "@mproc/multiprocessing.importing",
) as never;

type Scope = Record<typeof SLOT, string | undefined>;

/** The URL being imported by a worker/child entry now, if any. */
export function importingNow(): string | undefined {
  return (globalThis as unknown as Scope)[SLOT];
}

/**
 * Runs `load` (the import of the user's module at `url`) with the flag set;
 * the flag is cleared when it settles.
 */
export async function importGuarded<T>(
  url: string,
  load: () => Promise<T>,
): Promise<T> {
  const scope = globalThis as unknown as Scope;
  const prev = scope[SLOT];
  scope[SLOT] = url;
  try {
    return await load();
  } finally {
    scope[SLOT] = prev;
  }
}

/** Throws when called while a worker/child imports the user's module. */
export function assertNotImporting(what: "Pool" | "Manager" | "Process"): void {
  const url = importingNow();
  if (url === undefined) return;
  throw new Error(
    `Cannot start a ${what} while a worker or child process imports ${url}: the module starts a ${what} at top level; put it under \`if (import.meta.main)\``,
  );
}
