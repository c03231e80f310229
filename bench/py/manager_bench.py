"""CPython 3.11 anchor peer for bench/manager_bench.ts.

Reads one command per line on stdin and answers one JSON object per line on
stdout, so the Deno bench can interleave each CPython figure with its own
(the machine may be shared: back-to-back runs see the same load).

Commands:
  seq <figure>         ops/s of one multiprocessing.Manager() operation, one
                       client, sequential: queue_pairs value_get value_set
                       lock_pairs dict_set list_append
  startup              ms to Manager() ready and to its first Queue proxy
                       (medians of 5; default start method)
  agg4                 pairs/s of 4 client processes doing put+get
  remote <tcp|unix>    a SyncManager server in another process: ms to the
                       first remote proxy (connect + Queue, median of 5) and
                       sequential put+get pairs/s
  quit

Usage: python3 manager_bench.py [seconds_per_run] [runs]
Each rate: a warm-up, then `runs` runs of about `seconds_per_run`, best run.
"""
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from multiprocessing.managers import SyncManager

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 0.2
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 5


def rate(fn):
    """Best ops/s of fn() over RUNS runs of SECONDS, after a warm-up."""
    warm = time.perf_counter() + SECONDS
    while time.perf_counter() < warm:
        fn()
    best = 0.0
    for _ in range(RUNS):
        n = 0
        t0 = time.perf_counter()
        t = t0
        while t - t0 < SECONDS:
            for _ in range(20):
                fn()
            n += 20
            t = time.perf_counter()
        best = max(best, n / (t - t0))
    return best


class Objects:
    def __init__(self, m):
        self.q = m.Queue()
        self.v = m.Value("i", 0)
        self.lock = m.Lock()
        self.d = m.dict()
        self.lst = m.list()
        self.i = 0

    def queue_pairs(self):
        self.q.put(1)
        self.q.get()

    def value_get(self):
        self.v.get()

    def value_set(self):
        self.v.set(1)

    def lock_pairs(self):
        self.lock.acquire()
        self.lock.release()

    def dict_set(self):
        self.i += 1
        self.d[self.i & 1023] = self.i

    def list_append(self):
        self.lst.append(1)


def startup():
    starts, firsts = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        m = mp.Manager()
        starts.append((time.perf_counter() - t0) * 1000)
        q = m.Queue()
        firsts.append((time.perf_counter() - t0) * 1000)
        del q
        m.shutdown()
    return {"startup_ms": sorted(starts)[2], "first_proxy_ms": sorted(firsts)[2]}


def client_proc(address, authkey, n, conn):
    m = SyncManager(address=address, authkey=authkey)
    m.connect()
    q = m.Queue()
    for _ in range(500):
        q.put(1)
        q.get()
    conn.send("ready")
    conn.recv()  # go
    for _ in range(n):
        q.put(1)
        q.get()
    conn.send("done")


def aggregate(m, clients=4, n=3000):
    pipes, procs = [], []
    for _ in range(clients):
        a, b = mp.Pipe()
        p = mp.Process(target=client_proc, args=(m.address, bytes(m._authkey), n, b))
        p.start()
        pipes.append(a)
        procs.append(p)
    for a in pipes:
        assert a.recv() == "ready"
    t0 = time.perf_counter()
    for a in pipes:
        a.send("go")
    for a in pipes:
        a.recv()
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join()
    return {"agg4_pairs": clients * n / elapsed}


def remote(transport):
    authkey = os.urandom(32)
    with tempfile.TemporaryDirectory() as d:
        address = ("127.0.0.1", 0) if transport == "tcp" else os.path.join(d, "m.sock")
        srv = SyncManager(address=address, authkey=authkey)
        srv.start()
        try:
            firsts = []
            for _ in range(5):
                t0 = time.perf_counter()
                c = SyncManager(address=srv.address, authkey=authkey)
                c.connect()
                q = c.Queue()
                firsts.append((time.perf_counter() - t0) * 1000)

            def qpair():
                q.put(1)
                q.get()

            pairs = rate(qpair)
            del q
        finally:
            srv.shutdown()
    return {"first_ms": sorted(firsts)[2], "pairs": pairs}


def main():
    m = None
    objs = None
    print(json.dumps({"python": sys.version.split()[0], "start_method": mp.get_start_method()}), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        if cmd[0] in ("seq", "agg4") and m is None:
            m = mp.Manager()
            objs = Objects(m)
        if cmd[0] == "seq":
            out = {"rate": rate(getattr(objs, cmd[1]))}
        elif cmd[0] == "startup":
            out = startup()
        elif cmd[0] == "agg4":
            out = aggregate(m)
        elif cmd[0] == "remote":
            out = remote(cmd[1])
        else:
            out = {"error": "unknown command " + cmd[0]}
        print(json.dumps(out), flush=True)
    if m is not None:
        m.shutdown()


if __name__ == "__main__":
    main()
