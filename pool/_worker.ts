// Entry module of every pool worker. Loaded by the pool with
// `new URL("./_worker.ts", import.meta.url)`; never imported by user code.
//
// It imports the task module, runs the initializer, then executes batches of
// runs (contiguous chunks of a job) in arrival order, one task at a time:
// sync task functions run in a tight loop, a returned thenable is awaited
// before the next task. Results are batched per message (flushed when the
// worker runs out of work, or every FLUSH_MS while busy).
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
import {
  type HostMessage,
  type InitMessage,
  MODE_MAP,
  type Run,
  type RunResult,
  SIGNAL_SLOT,
  type WorkerMessage,
} from "./_protocol.ts";
import {
  allNumbers,
  inspectValue,
  isDataCloneError,
  packNumbers,
} from "./_values.ts";
import { errorToWire, type ErrorWire } from "../_error_wire.ts";
import { importGuarded } from "../_import_guard.ts";

interface WorkerScope {
  onmessage: ((e: MessageEvent) => void) | null;
  close(): void;
  addEventListener(type: string, fn: (e: Event) => void): void;
}
type TaskFn = (...args: unknown[]) => unknown;

/** How long an idle worker polls its doorbell before sleeping in its event loop. */
const SPIN_MS = 2;
/** The first part of SPIN_MS is busy polling; then Atomics.wait on the doorbell. */
const HOT_MS = 0.3;
/** While busy, results are posted at least this often. */
const FLUSH_MS = 2;

const scope = globalThis as unknown as WorkerScope;
const NEVER = new AbortController().signal;
const origExit = Deno.exit;
const origClose = scope.close.bind(scope);

let port: MessagePort | undefined;
/** node:worker_threads' receiveMessageOnPort, loaded after startup (not on the first-result path). */
let receiveSync:
  | ((port: MessagePort) => { message: unknown } | undefined)
  | undefined;
let bell: Int32Array | undefined;
let seenBell = 0;
let mod: Record<string, unknown> = {};
let moduleUrl = "";
let transferResults = false;
const fns = new Map<string, TaskFn>();

const inbox: (Run | undefined)[] = [];
let inboxHead = 0;
let busy = false;
let spinning = false;
let spinUseful = true;
let gone = false;

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
let cur: RunState | null = null;

const controllers = new Map<number, AbortController>();
const abortedEarly = new Map<number, unknown>();

let out: RunResult[] = [];
let outChunk: number[] = [];
let outTransfer: Transferable[] = [];
let workStart = 0;
let lastFlush = 0;
/** Date.now() of the last flush (cheaper than performance.now() for per-task checks). */
let lastFlushWall = 0;

function send(msg: WorkerMessage, transfer?: Transferable[]): void {
  port!.postMessage(msg, transfer ?? []);
}

/** Reports that this worker is going away (after flushing finished results). */
function goingAway(msg: WorkerMessage): void {
  if (gone || !port) return;
  try {
    if (cur) emit(cur, cur.chunkStart);
    flush();
  } catch {
    // best effort: the lost message below is what matters
  }
  gone = true;
  try {
    send(msg);
  } catch {
    // nothing more to do
  }
}

function exit(code?: number): never {
  goingAway({ k: "lost", why: "exit", code: code ?? 0 });
  return origExit(code);
}
function close(): void {
  goingAway({ k: "lost", why: "close" });
  origClose();
}
Object.defineProperty(Deno, "exit", {
  value: exit,
  writable: false,
  configurable: false,
});
Object.defineProperty(globalThis, "close", {
  value: close,
  writable: false,
  configurable: false,
});

scope.addEventListener("error", (e) => {
  e.preventDefault();
  const ev = e as ErrorEvent;
  goingAway({
    k: "lost",
    why: "error",
    e: errorToWire(ev.error ?? ev.message),
  });
  origClose();
});
scope.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  goingAway({
    k: "lost",
    why: "rejection",
    e: errorToWire((e as PromiseRejectionEvent).reason),
  });
  origClose();
});

function getFn(name: string): TaskFn {
  let f = fns.get(name);
  if (f) return f;
  const v = mod[name];
  if (typeof v !== "function") {
    throw new TypeError(
      `Cannot find a function named '${name}' exported by ${moduleUrl}`,
    );
  }
  f = v as TaskFn;
  fns.set(name, f);
  return f;
}

scope.onmessage = async (e: MessageEvent) => {
  scope.onmessage = null;
  const init = e.data as InitMessage;
  port = init.port;
  bell = new Int32Array(init.bell);
  moduleUrl = init.module;
  transferResults = init.transfer;
  try {
    mod = await importGuarded(init.module, () => import(init.module));
    if (init.initializer) {
      const f = getFn(init.initializer);
      const args = init.initHandles
        ? await decodeFromPost(init.initargs)
        : init.initargs;
      await f(...(args as unknown[]));
    }
  } catch (err) {
    goingAway({ k: "lost", why: "init", e: errorToWire(err) });
    origClose();
    return;
  }
  port.onmessage = (ev: MessageEvent) => onMessage(unwrap(ev.data));
  port.onmessageerror = () => {
    goingAway({
      k: "lost",
      why: "error",
      e: {
        name: "DataCloneError",
        message: "Cannot read a message from the pool",
      },
    });
    origClose();
  };
  send({ k: "ready" });
};

let loadingSync = false;
/**
 * Loads node:worker_threads (for receiveMessageOnPort) the first time
 * spinning would help (a tight sequence of tasks), a little later: loading
 * the Node compatibility layer blocks this thread for milliseconds, which
 * the first results (and a worker that never needs to spin) should not pay.
 */
function loadReceiveSync(): void {
  import("node:worker_threads").then((m) => {
    receiveSync = m.receiveMessageOnPort as unknown as typeof receiveSync;
  }, () => {});
}

/** Host messages travel wrapped in a Map (see the pool's #post). */
function unwrap(m: unknown): HostMessage {
  return (m as Map<number, HostMessage>).get(0)!;
}

function onMessage(d: HostMessage): void {
  if (gone) return;
  if (d.k === "run") {
    for (const r of d.b) inbox.push(r);
    if (!busy) drain();
  } else if (d.k === "abort") {
    const c = controllers.get(d.j);
    if (c) c.abort(d.reason);
    else abortedEarly.set(d.j, d.reason);
  }
}

function startRun(run: Run): RunState | Promise<RunState> {
  let fn: TaskFn;
  try {
    fn = getFn(run.f);
  } catch (err) {
    fn = () => {
      throw err;
    };
  }
  let ctrl: AbortController | undefined;
  if (run.a) {
    ctrl = new AbortController();
    if (abortedEarly.has(run.j)) {
      ctrl.abort(abortedEarly.get(run.j));
      abortedEarly.delete(run.j);
    }
    controllers.set(run.j, ctrl);
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

function drain(): void {
  if (!busy) {
    busy = true;
    workStart = performance.now();
    // Spin after this work only if it came soon after the last (a tight
    // sequential loop); otherwise sleep in the event loop and leave the CPU.
    spinUseful = workStart - lastFlush < SPIN_MS;
    lastFlushWall = Date.now();
  }
  for (;;) {
    if (gone) return;
    if (!cur) {
      if (inboxHead >= inbox.length) {
        inbox.length = 0;
        inboxHead = 0;
        break;
      }
      const run = inbox[inboxHead]!;
      inbox[inboxHead++] = undefined;
      const st = startRun(run);
      if (st instanceof Promise) {
        st.then((s) => {
          cur = s;
          drain();
        });
        return;
      }
      cur = st;
    }
    const p = step(cur);
    if (p) {
      p.then(drain);
      return;
    }
    finishRun(cur);
    cur = null;
  }
  busy = false;
  flush();
  spin();
}

function isThenable(r: unknown): r is PromiseLike<unknown> {
  return r !== null && (typeof r === "object" || typeof r === "function") &&
    typeof (r as { then?: unknown }).then === "function";
}

/** Runs tasks of `st` until it is done (null) or a task returned a thenable. */
function step(st: RunState): PromiseLike<void> | null {
  const { fn, x, n } = st;
  const c = st.run.c;
  const single = st.run.m === MODE_MAP;
  (globalThis as Record<symbol, unknown>)[SIGNAL_SLOT] = st.ctrl?.signal ??
    NEVER;
  while (st.i < n) {
    if (st.i === st.chunkStart && st.ctrl?.signal.aborted) {
      failChunk(st, st.ctrl.signal.reason);
      continue;
    }
    let r: unknown;
    try {
      const a = x[st.i];
      r = single ? fn(a) : fn(...(a as unknown[]));
    } catch (err) {
      failChunk(st, err);
      continue;
    }
    if (isThenable(r)) {
      return Promise.resolve(r).then((v) => {
        store(st, v);
        advance(st, c);
      }, (err) => failChunk(st, err));
    }
    const fv = st.fvals;
    if (fv !== undefined && typeof r === "number") fv[st.i] = r;
    else store(st, r);
    if (++st.i - st.chunkStart === c) {
      st.chunkStart = st.i;
      if (Date.now() - lastFlushWall >= FLUSH_MS) partial(st);
    }
  }
  return null;
}

/** Stores the result of item `st.i` (leaving the all-numbers path if needed). */
function store(st: RunState, r: unknown): void {
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

function advance(st: RunState, c: number): void {
  st.i++;
  if (st.i - st.chunkStart === c || st.i === st.n) {
    st.chunkStart = st.i;
    if (Date.now() - lastFlushWall >= FLUSH_MS) partial(st);
  }
}

function failChunk(st: RunState, err: unknown): void {
  const end = Math.min(st.chunkStart + st.run.c, st.n);
  if (!st.fvals) {
    for (let k = st.chunkStart; k < end; k++) st.vals[k] = undefined;
  }
  (st.errs ??= []).push([st.run.s + st.chunkStart, errorToWire(err)]);
  st.i = end;
  st.chunkStart = end;
  if (Date.now() - lastFlushWall >= FLUSH_MS) partial(st);
}

function partial(st: RunState): void {
  emit(st, st.chunkStart);
  flush();
}

function finishRun(st: RunState): void {
  emit(st, st.n);
  if (st.ctrl) controllers.delete(st.run.j);
}

/** Queues the results of items `[st.emitFrom, to)` for the next flush. */
function emit(st: RunState, to: number): void {
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
      if (transferResults) {
        try {
          inspectValue(v, "result", outTransfer, { handles: false });
        } catch {
          // reported when posting fails
        }
      }
    }
  }
  out.push(res);
  outChunk.push(run.c);
}

function flush(): void {
  if (out.length === 0 || !port) return;
  const now = performance.now();
  const msg: WorkerMessage = {
    k: "res",
    r: out,
    t: now - Math.max(workStart, lastFlush),
  };
  lastFlush = now;
  lastFlushWall = Date.now();
  const chunks = outChunk;
  const transfer = outTransfer;
  out = [];
  outChunk = [];
  outTransfer = [];
  try {
    send(msg, transfer);
  } catch (err) {
    if (!isDataCloneError(err)) throw err;
    repair(msg.k === "res" ? msg.r : [], chunks);
    send(msg);
  }
}

/** Replaces values and errors that cannot be cloned by errors naming them. */
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

function spin(): void {
  if (spinning || !spinUseful || gone || !bell || !port) return;
  if (!receiveSync) {
    if (!loadingSync) {
      loadingSync = true;
      setTimeout(loadReceiveSync, 5);
    }
    return;
  }
  spinning = true;
  let polls = 0;
  try {
    let now = performance.now();
    let hot = now + HOT_MS;
    let end = now + SPIN_MS;
    while (!busy && !gone) {
      const b = Atomics.load(bell, 0);
      if (b !== seenBell) {
        seenBell = b;
        let m: { message: unknown } | undefined;
        while (!busy && !gone && (m = receiveSync(port))) {
          onMessage(unwrap(m.message));
        }
        now = performance.now();
        hot = now + HOT_MS;
        end = now + SPIN_MS;
      } else if ((++polls & 255) === 0) {
        now = performance.now();
        if (now >= end) break;
        // after HOT_MS of polling, sleep on the doorbell (the host notifies it)
        if (now >= hot) Atomics.wait(bell, 0, b, end - now);
      }
    }
  } finally {
    spinning = false;
  }
}
