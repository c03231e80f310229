"""CPython side of bench/pickle_bench.ts: send()/recv() (pickle) round trips.

    python3 pickle_peer.py serve FAMILY
        Listens (authkey b"bench-secret"), prints {"address": ...}, then echoes
        every message of one connection with conn.send(conn.recv()) until EOF.
    python3 pickle_peer.py drive FAMILY ADDRESS_JSON
        Connects, then is driven line by line on stdin: "run SECONDS" does
        round trips of OBJ (send, then recv of the echo) for about SECONDS and
        prints {"rate": round_trips_per_second}; EOF ends it.
"""

import json
import shutil
import sys
import time
from multiprocessing.connection import Client

from connection_peer import AUTHKEY, OBJ, listener_for, serve_echo_obj


def serve(family):
    listener, d = listener_for(family, AUTHKEY)
    a = listener.address
    print(json.dumps({"address": a if isinstance(a, str) else list(a)}), flush=True)
    try:
        serve_echo_obj(listener)
    finally:
        listener.close()
        if d:
            shutil.rmtree(d, ignore_errors=True)


def drive(family, address):
    a = address if family == "AF_UNIX" else tuple(address)
    with Client(a, family, authkey=AUTHKEY) as c:
        print(json.dumps({"ok": True}), flush=True)
        for line in sys.stdin:
            secs = float(line.split()[1])
            n = 0
            t0 = time.perf_counter()
            while True:
                for _ in range(50):
                    c.send(OBJ)
                    c.recv()
                n += 50
                dt = time.perf_counter() - t0
                if dt >= secs:
                    break
            print(json.dumps({"rate": n / dt}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2])
    else:
        drive(sys.argv[2], json.loads(sys.argv[3]))
