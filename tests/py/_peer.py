"""The command loop and connection set-up shared by the CPython test peers
(interop_peer.py, pickle_peer.py).

Each peer reads one JSON command per line on stdin and answers with JSON
lines on stdout; {"op": "version"} and {"op": "quit"} are answered here,
every other op by the peer's handler of that name.
"""
import json
import sys
from multiprocessing.connection import Client, Listener


def out(**kw):
    print(json.dumps(kw), flush=True)


def connect(cmd, authkey):
    """A Client to cmd["address"] (a path, or [host, port]) in cmd["family"]."""
    fam = cmd["family"]
    a = cmd["address"]
    return Client(a if fam == "AF_UNIX" else (a[0], a[1]), family=fam,
                  authkey=authkey)


def listen(cmd, authkey):
    """A Listener in cmd["family"] on a fresh address, announced with out()."""
    fam = cmd["family"]
    addr = ("127.0.0.1", 0) if fam == "AF_INET" else None
    listener = Listener(address=addr, family=fam, authkey=authkey)
    a = listener.address
    out(address=a if isinstance(a, str) else [a[0], a[1]])
    return listener


def run(handlers):
    """Serves commands from stdin until "quit" or the end of input."""
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd["op"]
        if op == "quit":
            return
        if op == "version":
            out(version="%d.%d.%d" % sys.version_info[:3])
        else:
            handlers[op](cmd)
