// The unauthenticated connections of a keyed Listener: bounded by random
// early drop (OpenSSH's MaxStartups) and closed at their deadline by one
// timer for all of them.

/** A connection mid-handshake: all the bookkeeping needs is to close it. */
export interface Closable {
  close(): void;
}

/** Closes `c`; one closed already is no error. */
export function closeQuietly(c: Closable): void {
  try {
    c.close();
  } catch {
    // closed already
  }
}

/** Default cap on unauthenticated connections (a few hundred bytes each). */
const MAX_STARTUPS = 8192;
/** The default cap when the process's descriptor limit cannot be read. */
const MAX_STARTUPS_UNKNOWN_LIMIT = 512;

let cachedDefault: number | undefined;

/**
 * The default maxStartups: 8192, but at most half of the process's open-file
 * limit, read from /proc/self/limits when that is allowed without a prompt
 * (else 512). Deno 2.9 panics when a process runs out of descriptors (in
 * ext/signals), so a flood must never get there.
 */
export function defaultMaxStartups(): number {
  return cachedDefault ??= readDefault();
}

function readDefault(): number {
  try {
    const path = "/proc/self/limits";
    if (
      Deno.permissions.querySync({ name: "read", path }).state !== "granted"
    ) {
      return MAX_STARTUPS_UNKNOWN_LIMIT;
    }
    const m = /^Max open files\s+(\d+)/m.exec(Deno.readTextFileSync(path));
    if (!m) return MAX_STARTUPS_UNKNOWN_LIMIT;
    return Math.max(1, Math.min(MAX_STARTUPS, Math.floor(Number(m[1]) / 2)));
  } catch {
    return MAX_STARTUPS_UNKNOWN_LIMIT;
  }
}

/** Connections mid-handshake, each with a deadline. */
export class Startups {
  #max: number;
  #timeout: number;
  /** Dense, for a random pick. */
  #pending: Closable[] = [];
  /** Index of each pending connection in `#pending`. */
  #at = new Map<Closable, number>();
  /** Deadlines in arrival order, which is deadline order (lazily pruned). */
  #deadlines: { conn: Closable; at: number }[] = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Why a pending connection was closed early. */
  #dropped = new Map<Closable, string>();

  constructor(max: number, timeout: number) {
    this.#max = max;
    this.#timeout = timeout;
  }

  get size(): number {
    return this.#pending.length;
  }

  /**
   * Adds a connection. Past half of the cap, a random pending one (never
   * the new one) is closed with a probability rising linearly to 1 at the
   * cap: the count never exceeds it, and a legitimate client that connects
   * during a flood is closed only if picked at random mid-handshake.
   */
  admit(conn: Closable): void {
    const n = this.#pending.length;
    const full = this.#max;
    const start = Math.floor(full / 2);
    if (
      n >= full || (n > start && Math.random() * (full - start) < n - start)
    ) {
      this.dropRandom(
        "it was dropped: too many unauthenticated connections at once (maxStartups)",
      );
    }
    this.#at.set(conn, this.#pending.length);
    this.#pending.push(conn);
    this.#deadlines.push({ conn, at: performance.now() + this.#timeout });
    if (this.#timer === undefined) this.#arm(this.#timeout);
  }

  /** Closes a random pending connection; its failure will say `why`. */
  dropRandom(why: string): void {
    if (this.#pending.length === 0) return;
    const i = Math.floor(Math.random() * this.#pending.length);
    this.#drop(this.#pending[i]!, why);
  }

  /** Why `conn` was closed early (its deadline, a drop), if it was. */
  droppedWhy(conn: Closable): string | undefined {
    return this.#dropped.get(conn);
  }

  /** Removes a connection whose handshake ended (swap-remove). */
  forget(conn: Closable): void {
    this.#dropped.delete(conn);
    const i = this.#at.get(conn);
    if (i === undefined) return;
    this.#at.delete(conn);
    const last = this.#pending.pop()!;
    if (last !== conn) {
      this.#pending[i] = last;
      this.#at.set(last, i);
    }
  }

  /** Closes every pending connection and stops the timer. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const c of this.#pending) closeQuietly(c);
    this.#deadlines.length = 0;
    this.#head = 0;
  }

  #drop(conn: Closable, why: string): void {
    if (!this.#at.has(conn) || this.#dropped.has(conn)) return;
    this.#dropped.set(conn, why);
    closeQuietly(conn);
  }

  /** One timer for every pending connection. */
  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#sweep(), ms);
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = performance.now();
    const q = this.#deadlines;
    let i = this.#head;
    for (; i < q.length; i++) {
      const { conn, at } = q[i]!;
      if (!this.#at.has(conn)) continue;
      if (at > now) break;
      this.#drop(
        conn,
        `it did not complete the handshake within ${this.#timeout} ms: raise 'handshakeTimeout' for slow peers`,
      );
    }
    if (i >= q.length) {
      q.length = 0;
      this.#head = 0;
    } else if (i > 1024 && i > q.length / 2) {
      q.splice(0, i);
      this.#head = 0;
    } else {
      this.#head = i;
    }
    if (q.length > this.#head) {
      this.#arm(Math.max(1, q[this.#head]!.at - now));
    }
  }
}
