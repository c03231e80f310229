"""CPython anchor for bench/process_bench.ts: Pool and Process with a start method.

Prints one JSON object. Usage: python3 process_anchor.py fork|spawn [--quick]
"""
import json
import multiprocessing as mp
import sys
import time

from _anchor import median, noop, noop_tasks_per_s, pool_start_ms


def work(n):
    x = 0
    for i in range(n):
        x = (x + i * i) % 1000003
    return x


def main():
    method = sys.argv[1]
    quick = "--quick" in sys.argv
    reps = 1 if quick else 3
    ctx = mp.get_context(method)
    res = {}

    res["start_ms"] = median(lambda: pool_start_ms(ctx), reps)

    with ctx.Pool(2) as pool:
        pool.apply(noop)
        n = 5000 if quick else 20000
        res["noop_per_s"] = median(lambda: noop_tasks_per_s(pool, n), reps)

    def process():
        t0 = time.perf_counter()
        p = ctx.Process(target=noop)
        p.start()
        p.join()
        return (time.perf_counter() - t0) * 1000

    res["process_ms"] = median(process, reps)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
