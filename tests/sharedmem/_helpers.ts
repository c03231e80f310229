// Runs sharedmem ops in real Workers (tests/fixtures/sharedmem_worker.ts).

import * as mp from "../../sharedmem/mod.ts";

const FIXTURE = import.meta.resolve("../fixtures/sharedmem_worker.ts");

/** A Worker running the sharedmem fixture; `run` sends one op. */
export class TestWorker implements AsyncDisposable {
  #worker = new Worker(FIXTURE, { type: "module" });
  #closed = false;

  /** Runs `op` in the worker; resolves its result, rejects with its error. */
  run<T = unknown>(
    op: string,
    args: Record<string, unknown> = {},
    timeoutMs = 30_000,
  ): Promise<T> {
    const { value, transfer } = mp.toPostable({ op, ...args });
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    const timer = setTimeout(
      () => reject(new Error(`op ${op} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    this.#worker.onmessage = (e: MessageEvent) => {
      clearTimeout(timer);
      const m = e.data as {
        ok: boolean;
        result?: T;
        name?: string;
        message?: string;
      };
      if (m.ok) resolve(m.result as T);
      else {
        const err = new Error(m.message);
        err.name = m.name ?? "Error";
        reject(err);
      }
    };
    this.#worker.onerror = (e) => {
      e.preventDefault();
      clearTimeout(timer);
      reject(new Error(`worker error: ${e.message}`));
    };
    this.#worker.postMessage(value, transfer);
    return promise;
  }

  /** Terminates the worker (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#worker.terminate();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/** `n` test workers, disposed together. */
export function workers(n: number): TestWorker[] & AsyncDisposable {
  const list = Array.from({ length: n }, () => new TestWorker()) as
    & TestWorker[]
    & AsyncDisposable;
  list[Symbol.asyncDispose] = () => {
    for (const w of list) w.close();
    return Promise.resolve();
  };
  return list;
}
