// The started, not yet finished children of this process (CPython's
// `_children`), for `activeChildren()`. Typed `object` so that this file
// imports nothing (a type import of process.ts made an import cycle); only
// process.ts adds to it, only Process objects.

/** What activeChildren() lists. */
export const active: Set<object> = new Set();
