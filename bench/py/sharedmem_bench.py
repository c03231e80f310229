"""CPython anchor for bench/sharedmem_bench.ts.

Prints one JSON object: locked increments/s of a multiprocessing.Value('i')
with its own lock from 2 processes, and multiprocessing.Queue messages/s from
one process to another. Timing starts when a shared Event releases the
already-started processes and ends when they are joined. Each figure is the
best of `rounds` runs (the machine may be shared).
"""
import json
import multiprocessing as mp
import sys
import time


def incr(v, start, n):
    start.wait()
    for _ in range(n):
        with v.get_lock():
            v.value += 1


def produce(q, start, n, item):
    start.wait()
    for i in range(n):
        q.put(item if item is not None else i)


def consume(q, start, n):
    start.wait()
    for _ in range(n):
        q.get()


def bench_incr(n):
    v = mp.Value("i", 0)
    start = mp.Event()
    ps = [mp.Process(target=incr, args=(v, start, n)) for _ in range(2)]
    for p in ps:
        p.start()
    time.sleep(0.2)  # let both processes reach start.wait()
    t = time.perf_counter()
    start.set()
    for p in ps:
        p.join()
    dt = time.perf_counter() - t
    assert v.value == 2 * n, v.value
    return 2 * n / dt


def bench_queue(n, item):
    q = mp.Queue()
    start = mp.Event()
    ps = [mp.Process(target=produce, args=(q, start, n, item)), mp.Process(target=consume, args=(q, start, n))]
    for p in ps:
        p.start()
    time.sleep(0.2)
    t = time.perf_counter()
    start.set()
    for p in ps:
        p.join()
    dt = time.perf_counter() - t
    return n / dt


if __name__ == "__main__":
    n_incr = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    n_queue = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    obj = {"id": 7, "name": "item", "tags": ["a", "b"], "x": 1.5}
    out = {
        "python": sys.version.split()[0],
        "incr_per_s": max(bench_incr(n_incr) for _ in range(rounds)),
        "queue_int_per_s": max(bench_queue(n_queue, None) for _ in range(rounds)),
        "queue_obj_per_s": max(bench_queue(n_queue, obj) for _ in range(rounds)),
    }
    print(json.dumps(out))
