// The plain-data profile: the only globals CPython's protocols 2–4 use for
// plain values (set, frozenset, bytearray, bytes, and `_codecs.encode` for
// protocol 2's bytes). API.md §7 fixes this list; nothing else is read.

import { asBytearray, asFrozenset } from "./_brands.ts";
import type { GlobalEntry, ReaderProfile, ReduceContext } from "./_reader.ts";

/** `builtins.set([...])` / `builtins.frozenset([...])`. */
function setOf(
  args: readonly unknown[],
  ctx: ReduceContext,
  what: string,
): Set<unknown> {
  const set = new Set<unknown>();
  if (args.length === 0) return set;
  const items = args[0];
  if (args.length !== 1 || !Array.isArray(items)) {
    ctx.fail("expects one list or tuple of items");
  }
  for (const x of items) {
    ctx.requireHashable(x, what);
    set.add(x);
  }
  return set;
}

/** `builtins.bytes()` / `builtins.bytearray(b)`: () or (bytes,). */
function bytesOf(args: readonly unknown[], ctx: ReduceContext): Uint8Array {
  if (args.length === 0) return new Uint8Array(0);
  const b = args[0];
  if (args.length !== 1 || !(b instanceof Uint8Array)) {
    ctx.fail("expects no argument or one bytes");
  }
  return b.slice();
}

/** `_codecs.encode(text, 'latin1')`: protocol 2's spelling of bytes. */
function latin1(args: readonly unknown[], ctx: ReduceContext): Uint8Array {
  const [text, encoding] = args;
  if (
    args.length !== 2 || typeof text !== "string" ||
    (encoding !== "latin1" && encoding !== "latin-1")
  ) {
    ctx.fail("only (str, 'latin1') is read");
  }
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) ctx.fail("the text is not latin-1");
    out[i] = c;
  }
  return out;
}

const set: GlobalEntry = { reduce: (a, ctx) => setOf(a, ctx, "a set item") };
const frozenset: GlobalEntry = {
  reduce: (a, ctx) => asFrozenset(setOf(a, ctx, "a frozenset item")),
};
const bytearray: GlobalEntry = {
  reduce: (a, ctx) => asBytearray(bytesOf(a, ctx)),
};
const bytes: GlobalEntry = { reduce: bytesOf };
const encode: GlobalEntry = { reduce: latin1 };

/** The plain-data globals (API.md §7), keyed `module.name`. */
export const PLAIN_GLOBALS: ReadonlyMap<string, GlobalEntry> = new Map([
  ["builtins.set", set],
  ["builtins.frozenset", frozenset],
  ["builtins.bytearray", bytearray],
  ["builtins.bytes", bytes],
  ["_codecs.encode", encode],
]);

/** The profile of the public `loads()`. */
export const PLAIN_PROFILE: ReaderProfile = { globals: PLAIN_GLOBALS };
