"""CPython side of tests/pickle/interop_test.ts (serializer "pickle").

Reads one JSON command per line on stdin, answers with JSON lines on stdout.
One process per interpreter runs the whole scripted sequence.

The values are SAMPLES of tests/pickle/fixtures/plain_types.py (a copy of
../shared/pickle/plain_types.py) followed by EXTRA below; JS_VALUES are what
the Deno side builds from JS values (plain objects, undefined, typed arrays).

Commands:
  {"op": "version"} -> {"version": "3.x.y"}
  {"op": "values"} -> {"names": [...], "hex": [pickle.dumps(v, 4).hex(), ...]}
  {"op": "send_to", "family", "address", "authkey": hex}
      Python connects and, for each value, conn.send(v) (ForkingPickler,
      protocol 4), then reads two echoes (Deno's protocol 4 and 5) and
      compares each with v (type and value, recursively).
      -> {"ok": true, "count": n} | {"ok": false, "failures": [...]}
  {"op": "recv_from", "family", "authkey": hex}
      -> {"address": ...}; accepts one connection; for each value reads
      conn.recv() (Deno's protocol 4) and three raw frames (protocols 2, 3,
      5) loaded with pickle.loads, compares all with v, and echoes v with
      conn.send(v); then the JS_VALUES frames, compared with JS_VALUES.
      -> {"ok": true, "count": n} | {"ok": false, "failures": [...]}
  {"op": "quit"}
"""
import math
import os
import pickle
import sys

from _peer import connect, listen, out, run

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pickle", "fixtures"))
from plain_types import SAMPLES  # noqa: E402

def nested(n):
    v = []
    for _ in range(n - 1):
        v = [v]
    return v


EXTRA = [
    ("str with a leading BOM", "\ufeffBOM"),
    ("str surrogate pair as two lone halves", "a\udbff-\udc00b"),
    ("str 300 non-ASCII chars", "\u00e9\u4e2d" * 150),
    ("str 70000 chars (outside frames)", "y" * 70000),
    ("bytes 1 MiB", bytes(range(256)) * 4096),
    ("bytearray 70000", bytearray(b"\x07") * 70000),
    ("int -2**2048", -(2**2048)),
    ("int 2**53", 2**53),
    ("int -2**53-1", -(2**53) - 1),
    ("float 1e300", 1e300),
    ("float -inf", float("-inf")),
    ("list of 2500 ints", list(range(2500))),
    ("dict of 2500", {i: str(i) for i in range(2500)}),
    ("set of 2500", set(range(2500))),
    ("frozenset of 1500 tuples", frozenset((i, -i) for i in range(1500))),
    ("dict with tuple, frozenset, bytes, None keys",
     {(1, (2, 3)): "t", frozenset({1}): "f", b"k": "b", None: "n", 1.5: "x", True: "T"}),
    ("nested 100 lists", nested(100)),
    ("tuple of containers", ([1], {"a": ()}, {2}, frozenset(), bytearray(b"x"))),
]

VALUES = list(SAMPLES) + EXTRA

JS_VALUES = [
    ("js plain object", {"a": 1, "b": [True, None], "c": {"d": "e"}}),
    ("js undefined", None),
    ("js Int16Array [1, -1]", b"\x01\x00\xff\xff"),
    ("js integral number 2**60", 2**60),
    ("js -0", -0.0),
    ("js 0.1", 0.1),
    ("js Map with mixed keys", {1: "one", "1": "str one", (1, 2): "t"}),
    ("js tuple of tuples", ((), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4))),
]


def same(a, b):
    """Equal and of the same type, recursively (2 and 2.0 differ)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            same(k1, k2) and same(v1, v2)
            for (k1, v1), (k2, v2) in zip(a.items(), b.items())
        )
    if isinstance(a, (set, frozenset)):
        return a == b and sorted(map(repr, a)) == sorted(map(repr, b))
    return a == b


def check(failures, name, want, got, how):
    if not same(want, got):
        failures.append("%s (%s): got %s" % (name, how, repr(got)[:200]))


def report(failures, count):
    if failures:
        out(ok=False, failures=failures[:20])
    else:
        out(ok=True, count=count)


def send_to(conn):
    failures = []
    for name, v in VALUES:
        conn.send(v)
        for how in ("echo protocol 4", "echo protocol 5"):
            check(failures, name, v, conn.recv(), how)
    conn.send("bye")
    return failures, len(VALUES)


def recv_from(conn):
    failures = []
    for name, v in VALUES:
        check(failures, name, v, conn.recv(), "send() protocol 4")
        for proto in (2, 3, 5):
            raw = conn.recv_bytes()
            if raw[1] != proto:
                failures.append("%s: frame has protocol %d, not %d" % (name, raw[1], proto))
            check(failures, name, v, pickle.loads(raw), "dumps protocol %d" % proto)
        conn.send(v)
    for name, v in JS_VALUES:
        check(failures, name, v, pickle.loads(conn.recv_bytes()), "from JS")
    return failures, len(VALUES) + len(JS_VALUES)


def on_values(_cmd):
    out(names=[n for n, _ in VALUES],
        hex=[pickle.dumps(v, 4).hex() for _, v in VALUES],
        js=[n for n, _ in JS_VALUES])


def on_send_to(cmd):
    try:
        conn = connect(cmd, bytes.fromhex(cmd["authkey"]))
        try:
            report(*send_to(conn))
        finally:
            conn.close()
    except Exception as e:  # reported to the test
        out(ok=False, failures=["%s: %s" % (type(e).__name__, e)])


def on_recv_from(cmd):
    l = listen(cmd, bytes.fromhex(cmd["authkey"]))
    try:
        conn = l.accept()
        try:
            report(*recv_from(conn))
        finally:
            conn.close()
    except Exception as e:
        out(ok=False, failures=["%s: %s" % (type(e).__name__, e)])
    finally:
        l.close()


run({"values": on_values, "send_to": on_send_to, "recv_from": on_recv_from})
