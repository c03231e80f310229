// The one error wire shape of pool and manager (_error_wire.ts).
import assert from "node:assert/strict";
import { errorFromWire, errorToWire, isErrorWire } from "../_error_wire.ts";
import { RemoteError } from "../errors.ts";

class CodedError extends Error {
  code = "E_CODED";
  errno = -2;
  meta = { path: "/x", tags: ["a"] };
  fn = (): number => 1;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CodedError";
  }
}

Deno.test("errorToWire/errorFromWire keep a subclass's name, message, stack and own cloneable fields", () => {
  const wire = errorToWire(new CodedError("boom"));
  // plain data: structured clone and JSON both carry it
  const copy = structuredClone(wire);
  assert.deepEqual(JSON.parse(JSON.stringify(copy)), copy);
  const err = errorFromWire(copy);
  assert.ok(err instanceof RemoteError);
  assert.equal(err.remoteName, "CodedError");
  assert.equal(err.remoteMessage, "boom");
  assert.match(err.remoteStack ?? "", /CodedError: boom/);
  const fields = err as unknown as Record<string, unknown>;
  assert.equal(fields.code, "E_CODED");
  assert.equal(fields.errno, -2);
  assert.deepEqual(fields.meta, { path: "/x", tags: ["a"] });
  assert.equal("fn" in err, false, "a function field is left out");
  const orig = err.cause as Error & { code: string };
  assert.ok(orig instanceof Error);
  assert.equal(orig.name, "CodedError");
  assert.equal(orig.message, "boom");
  assert.equal(orig.code, "E_CODED");
});

Deno.test("errorToWire carries a chain of causes; errorFromWire rebuilds it", () => {
  const inner = new RangeError("inner");
  const wire = structuredClone(
    errorToWire(new CodedError("outer", { cause: inner })),
  );
  const err = errorFromWire(wire);
  const outer = err.cause as Error;
  assert.equal(outer.name, "CodedError");
  const c = outer.cause as Error;
  assert.ok(c instanceof Error);
  assert.equal(c.name, "RangeError");
  assert.equal(c.message, "inner");
});

Deno.test("errorToWire of thrown non-Error values keeps the value when cloneable", () => {
  const n = errorFromWire(structuredClone(errorToWire(42)));
  assert.equal(n.remoteName, "number");
  assert.equal(n.remoteMessage, "42");
  assert.equal(n.cause, 42);
  const o = errorFromWire(structuredClone(errorToWire({ why: "x" })));
  assert.equal(o.remoteName, "Error");
  assert.deepEqual(o.cause, { why: "x" });
  const f = errorToWire(() => 1);
  assert.equal(f.name, "function");
  // the wire stays cloneable: the function itself is left out
  assert.equal(errorFromWire(structuredClone(f)).cause, undefined);
});

Deno.test("errorFromWire refuses a malformed wire and never lets fields overwrite its own", () => {
  assert.equal(isErrorWire({ name: 1, message: "x" }), false);
  const bad = errorFromWire({ nope: true });
  assert.ok(bad instanceof RemoteError);
  assert.equal(bad.remoteName, "ProtocolError");
  const sneaky = errorFromWire({
    name: "E",
    message: "m",
    fields: { remoteName: "X", message: "Y", code: 7 },
  });
  assert.equal(sneaky.remoteName, "E");
  assert.equal(sneaky.remoteMessage, "m");
  assert.equal((sneaky as unknown as { code: number }).code, 7);
});
