"""CPython side of bench/cpython_manager_bench.ts.

  cpython_manager_peer.py serve KEY_HEX
      a CPython SyncManager server on 127.0.0.1; prints {"port": N}, serves
      until stdin closes
  cpython_manager_peer.py echo KEY_HEX
      a CPython Listener echoing every message (recv_bytes/send_bytes) on
      127.0.0.1; prints {"port": N}, serves until stdin closes
  cpython_manager_peer.py ping HOST PORT KEY_HEX SECONDS RUNS
      a CPython Client doing 40-byte send_bytes/recv_bytes round trips
      (the size of a manager call); prints {"pairs_per_s": best, per 2 round trips}
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


def echo(key):
    from multiprocessing.connection import Listener

    listener = Listener(("127.0.0.1", 0), authkey=key)
    print(json.dumps({"port": listener.address[1]}), flush=True)

    def serve():
        while True:
            c = listener.accept()

            def loop(c=c):
                try:
                    while True:
                        c.send_bytes(c.recv_bytes())
                except (EOFError, OSError):
                    c.close()

            threading.Thread(target=loop, daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    sys.stdin.read()


def best_rate(step, seconds, runs, per=1):
    """The best of `runs` runs of about `seconds`: calls of step() per second / per."""
    best = 0.0
    for _ in range(runs):
        n = 0
        t0 = time.perf_counter()
        deadline = t0 + seconds
        while True:
            step()
            n += 1
            if n % 100 == 0 and time.perf_counter() >= deadline:
                break
        best = max(best, n / per / (time.perf_counter() - t0))
    return best


def ping(host, port, key, seconds, runs):
    from multiprocessing.connection import Client

    c = Client((host, port), authkey=key)
    msg = b"x" * 40

    def step():
        c.send_bytes(msg)
        c.recv_bytes()

    for _ in range(400):
        step()
    best = best_rate(step, seconds, runs, per=2)
    c.close()
    print(json.dumps({"pairs_per_s": best}), flush=True)


def client(host, port, key, seconds, runs):
    m = SyncManager(address=(host, port), authkey=key)
    m.connect()
    q = m.Queue()

    def step():
        q.put(1)
        q.get()

    for _ in range(200):  # warm-up
        step()
    print(json.dumps({"pairs_per_s": best_rate(step, seconds, runs)}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(bytes.fromhex(sys.argv[2]))
    elif sys.argv[1] == "echo":
        echo(bytes.fromhex(sys.argv[2]))
    elif sys.argv[1] == "ping":
        host, port, keyhex, seconds, runs = sys.argv[2:7]
        ping(host, int(port), bytes.fromhex(keyhex), float(seconds), int(runs))
    else:
        host, port, keyhex, seconds, runs = sys.argv[2:7]
        client(host, int(port), bytes.fromhex(keyhex), float(seconds), int(runs))
