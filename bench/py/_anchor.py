"""Shared by the Pool/Process CPython anchors (pool_anchor.py, process_anchor.py).

The task, the median and the two Pool figures both anchors measure the same
way; `ctx` is the multiprocessing module or a start-method context.
"""
import time


def noop():
    return None


def median(fn, reps, warmups=1):
    """The median of `reps` calls of fn, after `warmups` unmeasured ones."""
    for _ in range(warmups):
        fn()
    out = sorted(fn() for _ in range(reps))
    return out[len(out) // 2]


def pool_start_ms(ctx):
    """Milliseconds from Pool(2) to its first apply() answer."""
    t0 = time.perf_counter()
    p = ctx.Pool(2)
    p.apply(noop)
    ms = (time.perf_counter() - t0) * 1000
    p.terminate()
    p.join()
    return ms


def noop_tasks_per_s(pool, n):
    """Throughput of n apply_async(noop) tasks, all submitted, then gathered."""
    t = time.perf_counter()
    rs = [pool.apply_async(noop) for _ in range(n)]
    for r in rs:
        r.get()
    return n / (time.perf_counter() - t)
