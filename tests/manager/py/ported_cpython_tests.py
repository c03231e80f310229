"""CPython's _TestMyManager and _TestRemoteManager (Lib/test/
_test_multiprocessing.py), run by unmodified CPython clients against a Deno
manager server that registers the same types (see cpython_server_test.ts).

Usage: ported_cpython_tests.py HOST PORT AUTHKEY_HEX
Prints one JSON line per test passed, then DONE.
"""

import json
import sys
import threading
import time
from multiprocessing.managers import BaseManager, BaseProxy, RemoteError


# --- _TestMyManager -------------------------------------------------------

class IteratorProxy(BaseProxy):
    _exposed_ = ("__next__",)

    def __iter__(self):
        return self

    def __next__(self):
        return self._callmethod("__next__")


class MyManager(BaseManager):
    pass


# Client-side registrations: the Deno server has the callables.
MyManager.register("Foo")
MyManager.register("Bar", exposed=("f", "_h"))
MyManager.register("baz", proxytype=IteratorProxy)


def test_mymanager_common(manager):
    # _TestMyManager.common
    foo = manager.Foo()
    bar = manager.Bar()
    baz = manager.baz()

    foo_methods = [name for name in ("f", "g", "_h") if hasattr(foo, name)]
    bar_methods = [name for name in ("f", "g", "_h") if hasattr(bar, name)]

    assert foo_methods == ["f", "g"], foo_methods
    assert bar_methods == ["f", "_h"], bar_methods

    assert foo.f() == "f()"
    try:
        foo.g()
        raise AssertionError("no ValueError")
    except ValueError:
        pass
    assert foo._callmethod("f") == "f()"
    try:
        foo._callmethod("_h")
        raise AssertionError("no RemoteError")
    except RemoteError:
        pass

    assert bar.f() == "f()"
    assert bar._h() == "_h()"
    assert bar._callmethod("f") == "f()"
    assert bar._callmethod("_h") == "_h()"

    assert list(baz) == [i * i for i in range(10)]


# --- _TestRemoteManager (pickle instead of xmlrpclib) ---------------------

class QueueManager2(BaseManager):
    """manager class which specifies the same interface as QueueManager"""


QueueManager2.register("get_queue")

values = [
    "hello world", None, True, 2.25,
    "hall\xe5 v\xe4rlden",
    "\u043f\u0440\u0438\u0432\u0456\u0442 \u0441\u0432\u0456\u0442",
    b"hall\xe5 v\xe4rlden",
]


def putter(address, authkey):
    manager = QueueManager2(address=address, authkey=authkey)
    manager.connect()
    queue = manager.get_queue()
    queue.put(tuple(values))


def test_remote(address, authkey):
    # The putter is another client (a thread here: its own connections).
    p = threading.Thread(target=putter, args=(address, authkey))
    p.start()
    manager2 = QueueManager2(address=address, authkey=authkey)
    manager2.connect()
    queue = manager2.get_queue()
    # With pickle the tuple stays a tuple (xmlrpclib made it a list).
    assert queue.get(timeout=30) == tuple(values)
    p.join(30)
    # A global (time.sleep) is refused by the Deno server's pickle reader,
    # as xmlrpclib refused it in CPython's test.
    try:
        queue.put(time.sleep)
        raise AssertionError("a function was stored")
    except Exception as e:
        assert "time.sleep" in str(e), str(e)
    del queue


def main():
    host, port, keyhex = sys.argv[1:4]
    key = bytes.fromhex(keyhex)
    address = (host, int(port))
    manager = MyManager(address=address, authkey=key)
    manager.connect()
    test_mymanager_common(manager)
    print(json.dumps({"ok": "_TestMyManager.common"}), flush=True)
    test_remote(address, key)
    print(json.dumps({"ok": "_TestRemoteManager.test_remote"}), flush=True)
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
