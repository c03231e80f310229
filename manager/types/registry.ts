// Registered shared-object types: what a server can create, which methods
// clients may call, and which methods return new shared objects.

/** A factory (function or class) building the referent of a type. */
export type Callable =
  | ((...args: never[]) => object)
  | (new (...args: never[]) => object);

/**
 * Options of `BaseManager.register()`.
 *
 * @example Expose some methods
 * ```ts
 * import { BaseManager, type RegisterOptions } from "@mproc/multiprocessing/manager";
 *
 * class Box {
 *   #v = 0;
 *   get(): number {
 *     return this.#v;
 *   }
 *   set(v: number): void {
 *     this.#v = v;
 *   }
 * }
 * class BoxManager extends BaseManager {}
 * const options: RegisterOptions = { exposed: ["get", "set"] };
 * BoxManager.register("Box", Box, options);
 * ```
 */
export interface RegisterOptions {
  /** The methods clients may call; default: every public method (no leading `_`). */
  exposed?: string[];
  /** Methods whose result is shared as a new object of the given typeid (a proxy is returned). */
  methodToTypeid?: Record<string, string>;
}

/** One registered type. */
export interface TypeSpec {
  /** The type's name on the wire. */
  typeid: string;
  /** Builds a referent; `undefined` for types only returned by `methodToTypeid` methods. */
  callable: Callable | undefined;
  /** The methods clients may call (default: the referent's public methods). */
  exposed: string[] | undefined;
  /** Methods returning new shared objects, by typeid. */
  methodToTypeid: Record<string, string> | undefined;
}

/** Names a proxy reserves for itself: never exposed as remote methods. */
export const RESERVED = new Set([
  "then",
  "constructor",
  "token",
  "catch",
  "finally",
]);

/** Checks and builds a `TypeSpec` (throws TypeError for bad arguments). */
export function makeSpec(
  typeid: unknown,
  callable: unknown,
  options: RegisterOptions | undefined,
): TypeSpec {
  if (typeof typeid !== "string" || typeid === "") {
    throw new TypeError(
      `Cannot register the type as its typeid must be a non-empty string: received ${
        String(typeid)
      }`,
    );
  }
  if (
    callable !== undefined && callable !== null &&
    typeof callable !== "function"
  ) {
    throw new TypeError(
      `Cannot register '${typeid}' as its callable must be a function or a class`,
    );
  }
  const exposed = options?.exposed;
  if (exposed !== undefined) {
    if (!Array.isArray(exposed) || exposed.some((m) => typeof m !== "string")) {
      throw new TypeError(
        `Cannot register '${typeid}' as exposed must be an array of method names`,
      );
    }
    for (const m of exposed) {
      if (RESERVED.has(m)) {
        throw new TypeError(
          `Cannot register '${typeid}' as the method name '${m}' is reserved by proxies`,
        );
      }
    }
  }
  const m2t = options?.methodToTypeid;
  if (m2t !== undefined) {
    if (
      m2t === null || typeof m2t !== "object" ||
      Object.values(m2t).some((t) => typeof t !== "string")
    ) {
      throw new TypeError(
        `Cannot register '${typeid}' as methodToTypeid must map method names to typeids`,
      );
    }
  }
  return {
    typeid,
    callable: (callable ?? undefined) as Callable | undefined,
    exposed: exposed ? [...exposed] : undefined,
    methodToTypeid: m2t ? { ...m2t } : undefined,
  };
}

/** Every registration made in this thread, in order (what `start({ module })` serves). */
export const allRegistrations: Map<string, TypeSpec> = new Map();

const publicCache = new WeakMap<object, string[]>();

/** The public methods of `obj`: functions reachable on it, not starting with `_`. */
export function publicMethods(obj: object): string[] {
  const proto = Object.getPrototypeOf(obj);
  const cached = proto && Object.getOwnPropertyNames(obj).length === 0
    ? publicCache.get(proto)
    : undefined;
  if (cached) return cached;
  const names = new Set<string>();
  for (
    let o: object | null = obj;
    o && o !== Object.prototype;
    o = Object.getPrototypeOf(o)
  ) {
    for (const k of Object.getOwnPropertyNames(o)) {
      if (k.startsWith("_") || RESERVED.has(k) || names.has(k)) continue;
      const d = Object.getOwnPropertyDescriptor(o, k);
      if (d && typeof d.value === "function") names.add(k);
    }
  }
  const out = [...names];
  if (proto && Object.getOwnPropertyNames(obj).length === 0) {
    publicCache.set(proto, out);
  }
  return out;
}

/** Calls a callable as a class (with `new`) or as a function. */
export function construct(callable: Callable, args: unknown[]): unknown {
  if (isClass(callable)) {
    return Reflect.construct(
      callable as unknown as new (...a: unknown[]) => object,
      args,
    );
  }
  return (callable as unknown as (...a: unknown[]) => object)(...args);
}

function isClass(fn: Callable): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(fn));
}
