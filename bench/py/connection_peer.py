"""CPython side of bench/connection_bench.ts.

Runs one scenario with CPython's own multiprocessing.connection on both ends
(the serving end in a forked child process, the driving end in this process)
and prints one JSON object on stdout:

    {"scenario": ..., "unit": ..., "runs": [r1, r2, r3], "median": m}

Usage: python3 connection_peer.py SCENARIO [SECONDS_PER_RUN] [RUNS]
With RUNS = 0 it is driven line by line: "warm" or "run" on stdin, one JSON
line on stdout each ({"ok": true} / {"rate": r}); EOF ends it. That lets
bench/connection_bench.ts interleave its runs with the Deno ones.

Scenarios: rtt-tcp, rtt-unix, rtt-obj-tcp, pipelined-tcp, pipelined-obj-tcp
(send/recv of a 14-byte bytes object), bulk-tcp, handshake-tcp, handshake-unix.
"""

import json
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Client, Listener

MSG16 = b"x" * 16
OBJ = {"id": 1, "op": "get", "args": [1, "x"]}
MIB = 1024 * 1024
BULK = b"b" * MIB
AUTHKEY = b"bench-secret"


def listener_for(family, authkey=None):
    """A listener, and the temp dir to remove after it (AF_UNIX) or None."""
    if family == "AF_UNIX":
        d = tempfile.mkdtemp(prefix="mproc-pybench-")
        path = os.path.join(d, "s.sock")
        return Listener(path, "AF_UNIX", authkey=authkey), d
    return Listener(("127.0.0.1", 0), "AF_INET", authkey=authkey), None


# -- serving ends (child process) --

def serve_echo_bytes(listener):
    with listener.accept() as c:
        try:
            while True:
                c.send_bytes(c.recv_bytes())
        except EOFError:
            pass


def serve_echo_obj(listener):
    with listener.accept() as c:
        try:
            while True:
                c.send(c.recv())
        except EOFError:
            pass


def serve_sink(listener):
    """Receives a count N, then N messages, then acknowledges; repeats."""
    with listener.accept() as c:
        try:
            while True:
                n = int(c.recv_bytes())
                recv = c.recv_bytes
                for _ in range(n):
                    recv()
                c.send_bytes(b"ok")
        except EOFError:
            pass


def serve_sink_obj(listener):
    """As serve_sink, with recv() (unpickling) for the N messages."""
    with listener.accept() as c:
        try:
            while True:
                n = int(c.recv_bytes())
                recv = c.recv
                for _ in range(n):
                    recv()
                c.send_bytes(b"ok")
        except EOFError:
            pass


def serve_accept_forever(listener):
    while True:
        c = listener.accept()
        c.close()


# -- driving ends (this process) --

def timed(fn, seconds):
    """Calls fn(k) (k iterations) until `seconds` elapse; returns iterations/s."""
    count = 0
    k = 64
    t0 = time.perf_counter()
    end = t0 + seconds
    while True:
        fn(k)
        count += k
        now = time.perf_counter()
        if now >= end:
            return count / (now - t0)


def drive_rtt_bytes(c):
    send, recv = c.send_bytes, c.recv_bytes

    def run(k):
        for _ in range(k):
            send(MSG16)
            recv()
    return run


def drive_rtt_obj(c):
    send, recv = c.send, c.recv

    def run(k):
        for _ in range(k):
            send(OBJ)
            recv()
    return run


def one_batch(c, n, payload, obj=False):
    t0 = time.perf_counter()
    c.send_bytes(str(n).encode())
    send = c.send if obj else c.send_bytes
    for _ in range(n):
        send(payload)
    assert c.recv_bytes() == b"ok"
    return time.perf_counter() - t0


class Batches:
    """Sends batches of N messages; warm() calibrates N to about `seconds`."""

    def __init__(self, c, payload, per_item, obj=False):
        self.c, self.payload, self.per_item, self.obj = c, payload, per_item, obj
        self.n = 2000 if len(payload) < 1024 else 50

    def warm(self, seconds):
        dt = one_batch(self.c, self.n, self.payload, self.obj)
        self.n = max(self.n, int(self.n * seconds / max(dt, 1e-6)))

    def run(self, _seconds):
        dt = one_batch(self.c, self.n, self.payload, self.obj)
        return self.n * self.per_item / dt


class Timed:
    """Repeats fn(k) for `seconds`."""

    def __init__(self, fn):
        self.fn = fn

    def warm(self, _seconds):
        timed(self.fn, 0.3)

    def run(self, seconds):
        return timed(self.fn, seconds)


def setup(scenario):
    """Starts the serving child; returns (unit, measurer, cleanup)."""
    ctx = mp.get_context("fork")
    family = "AF_UNIX" if scenario.endswith("unix") else "AF_INET"
    authkey = AUTHKEY if scenario.startswith("handshake") else None
    listener, tmpdir = listener_for(family, authkey)
    if scenario.startswith("rtt-obj"):
        target, unit = serve_echo_obj, "round trips/s"
    elif scenario.startswith("rtt"):
        target, unit = serve_echo_bytes, "round trips/s"
    elif scenario.startswith("pipelined-obj"):
        target, unit = serve_sink_obj, "msgs/s"
    elif scenario.startswith("pipelined"):
        target, unit = serve_sink, "msgs/s"
    elif scenario.startswith("bulk"):
        target, unit = serve_sink, "MB/s"
    elif scenario.startswith("handshake"):
        target, unit = serve_accept_forever, "handshakes/s"
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    child = ctx.Process(target=target, args=(listener,), daemon=True)
    child.start()
    address = listener.address
    conn = None
    if scenario.startswith("handshake"):
        def run(k):
            for _ in range(k):
                Client(address, family, authkey=authkey).close()
        m = Timed(run)
    else:
        conn = Client(address, family)
        if scenario.startswith("rtt"):
            drive = drive_rtt_obj if "obj" in scenario else drive_rtt_bytes
            m = Timed(drive(conn))
        elif scenario.startswith("pipelined-obj"):
            m = Batches(conn, MSG16[:14], 1, True)
        elif scenario.startswith("pipelined"):
            m = Batches(conn, MSG16, 1)
        else:
            m = Batches(conn, BULK, MIB / 1e6)

    def cleanup():
        if conn is not None:
            conn.close()
        if child.is_alive():
            child.terminate()
        child.join(5)
        listener.close()
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
    return unit, m, cleanup


def main():
    scenario = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    unit, m, cleanup = setup(scenario)
    try:
        if runs == 0:
            # Driven: a line "warm" or "run" on stdin -> one JSON line on
            # stdout; EOF ends.
            for line in sys.stdin:
                cmd = line.strip()
                if cmd == "warm":
                    m.warm(seconds)
                    print(json.dumps({"ok": True}), flush=True)
                elif cmd == "run":
                    print(json.dumps({"rate": m.run(seconds)}), flush=True)
            return
        m.warm(seconds)
        results = [m.run(seconds) for _ in range(runs)]
    finally:
        cleanup()
    print(json.dumps({
        "scenario": scenario,
        "unit": unit,
        "runs": results,
        "median": statistics.median(results),
    }))


if __name__ == "__main__":
    main()
