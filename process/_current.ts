// Who this process is (CPython's `_current_process`): "MainProcess" unless a
// bootstrap said otherwise. Kept on `globalThis` under a registered symbol so
// that every copy of this package in the isolate agrees.

const SLOT: unique symbol = Symbol.for(
  "@mproc/multiprocessing.currentProcess",
) as never;

/** This process's name and identity (`[1, 2]` for "Process-1:2"). */
export interface Identity {
  name: string;
  identity: number[];
}

type Scope = Record<typeof SLOT, Identity | undefined>;

/** This process's identity. */
export function currentIdentity(): Identity {
  return (globalThis as unknown as Scope)[SLOT] ??
    { name: "MainProcess", identity: [] };
}

/** Set once by the child bootstrap. */
export function setCurrentIdentity(id: Identity): void {
  (globalThis as unknown as Scope)[SLOT] = id;
}
