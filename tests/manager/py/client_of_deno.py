"""An unmodified CPython manager client driving a Deno manager server.

Usage: client_of_deno.py HOST PORT AUTHKEY_HEX SCENARIO
       (HOST "unix": PORT is a Unix socket path)

Scenarios (each prints one JSON line per check it passed, then "DONE"):
  types      every SyncManager type, errors, iteration, slices, _getvalue,
             nested proxies, a blocking get woken from another thread,
             Condition(Lock()) with a non-default key, get_queue/get_lock
  hostile    REDUCE of posix.system in create and in a method call, a
             relayed global, a Token stored in a dict; the server keeps going
  hold       takes the shared lock (get_lock) and waits on the shared queue
             (get_queue) in another thread, prints HELD, then sleeps until killed
  feed N     puts 0..N-1 on get_queue (the Deno side drains it)
  take       gets one item of get_queue (or reports why it could not)
  wrongkey   connects with a wrong key (AuthenticationError expected)
"""

import json
import multiprocessing
import os
import pickle
import sys
import threading
import time
from multiprocessing import managers
from multiprocessing.connection import Client


class DenoManager(managers.SyncManager):
    pass


DenoManager.register("get_queue")
DenoManager.register("get_lock")


def ok(name, **extra):
    print(json.dumps({"ok": name, **extra}), flush=True)


def connect(address, key):
    m = DenoManager(address=address, authkey=key)
    m.connect()
    return m


def raw_call(address, key, request_bytes):
    """Sends one control request as raw pickle bytes; returns the reply."""
    c = Client(address, authkey=key)
    try:
        c.send_bytes(request_bytes)
        return c.recv()
    finally:
        c.close()


class Evil:
    def __reduce__(self):
        return (os.system, ("touch " + os.environ["EVIL_MARKER"],))


def scenario_types(m, address, key):
    import queue

    # Queue: put/get, timeouts in seconds, Empty/Full
    q = m.Queue()
    q.put(5)
    q.put_nowait("x")
    assert q.qsize() == 2 and not q.empty() and not q.full()
    assert q.get() == 5 and q.get_nowait() == "x"
    t0 = time.monotonic()
    try:
        q.get(timeout=0.05)
        raise AssertionError("no Empty")
    except queue.Empty:
        pass
    try:
        q.get_nowait()
        raise AssertionError("no Empty")
    except queue.Empty:
        pass
    bq = m.Queue(1)
    bq.put(1)
    assert bq.full()
    try:
        bq.put(2, timeout=0.01)
        raise AssertionError("no Full")
    except queue.Full:
        pass
    try:
        q.get(True, -1)
        raise AssertionError("no ValueError")
    except ValueError:
        pass
    ok("queue")

    # A blocking get woken by a put from another thread (its own connection).
    got = []
    th = threading.Thread(target=lambda: got.append(q.get(timeout=30)))
    th.start()
    time.sleep(0.05)
    q2 = m.Queue()  # another create meanwhile: control calls still work
    q.put({"woken": (1, 2.5, b"xy", None, True)})
    th.join(30)
    assert got == [{"woken": (1, 2.5, b"xy", None, True)}], got
    del q2
    ok("queue_blocking_get")

    # 3.13's Queue.shutdown (exposed to every version, as CPython 3.13's list).
    sq = m.Queue()
    assert callable(getattr(sq, "shutdown", None))
    if sys.version_info >= (3, 13):
        sq.put(1)
        blocked = m.Queue()
        woke = []

        def wait_shutdown():
            try:
                blocked.get(timeout=30)
            except queue.ShutDown:
                woke.append("ShutDown")

        th = threading.Thread(target=wait_shutdown)
        th.start()
        time.sleep(0.05)
        blocked.shutdown()
        th.join(30)
        assert woke == ["ShutDown"], woke
        sq.shutdown()
        try:
            sq.put(2)
            raise AssertionError("no ShutDown")
        except queue.ShutDown:
            pass
        assert sq.get() == 1
        try:
            sq.get()
            raise AssertionError("no ShutDown")
        except queue.ShutDown:
            pass
    ok("queue_shutdown")

    jq = m.JoinableQueue()
    jq.put("job")
    assert jq.get() == "job"
    jq.task_done()
    jq.join()
    try:
        jq.task_done()
        raise AssertionError("no ValueError")
    except ValueError:
        pass
    ok("joinable_queue")

    ev = m.Event()
    assert not ev.is_set()
    assert ev.wait(0.01) is False
    ev.set()
    assert ev.is_set() and ev.wait() is True
    ev.clear()
    assert not ev.is_set()
    ok("event")

    lk = m.Lock()
    assert lk.acquire() is True
    assert lk.acquire(False) is False
    assert lk.acquire(True, 0.01) is False
    lk.release()
    try:
        lk.release()
        raise AssertionError("no RuntimeError")
    except RuntimeError as e:
        assert "release unlocked lock" in str(e)
    with lk:
        pass
    ok("lock")

    rl = m.RLock()
    assert rl.acquire() and rl.acquire()
    rl.release()
    rl.release()
    try:
        rl.release()
        raise AssertionError("no RuntimeError")
    except RuntimeError:
        pass
    ok("rlock")

    s = m.Semaphore(2)
    assert s.acquire() and s.acquire()
    assert s.acquire(timeout=0.01) is False
    s.release()
    s.release()
    bs = m.BoundedSemaphore(1)
    bs.acquire()
    bs.release()
    try:
        bs.release()
        raise AssertionError("no ValueError")
    except ValueError:
        pass
    ok("semaphore")

    # Condition over a Lock proxy of the same manager, with a non-default
    # key (CPython's own server fails this: cpython#78740).
    cl = m.Lock()
    cond = m.Condition(cl)
    with cond:
        assert cond.wait(0.01) is False
        cond.notify()
        cond.notify_all()
    try:
        cond.notify()
        raise AssertionError("no RuntimeError")
    except RuntimeError:
        pass
    waiter = []

    def wait_for_notify():
        with cond:
            waiter.append(cond.wait(30))

    th = threading.Thread(target=wait_for_notify)
    th.start()
    for _ in range(3000):
        time.sleep(0.01)
        with cond:
            cond.notify()
        if waiter:
            break
    th.join(30)
    assert waiter == [True], waiter
    assert cl.acquire(False) is True  # the condition's lock is the Lock
    cl.release()
    ok("condition")

    b = m.Barrier(2, timeout=30)
    assert b.parties == 2 and b.n_waiting == 0 and b.broken is False
    res = []
    th = threading.Thread(target=lambda: res.append(b.wait()))
    th.start()
    res.append(b.wait())
    th.join(30)
    assert sorted(res) == [0, 1], res
    b2 = m.Barrier(2)
    try:
        b2.wait(0.01)
        raise AssertionError("no BrokenBarrierError")
    except threading.BrokenBarrierError:
        pass
    assert b2.broken is True
    b2.reset()
    b2.abort()
    ok("barrier")

    v = m.Value("i", 7)
    assert v.value == 7
    v.value = 8
    assert v.get() == 8
    gv = v._getvalue()
    assert type(gv) is managers.Value and gv.value == 8, gv
    ok("value")

    a = m.Array("i", [1, 2, 3])
    assert len(a) == 3 and a[0] == 1 and a[-1] == 3
    a[1] = 20
    assert list(a[0:2]) == [1, 20]
    try:
        a[5]
        raise AssertionError("no IndexError")
    except IndexError:
        pass
    import array

    assert a._getvalue() == array.array("i", [1, 20, 3])
    ok("array")

    d = m.dict({"a": 1})
    d["b"] = (1, 2.5, b"xy", None, True)
    d[3] = {"nested": [1, 2]}
    assert d["a"] == 1 and d[3] == {"nested": [1, 2]}
    assert "a" in d and "zz" not in d and len(d) == 3
    try:
        d["missing"]
        raise AssertionError("no KeyError")
    except KeyError as e:
        assert e.args == ("missing",), e.args
    assert sorted(d.keys(), key=str) == [3, "a", "b"]
    assert list(d) == ["a", "b", 3]  # iter() through the Iterator typeid
    assert d.get("nope", 9) == 9 and d.pop("a") == 1
    d.update({"c": 3}, e=5)
    assert d.setdefault("c", 0) == 3 and d.setdefault("f") is None
    assert d.copy() == {"b": (1, 2.5, b"xy", None, True), 3: {"nested": [1, 2]}, "c": 3, "e": 5, "f": None}
    assert dict(d.items())["c"] == 3
    assert d.popitem() == ("f", None)
    del d["e"]
    assert d._getvalue() == d.copy()
    d.clear()
    assert len(d) == 0
    ok("dict")

    lst = m.list([3, 1, 2])
    lst.append(4)
    lst.extend([5, 6])
    assert lst[0] == 3 and lst[-1] == 6 and len(lst) == 6
    assert lst[1:3] == [1, 2] and lst[::2] == [3, 2, 5]
    lst[0:2] = ["a", "b", "c"]
    assert lst[:] == ["a", "b", "c", 2, 4, 5, 6], lst[:]
    del lst[0:3]
    lst.sort(reverse=True)
    assert list(lst) == [6, 5, 4, 2]  # for x in l: __getitem__ until IndexError
    assert lst.index(4) == 2 and lst.count(5) == 1 and 6 in lst
    lst.insert(0, 9)
    assert lst.pop() == 2 and lst.pop(0) == 9
    lst.remove(5)
    lst.reverse()
    assert lst._getvalue() == [4, 6]
    assert lst + [1] == [4, 6, 1] and lst * 2 == [4, 6, 4, 6]
    lst *= 2
    assert lst._getvalue() == [4, 6, 4, 6]
    del lst[1]
    assert str(lst) == "[4, 4, 6]", str(lst)
    ok("list")

    ns = m.Namespace(x=1)
    ns.y = "z"
    assert ns.x == 1 and ns.y == "z"
    del ns.x
    try:
        ns.x
        raise AssertionError("no AttributeError")
    except AttributeError:
        pass
    ok("namespace", repr=repr(ns))

    # Nested proxies: a queue stored in a dict is read back as a proxy
    # (the Python side uses current_process().authkey for it, cpython#78740).
    multiprocessing.current_process().authkey = key
    outer = m.dict()
    inner = m.Queue()
    outer["q"] = inner
    back = outer["q"]
    back.put("via nested proxy")
    assert inner.get(timeout=10) == "via nested proxy"
    nested_list = m.list([m.list([1, 2])])
    assert nested_list[0][1] == 2
    ok("nested_proxies")

    # Custom typeids served by the Deno side (the docs' remote pattern).
    sq = m.get_queue()
    sq.put({"from": "python", "t": (1, 2.5), "b": b"xy", "n": None})
    ok("get_queue")

    # A proxy method not exposed is refused before or at the server.
    try:
        lk._callmethod("locked")
        raise AssertionError("not refused")
    except managers.RemoteError as e:
        assert "not in exposed" in str(e)
    ok("not_exposed")

    # The other control calls: number_of_objects, debug_info, get_methods
    # (an AutoProxy without exposed asks for it with a pickled Token).
    assert m._number_of_objects() >= 1
    assert "refcount=" in m._debug_info()
    auto = managers.AutoProxy(q._token, "pickle", manager=m, authkey=key)
    auto.put("auto")
    assert auto.get() == "auto"
    ok("control_calls")
    return True


def scenario_hostile(m, address, key):
    marker = os.environ["EVIL_MARKER"]
    # 1. REDUCE of posix.system in a create request.
    req = pickle.dumps((None, "create", ("list", [Evil()]), {}), protocol=4)
    kind, payload = raw_call(address, key, req)
    assert kind == "#TRACEBACK" and "posix.system" in payload, (kind, payload)
    assert not os.path.exists(marker)
    ok("hostile_create", payload=payload.strip().splitlines()[-1])

    # 2. The same in a method call on an object channel.
    d = m.dict()
    c = Client(address, authkey=key)
    c.send((None, "accept_connection", ("MainProcess|evil",), {}))
    assert c.recv() == ("#RETURN", None)
    c.send_bytes(pickle.dumps((d._token.id, "__setitem__", ("k", Evil()), {}), protocol=4))
    kind, payload = c.recv()
    assert kind == "#TRACEBACK" and "posix.system" in payload, (kind, payload)
    # The channel keeps serving after the refusal.
    c.send((d._token.id, "__len__", (), {}))
    assert c.recv() == ("#RETURN", 0)
    c.close()
    assert not os.path.exists(marker)
    ok("hostile_method")

    # 3. A relayed global: a value with a class is refused, so nothing of it
    # can be stored and written to another client; a Token is data we refuse too.
    try:
        d["x"] = KeyError("relayed")
        raise AssertionError("stored a global")
    except managers.RemoteError as e:
        assert "builtins.KeyError" in str(e), str(e)
    try:
        d["t"] = managers.Token("Queue", address, "1")
        raise AssertionError("stored a token")
    except (TypeError, managers.RemoteError):
        pass
    assert len(d) == 0
    ok("relayed_global")

    # 4. Unknown control call and unknown ident.
    kind, payload = raw_call(address, key, pickle.dumps((None, "bogus", (), {}), protocol=4))
    assert kind == "#TRACEBACK" and "bogus" in payload
    kind, payload = raw_call(address, key, pickle.dumps((None, "incref", ("ffffff",), {}), protocol=4))
    assert kind == "#TRACEBACK" and "KeyError" in payload
    # The server still serves.
    q = m.Queue()
    q.put(1)
    assert q.get() == 1
    ok("still_serving")
    return True


def scenario_hold(m):
    lk = m.get_lock()
    assert lk.acquire(timeout=10)
    q = m.get_queue()
    th = threading.Thread(target=lambda: q.get(), daemon=True)
    th.start()
    time.sleep(0.2)
    print("HELD", flush=True)
    time.sleep(600)


def scenario_take(m):
    q = m.get_queue()
    try:
        ok("take", value=repr(q.get(timeout=10)))
    except managers.RemoteError as e:
        ok("take", error="RemoteError", unserializable="Unserializable" in str(e))


def scenario_feed(m, n):
    q = m.get_queue()
    for i in range(n):
        q.put(i)
    ok("fed", n=n)


def main():
    host, port, keyhex, scenario = sys.argv[1:5]
    key = bytes.fromhex(keyhex)
    # HOST "unix" means PORT is the path of a Unix socket.
    address = port if host == "unix" else (host, int(port))
    if scenario == "wrongkey":
        try:
            connect(address, b"wrong key")
            raise AssertionError("connected with a wrong key")
        except multiprocessing.AuthenticationError:
            ok("wrongkey")
        print("DONE", flush=True)
        return
    m = connect(address, key)
    if scenario == "types":
        scenario_types(m, address, key)
    elif scenario == "hostile":
        scenario_hostile(m, address, key)
    elif scenario == "hold":
        scenario_hold(m)
    elif scenario == "take":
        scenario_take(m)
    elif scenario == "feed":
        scenario_feed(m, int(sys.argv[5]))
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
