// The pool worker entry: what runs in every worker, whatever carries its
// messages (a thread's MessagePort, a child process's socket). A runtime's
// worker-side bootstrap (`_thread_worker.ts`) builds a `HostPort` and calls
// `runWorker(port, init)`; all state lives in one `WorkerEntry`.
//
// It imports the task module (under the self-import guard), runs the
// initializer, then executes batches of runs (contiguous chunks of a job) in
// arrival order, one task at a time: sync task functions run in a tight
// loop, a returned thenable is awaited before the next task. Results are
// batched per message (flushed when the worker runs out of work, or every
// FLUSH_MS while busy).
//
// Death detection: Deno gives the host no event when a worker calls
// `Deno.exit()` (also reached by `node:process` `exit`) or `self.close()`, so
// both are replaced here (before the task module loads, and made read-only)
// by wrappers that flush finished results and post a `lost` message first.
// Uncaught errors and unhandled rejections are caught here, reported the same
// way, and end the worker. The host also treats its own `error` and
// `messageerror` events as a lost worker.

import {
  decodeFromPost,
  decodeFromPostSync,
  encodeForPost,
} from "../_transfer.ts";
import { errorToWire, type ErrorWire } from "../_error_wire.ts";
import { importGuarded } from "../_import_guard.ts";
import {
  type HostMessage,
  MODE_MAP,
  type Run,
  type RunResult,
  SIGNAL_SLOT,
  type WorkerInit,
  type WorkerMessage,
} from "./_protocol.ts";
import type { HostPort } from "./_runtime.ts";
import {
  allNumbers,
  inspectValue,
  isDataCloneError,
  packNumbers,
} from "./_values.ts";

type TaskFn = (...args: unknown[]) => unknown;

/** How long an idle worker waits for more work synchronously before sleeping in its event loop. */
const SPIN_MS = 2;
/** While busy, results are posted at least this often. */
const FLUSH_MS = 2;

const NEVER = new AbortController().signal;

interface RunState {
  run: Run;
  fn: TaskFn;
  x: ArrayLike<unknown>;
  n: number;
  i: number;
  chunkStart: number;
  emitFrom: number;
  vals: unknown[];
  /** Results while they are all numbers, for packed (Float64Array) input. */
  fvals: Float64Array | undefined;
  errs: [number, ErrorWire][] | undefined;
  errsEmitted: number;
  ctrl: AbortController | undefined;
}

function isThenable(r: unknown): r is PromiseLike<unknown> {
  return r !== null && (typeof r === "object" || typeof r === "function") &&
    typeof (r as { then?: unknown }).then === "function";
}

/** The state of one pool worker. */
class WorkerEntry {
  readonly port: HostPort;
  readonly init: WorkerInit;
  mod: Record<string, unknown> = {};
  readonly fns = new Map<string, TaskFn>();

  readonly inbox: (Run | undefined)[] = [];
  inboxHead = 0;
  busy = false;
  spinning = false;
  spinUseful = true;
  gone = false;
  cur: RunState | null = null;

  readonly controllers = new Map<number, AbortController>();
  readonly abortedEarly = new Map<number, unknown>();

  out: RunResult[] = [];
  outChunk: number[] = [];
  outTransfer: Transferable[] = [];
  workStart = 0;
  lastFlush = 0;
  /** Date.now() of the last flush (cheaper than performance.now() for per-task checks). */
  lastFlushWall = 0;

  constructor(port: HostPort, init: WorkerInit) {
    this.port = port;
    this.init = init;
  }

  send(msg: WorkerMessage, transfer?: Transferable[]): void {
    this.port.postMessage(msg, transfer ?? []);
  }

  /** Reports that this worker is going away (after flushing finished results). */
  goingAway(msg: WorkerMessage): void {
    if (this.gone) return;
    try {
      if (this.cur) this.emit(this.cur, this.cur.chunkStart);
      this.flush();
    } catch {
      // best effort: the lost message below is what matters
    }
    this.gone = true;
    try {
      this.send(msg);
    } catch {
      // nothing more to do
    }
  }

  /** Reports why, then ends the worker. */
  die(msg: WorkerMessage): void {
    this.goingAway(msg);
    this.port.close();
  }

  /** Replaces Deno.exit and close, and catches uncaught errors (before the task module loads). */
  installHooks(): void {
    const origExit = Deno.exit;
    const exit = (code?: number): never => {
      this.goingAway({ k: "lost", why: "exit", code: code ?? 0 });
      return origExit(code);
    };
    Object.defineProperty(Deno, "exit", {
      value: exit,
      writable: false,
      configurable: false,
    });
    if (typeof (globalThis as { close?: unknown }).close === "function") {
      Object.defineProperty(globalThis, "close", {
        value: () => this.die({ k: "lost", why: "close" }),
        writable: false,
        configurable: false,
      });
    }
    globalThis.addEventListener("error", (e) => {
      e.preventDefault();
      const ev = e as ErrorEvent;
      this.die({
        k: "lost",
        why: "error",
        e: errorToWire(ev.error ?? ev.message),
      });
    });
    globalThis.addEventListener("unhandledrejection", (e) => {
      e.preventDefault();
      this.die({
        k: "lost",
        why: "rejection",
        e: errorToWire((e as PromiseRejectionEvent).reason),
      });
    });
  }

  async start(): Promise<void> {
    const init = this.init;
    try {
      this.mod = await importGuarded(
        init.module,
        () =>
          this.port.load ? this.port.load(init.module) : import(init.module),
      );
      if (init.initializer) {
        const f = this.getFn(init.initializer);
        const args = init.initHandles
          ? await decodeFromPost(init.initargs)
          : init.initargs;
        await f(...(args as unknown[]));
      }
    } catch (err) {
      this.die({ k: "lost", why: "init", e: errorToWire(err) });
      return;
    }
    this.port.onmessage = (m) => this.onMessage(m);
    this.port.onmessageerror = () =>
      this.die({
        k: "lost",
        why: "error",
        e: {
          name: "DataCloneError",
          message: "Cannot read a message from the pool",
        },
      });
    this.send({ k: "ready" });
  }

  getFn(name: string): TaskFn {
    let f = this.fns.get(name);
    if (f) return f;
    const v = this.mod[name];
    if (typeof v !== "function") {
      throw new TypeError(
        `Cannot find a function named '${name}' exported by ${this.init.module}`,
      );
    }
    f = v as TaskFn;
    this.fns.set(name, f);
    return f;
  }

  onMessage(d: HostMessage): void {
    if (this.gone) return;
    if (d.k === "run") {
      for (const r of d.b) this.inbox.push(r);
      if (!this.busy) this.drain();
    } else if (d.k === "abort") {
      const c = this.controllers.get(d.j);
      if (c) c.abort(d.reason);
      else this.abortedEarly.set(d.j, d.reason);
    }
  }

  startRun(run: Run): RunState | Promise<RunState> {
    let fn: TaskFn;
    try {
      fn = this.getFn(run.f);
    } catch (err) {
      fn = () => {
        throw err;
      };
    }
    let ctrl: AbortController | undefined;
    if (run.a) {
      ctrl = new AbortController();
      if (this.abortedEarly.has(run.j)) {
        ctrl.abort(this.abortedEarly.get(run.j));
        this.abortedEarly.delete(run.j);
      }
      this.controllers.set(run.j, ctrl);
    }
    const make = (x: ArrayLike<unknown>): RunState => ({
      run,
      fn,
      x,
      n: x.length,
      i: 0,
      chunkStart: 0,
      emitFrom: 0,
      vals: x instanceof Float64Array ? [] : new Array(x.length),
      fvals: x instanceof Float64Array ? new Float64Array(x.length) : undefined,
      errs: undefined,
      errsEmitted: 0,
      ctrl,
    });
    if (!run.h) return make(run.x);
    try {
      return make(decodeFromPostSync(run.x) as unknown[]);
    } catch {
      return decodeFromPost(run.x).then((x) => make(x as unknown[]), (err) => {
        const st = make(run.x);
        st.fn = () => {
          throw err;
        };
        return st;
      });
    }
  }

  drain(): void {
    if (!this.busy) {
      this.busy = true;
      this.workStart = performance.now();
      // Spin after this work only if it came soon after the last (a tight
      // sequential loop); otherwise sleep in the event loop and leave the CPU.
      this.spinUseful = this.workStart - this.lastFlush < SPIN_MS;
      this.lastFlushWall = Date.now();
    }
    for (;;) {
      if (this.gone) return;
      if (!this.cur) {
        if (this.inboxHead >= this.inbox.length) {
          this.inbox.length = 0;
          this.inboxHead = 0;
          break;
        }
        const run = this.inbox[this.inboxHead]!;
        this.inbox[this.inboxHead++] = undefined;
        const st = this.startRun(run);
        if (st instanceof Promise) {
          st.then((s) => {
            this.cur = s;
            this.drain();
          });
          return;
        }
        this.cur = st;
      }
      const p = this.step(this.cur);
      if (p) {
        p.then(() => this.drain());
        return;
      }
      this.finishRun(this.cur);
      this.cur = null;
    }
    this.busy = false;
    this.flush();
    this.spin();
  }

  /** Runs tasks of `st` until it is done (null) or a task returned a thenable. */
  step(st: RunState): PromiseLike<void> | null {
    const { fn, x, n } = st;
    const c = st.run.c;
    const single = st.run.m === MODE_MAP;
    (globalThis as Record<symbol, unknown>)[SIGNAL_SLOT] = st.ctrl?.signal ??
      NEVER;
    while (st.i < n) {
      if (st.i === st.chunkStart && st.ctrl?.signal.aborted) {
        this.failChunk(st, st.ctrl.signal.reason);
        continue;
      }
      let r: unknown;
      try {
        const a = x[st.i];
        r = single ? fn(a) : fn(...(a as unknown[]));
      } catch (err) {
        this.failChunk(st, err);
        continue;
      }
      if (isThenable(r)) {
        return Promise.resolve(r).then((v) => {
          this.store(st, v);
          this.advance(st, c);
        }, (err) => this.failChunk(st, err));
      }
      const fv = st.fvals;
      if (fv !== undefined && typeof r === "number") fv[st.i] = r;
      else this.store(st, r);
      if (++st.i - st.chunkStart === c) {
        st.chunkStart = st.i;
        if (Date.now() - this.lastFlushWall >= FLUSH_MS) this.partial(st);
      }
    }
    return null;
  }

  /** Stores the result of item `st.i` (leaving the all-numbers path if needed). */
  store(st: RunState, r: unknown): void {
    const fv = st.fvals;
    if (fv !== undefined) {
      if (typeof r === "number") {
        fv[st.i] = r;
        return;
      }
      st.vals = Array.from(fv);
      st.fvals = undefined;
    }
    st.vals[st.i] = r;
  }

  advance(st: RunState, c: number): void {
    st.i++;
    if (st.i - st.chunkStart === c || st.i === st.n) {
      st.chunkStart = st.i;
      if (Date.now() - this.lastFlushWall >= FLUSH_MS) this.partial(st);
    }
  }

  failChunk(st: RunState, err: unknown): void {
    const end = Math.min(st.chunkStart + st.run.c, st.n);
    if (!st.fvals) {
      for (let k = st.chunkStart; k < end; k++) st.vals[k] = undefined;
    }
    (st.errs ??= []).push([st.run.s + st.chunkStart, errorToWire(err)]);
    st.i = end;
    st.chunkStart = end;
    if (Date.now() - this.lastFlushWall >= FLUSH_MS) this.partial(st);
  }

  partial(st: RunState): void {
    this.emit(st, st.chunkStart);
    this.flush();
  }

  finishRun(st: RunState): void {
    this.emit(st, st.n);
    if (st.ctrl) this.controllers.delete(st.run.j);
  }

  /** Queues the results of items `[st.emitFrom, to)` for the next flush. */
  emit(st: RunState, to: number): void {
    const from = st.emitFrom;
    if (to <= from) return;
    st.emitFrom = to;
    const { run } = st;
    const fv = st.fvals;
    let v: unknown[] | Float64Array = fv
      ? (from === 0 && to === st.n ? fv : fv.slice(from, to))
      : from === 0 && to === st.n
      ? st.vals
      : st.vals.slice(from, to);
    let e: [number, ErrorWire][] | undefined;
    if (st.errs && st.errsEmitted < st.errs.length) {
      e = st.errs.slice(st.errsEmitted);
      st.errsEmitted = st.errs.length;
    }
    const res: RunResult = { j: run.j, s: run.s + from, n: to - from, v };
    if (e) res.e = e;
    const outTransfer = this.outTransfer;
    if (v instanceof Float64Array) {
      // packed input, all results numbers (values of failed chunks are unused)
      outTransfer.push(v.buffer as ArrayBuffer);
    } else if (
      !e && run.m !== 0 && v.length >= 8 && allNumbers(v, 0, v.length)
    ) {
      v = res.v = packNumbers(v, 0, v.length);
      outTransfer.push(v.buffer as ArrayBuffer);
    } else {
      let objects = false;
      for (let k = 0; k < v.length; k++) {
        const t = typeof v[k];
        if (t === "object" || t === "function") {
          objects = true;
          break;
        }
      }
      if (objects) {
        const enc = encodeForPost(v);
        if (enc.value !== v) {
          res.v = enc.value as unknown[];
          res.h = 1;
          outTransfer.push(...enc.transfer);
        }
        if (this.init.transfer) {
          try {
            inspectValue(v, "result", outTransfer, { handles: false });
          } catch {
            // reported when posting fails
          }
        }
      }
    }
    this.out.push(res);
    this.outChunk.push(run.c);
  }

  flush(): void {
    if (this.out.length === 0) return;
    const now = performance.now();
    const msg: WorkerMessage = {
      k: "res",
      r: this.out,
      t: now - Math.max(this.workStart, this.lastFlush),
    };
    this.lastFlush = now;
    this.lastFlushWall = Date.now();
    const chunks = this.outChunk;
    const transfer = this.outTransfer;
    this.out = [];
    this.outChunk = [];
    this.outTransfer = [];
    try {
      this.send(msg, transfer);
    } catch (err) {
      if (!isDataCloneError(err)) throw err;
      repair(msg.k === "res" ? msg.r : [], chunks);
      this.send(msg);
    }
  }

  spin(): void {
    if (this.spinning || !this.spinUseful || this.gone || !this.port.spin) {
      return;
    }
    this.spinning = true;
    try {
      this.port.spin(SPIN_MS, () => this.busy || this.gone);
    } finally {
      this.spinning = false;
    }
  }
}

/** Replaces values that cannot be cloned by errors naming them. */
function repair(results: RunResult[], chunks: number[]): void {
  results.forEach((res, idx) => {
    if (!Array.isArray(res.v)) return;
    const c = chunks[idx]!;
    const failed = new Set((res.e ?? []).map(([s]) => s));
    for (let k = 0; k < res.v.length; k++) {
      const abs = res.s + k;
      const chunkStart = abs - (abs % c);
      if (failed.has(chunkStart)) continue;
      try {
        structuredClone(res.v[k]);
      } catch (err) {
        let msg = err instanceof Error ? err.message : String(err);
        try {
          inspectValue(res.v[k], "the result", null, { handles: false });
        } catch (e2) {
          msg = (e2 as Error).message;
        }
        failed.add(chunkStart);
        (res.e ??= []).push([chunkStart, { name: "TypeError", message: msg }]);
        const lo = Math.max(chunkStart, res.s) - res.s;
        const hi = Math.min(chunkStart + c, res.s + res.n) - res.s;
        for (let q = lo; q < hi; q++) res.v[q] = undefined;
      }
    }
    res.e?.sort((a, b) => a[0] - b[0]);
  });
}

/**
 * Runs a pool worker against `port`: installs the death hooks, imports the
 * task module, runs the initializer, says `ready`, then serves runs. Called
 * once per worker by the runtime's worker-side bootstrap.
 */
export function runWorker(port: HostPort, init: WorkerInit): Promise<void> {
  const entry = new WorkerEntry(port, init);
  entry.installHooks();
  return entry.start();
}
