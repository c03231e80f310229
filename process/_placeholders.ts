// The placeholder of a live handle in a child's args (see _args.ts), and
// how the child puts the live handles back. Kept apart from _args.ts so the
// child does not load what only the parent needs (manager proxies).

/** The key of a handle placeholder: `{ [ARG_MARK]: i }` stands for handle i. */
export const ARG_MARK = "\u0000mproc-arg";

/** Arrays and plain objects (the containers searched for handles). */
export function isPlain(v: object): boolean {
  if (Array.isArray(v)) return true;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** Replaces placeholders in `value` (in place) with `live[i]`. */
export function fillArgs(value: unknown, live: unknown[], depth = 0): unknown {
  if (value === null || typeof value !== "object" || depth > 64) return value;
  if (ArrayBuffer.isView(value)) return value;
  const o = value as Record<string, unknown>;
  if (typeof o[ARG_MARK] === "number" && Object.keys(o).length === 1) {
    return live[o[ARG_MARK] as number];
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      value[i] = fillArgs(value[i], live, depth + 1);
    }
  } else if (isPlain(value)) {
    for (const k in o) o[k] = fillArgs(o[k], live, depth + 1);
  }
  return value;
}
