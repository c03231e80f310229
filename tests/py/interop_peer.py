"""CPython side of tests/connection/interop_test.ts.

Reads one JSON command per line on stdin, answers with JSON lines on stdout.
One process per interpreter runs the whole scripted sequence.

Commands:
  {"op": "listen", "family": "AF_INET"|"AF_UNIX", "authkey": hex|null}
      -> {"address": ...}  (then accepts one connection and echoes)
      -> {"ok": true, "count": n} | {"ok": false, "error": ClassName, "message": str}
  {"op": "connect", "family": ..., "address": ..., "authkey": hex|null}
      -> {"ok": true} | {"ok": false, "error": ClassName, "message": str}
  {"op": "version"} -> {"version": "3.x.y"}
  {"op": "quit"}

Echo protocol (both directions): the driving side sends payloads of
0 B, 16 B and 1 MiB with send_bytes (payload i = pattern(n, i)); the echoing
side answers each with the bytes reversed; b"bye" ends the session.
"""
from _peer import connect, listen, out, run

SIZES = [0, 16, 1 << 20]


def key(h):
    return None if h is None else bytes.fromhex(h)


def pattern(n, seed):
    # Same bytes as tests/connection/_helpers.ts pattern(n, seed).
    base = bytes(((i * 31 + seed) & 0xFF) for i in range(256))
    return (base * (n // 256 + 1))[:n]


def serve(conn):
    n = 0
    while True:
        b = conn.recv_bytes()
        if b == b"bye":
            return n
        conn.send_bytes(b[::-1])
        n += 1


def drive(conn):
    for i, n in enumerate(SIZES):
        p = pattern(n, i)
        conn.send_bytes(p)
        r = conn.recv_bytes()
        if r != p[::-1]:
            raise ValueError("bad echo for %d bytes (got %d bytes)" % (n, len(r)))
    conn.send_bytes(b"bye")


def fail(e):
    out(ok=False, error=type(e).__name__, message=str(e))


def on_listen(cmd):
    l = listen(cmd, key(cmd["authkey"]))
    try:
        conn = l.accept()
        try:
            out(ok=True, count=serve(conn))
        finally:
            conn.close()
    except Exception as e:  # reported to the test
        fail(e)
    finally:
        l.close()


def on_connect(cmd):
    try:
        conn = connect(cmd, key(cmd["authkey"]))
        try:
            drive(conn)
        finally:
            conn.close()
        out(ok=True)
    except Exception as e:
        fail(e)


run({"listen": on_listen, "connect": on_connect})
