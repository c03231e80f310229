"""CPython multiprocessing.Pool(2) anchor for bench/pool_bench.ts.

Prints one JSON object with the same figures the Deno bench measures.
Usage: python3 pool_anchor.py [--quick]
"""
import json
import multiprocessing as mp
import sys
import time

from _anchor import median, noop, noop_tasks_per_s, pool_start_ms


def sqr(x):
    return x * x


def busy(ms):
    end = time.perf_counter() + ms / 1000.0
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


def best(fn, reps):
    return median(fn, reps, warmups=2)  # (same warm-up count as the Deno side)


def main():
    quick = "--quick" in sys.argv
    reps = 1 if quick else 3
    res = {}
    res["start_ms"] = best(lambda: pool_start_ms(mp), reps)
    pool = mp.Pool(2)
    pool.apply(noop)
    res["noop_tasks_per_s"] = best(lambda: noop_tasks_per_s(pool, 20000), reps)

    items = list(range(200000))

    def map_default():
        t = time.perf_counter()
        pool.map(sqr, items)
        return len(items) / (time.perf_counter() - t)

    def map_1000():
        t = time.perf_counter()
        pool.map(sqr, items, 1000)
        return len(items) / (time.perf_counter() - t)

    res["map_default_items_per_s"] = best(map_default, reps)
    res["map_1000_items_per_s"] = best(map_1000, reps)

    small = list(range(50000))
    for name, fn in (("imap", pool.imap), ("imap_unordered", pool.imap_unordered)):
        for cs in (1, 100):
            def run(fn=fn, cs=cs):
                t = time.perf_counter()
                for _ in fn(sqr, small, cs):
                    pass
                return len(small) / (time.perf_counter() - t)
            res[f"{name}_cs{cs}_items_per_s"] = best(run, reps)

    def latency():
        n = 2000
        t = time.perf_counter()
        for _ in range(n):
            pool.apply(noop)
        return (time.perf_counter() - t) / n * 1e6

    res["apply_latency_us"] = best(latency, reps)
    pool.close()
    pool.join()

    def cpu(procs):
        with mp.Pool(procs) as p:
            p.map(busy, [1] * procs)
            t = time.perf_counter()
            p.map(busy, [20] * 40, 1)
            return time.perf_counter() - t

    t1 = cpu(1)
    t2 = cpu(2)
    res["cpu_1_worker_s"] = t1
    res["cpu_2_workers_s"] = t2
    res["cpu_speedup"] = t1 / t2
    print(json.dumps(res))


if __name__ == "__main__":
    main()
