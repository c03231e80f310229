// The started, not yet finished children of this process (CPython's
// `_children`), for `activeChildren()`.

import type { Process } from "./process.ts";

/** What activeChildren() lists. */
export const active: Set<Process> = new Set();
