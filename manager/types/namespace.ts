// The referent behind `SyncManager.Namespace(init?)` (CPython's
// `managers.Namespace`): named attributes; Python's attribute access becomes
// `get(name)` / `set(name, v)` / `delete(name)`.

import { AttributeError, storable } from "./_errors.ts";

function checkName(name: unknown): string {
  if (typeof name !== "string") {
    throw new TypeError(
      `Cannot use the attribute name as it must be a string: received ${typeof name}`,
    );
  }
  return name;
}

/** Server-side namespace. */
export class SharedNamespace {
  #attrs = new Map<string, unknown>();

  /** Creates a namespace with the attributes of `init`. */
  constructor(init?: Record<string, unknown> | null) {
    if (init !== undefined && init !== null) {
      if (typeof init !== "object") {
        throw new TypeError(
          `Cannot create the namespace from a value of type ${typeof init}`,
        );
      }
      for (const k in init) this.#attrs.set(k, init[k]);
    }
  }

  /** The attribute `name`; an `AttributeError` when missing. */
  get(name: string): unknown {
    checkName(name);
    if (!this.#attrs.has(name)) {
      throw new AttributeError(`'Namespace' object has no attribute '${name}'`);
    }
    return this.#attrs.get(name);
  }

  /** Sets the attribute `name`. */
  set(name: string, v: unknown): void {
    this.#attrs.set(checkName(name), storable(v));
  }

  /** Deletes the attribute `name`; an `AttributeError` when missing. */
  delete(name: string): void {
    if (!this.#attrs.delete(checkName(name))) throw new AttributeError(name);
  }

  /** A plain-object copy of the attributes. */
  toObject(): Record<string, unknown> {
    return Object.fromEntries(this.#attrs);
  }
}
