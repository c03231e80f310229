"""CPython anchor for bench/process_bench.ts: Pool and Process with a start method.

Prints one JSON object. Usage: python3 process_anchor.py fork|spawn [--quick]
"""
import json
import multiprocessing as mp
import sys
import time


def noop():
    return None


def work(n):
    x = 0
    for i in range(n):
        x = (x + i * i) % 1000003
    return x


def median(fn, reps):
    fn()
    out = sorted(fn() for _ in range(reps))
    return out[len(out) // 2]


def main():
    method = sys.argv[1]
    quick = "--quick" in sys.argv
    reps = 1 if quick else 3
    ctx = mp.get_context(method)
    res = {}

    def start():
        t0 = time.perf_counter()
        p = ctx.Pool(2)
        p.apply(noop)
        ms = (time.perf_counter() - t0) * 1000
        p.terminate()
        p.join()
        return ms

    res["start_ms"] = median(start, reps)

    with ctx.Pool(2) as pool:
        pool.apply(noop)

        def noops():
            n = 5000 if quick else 20000
            t = time.perf_counter()
            rs = [pool.apply_async(noop) for _ in range(n)]
            for r in rs:
                r.get()
            return n / (time.perf_counter() - t)

        res["noop_per_s"] = median(noops, reps)

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
