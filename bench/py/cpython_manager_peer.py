"""CPython side of bench/cpython_manager_bench.ts.

  cpython_manager_peer.py serve KEY_HEX
      a CPython SyncManager server on 127.0.0.1; prints {"port": N}, serves
      until stdin closes
  cpython_manager_peer.py client HOST PORT KEY_HEX SECONDS RUNS
      a CPython SyncManager client: put+get pairs on one managed Queue,
      sequential; prints {"pairs_per_s": best of RUNS runs of SECONDS}
"""

import json
import sys
import threading
import time
from multiprocessing.managers import SyncManager


def serve(key):
    m = SyncManager(address=("127.0.0.1", 0), authkey=key)
    server = m.get_server()
    print(json.dumps({"port": server.address[1]}), flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()


def client(host, port, key, seconds, runs):
    m = SyncManager(address=(host, port), authkey=key)
    m.connect()
    q = m.Queue()
    for i in range(200):  # warm-up
        q.put(i)
        q.get()
    best = 0.0
    for _ in range(runs):
        n = 0
        t0 = time.perf_counter()
        deadline = t0 + seconds
        while True:
            q.put(n)
            q.get()
            n += 1
            if n % 50 == 0 and time.perf_counter() >= deadline:
                break
        best = max(best, n / (time.perf_counter() - t0))
    print(json.dumps({"pairs_per_s": best}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(bytes.fromhex(sys.argv[2]))
    else:
        host, port, keyhex, seconds, runs = sys.argv[2:7]
        client(host, int(port), bytes.fromhex(keyhex), float(seconds), int(runs))
