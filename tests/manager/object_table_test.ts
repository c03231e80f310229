// The server's one table of objects: every reference count lives here, per
// holder; an object goes when its last reference does.

import assert from "node:assert/strict";
import { newHolder, ObjectTable } from "../../manager/server/_object_table.ts";
import { makeSpec } from "../../manager/types/registry.ts";

const SPEC = makeSpec("Box", () => ({}), { exposed: ["get"] });

Deno.test("ObjectTable: add, incref and decref per holder; the object goes with its last reference", () => {
  const t = new ObjectTable();
  const a = newHolder();
  const b = newHolder();
  const ref = t.add(a, SPEC, { get: () => 1 });
  assert.deepEqual(ref, { typeid: "Box", id: ref.id, exposed: ["get"] });
  t.incref(b, ref.id);
  t.incref(b, ref.id);
  assert.equal(t.get(ref.id).refs, 3);
  assert.equal(a.refs.get(ref.id), 1);
  assert.equal(b.refs.get(ref.id), 2);
  assert.equal(t.decref(a, ref.id), true);
  // A holder cannot drop a reference it does not hold.
  assert.equal(t.decref(a, ref.id), false);
  assert.equal(t.get(ref.id).refs, 2);
  t.decref(b, ref.id);
  t.decref(b, ref.id);
  assert.equal(t.size, 0);
  assert.throws(() => t.get(ref.id), ReferenceError);
  assert.throws(() => t.incref(a, ref.id), ReferenceError);
});

Deno.test("ObjectTable: a loan keeps the object until repaid; releaseAll drops a holder's references and loans", () => {
  const t = new ObjectTable();
  const sender = newHolder();
  const receiver = newHolder();
  const { id } = t.add(sender, SPEC, {});
  t.lend(sender, id, "loan-1");
  // The sender releases its own proxy: the loan still holds the object.
  t.decref(sender, id);
  assert.equal(t.get(id).refs, 1);
  t.incref(receiver, id);
  t.repay("loan-1", id);
  assert.equal(t.get(id).refs, 1);
  assert.equal(sender.refs.size, 0);
  assert.equal(sender.loans.size, 0);
  // A repaid (or unknown) loan is not repaid twice.
  t.repay("loan-1", id);
  assert.equal(t.get(id).refs, 1);
  t.lend(receiver, id, "loan-2");
  t.releaseAll(receiver);
  assert.equal(t.size, 0);
  assert.equal(receiver.loans.size, 0);
  t.repay("loan-2", id);
  assert.equal(t.size, 0);
});
