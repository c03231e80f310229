// CPython's framing over a Deno byte stream (TCP, Unix, TLS).
//
// Reading: one buffered reader per connection. Small frames are parsed out of
// a 64 KiB read buffer and copied out; a frame larger than the buffer is read
// straight into its own array, which grows as bytes arrive (a header that
// claims 1 GiB allocates nothing until the bytes come).
//
// Writing: a bounded send buffer (see "writing" below); frames queued while
// a write is in flight go out together in the next one (header and payload
// of a small frame are always in one write, so Nagle never splits them);
// large payloads are written as they are, without a copy.

import type { Channel } from "./_channel.ts";
import {
  frameLength,
  headerSize,
  headerSizeAt,
  int32At,
  writeHeader,
} from "./_header.ts";
import { ProtocolError } from "./errors.ts";

const READ_BUFFER = 64 * 1024;
/** Milliseconds queued writes get to finish after close(). */
const CLOSE_GRACE = 1000;
/** A connection starts with a read buffer this small. */
const FIRST_READ_BUFFER = 512;
/** A batch of small frames starts in an out buffer this small. */
const FIRST_OUT_BUFFER = 256;
/** Frames up to this size are assembled in the read buffer. */
const SMALL_FRAME = READ_BUFFER - 16 * 1024;
/** Payloads up to this size are copied next to their header. */
const SMALL = 64 * 1024;
/** Small frames queued in one tick are gathered in buffers of this size. */
const OUT_BUFFER = 128 * 1024;
/** First allocation for a frame that does not fit the read buffer. */
const FIRST_CHUNK = 64 * 1024;
/** The largest buffer allocated for a frame before its bytes arrive. */
const MAX_EAGER = 16 * 1024 * 1024;
/** How much a large frame's buffer grows as its bytes arrive (fewer copies). */
const GROWTH = 4;

/** Bytes queued for writing above which a send waits for the queue to drain. */
const HIGH_WATER = 1024 * 1024;
/** A waiting send resumes once the queue is down to this. */
const LOW_WATER = 256 * 1024;
const RESOLVED: Promise<void> = Promise.resolve();

/** A run of bytes to write; `buffer` is an out buffer to reuse after it. */
interface Chunk {
  bytes: Uint8Array;
  buffer: Uint8Array | null;
  /** Settled once the bytes are written (a large payload's own send). */
  done: PromiseWithResolvers<void> | null;
}

/** What the channel needs of a Deno connection. */
export interface Stream {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
}

function closedError(): Error {
  return new Deno.errors.BadResource(
    "Cannot use the connection as it is closed",
  );
}

function isEofLike(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.UnexpectedEof;
}

/** A {@link Channel} over a byte stream. */
export class SocketChannel implements Channel {
  #stream: Stream;
  #buf = new Uint8Array(FIRST_READ_BUFFER);
  /** The last read filled all the room it had: the stream is flowing. */
  #lastReadFull = false;
  /** Frames handed out view `#buf`: it is never overwritten, only replaced. */
  #shared = false;
  /** Bytes received so far: a large frame's buffer may be sized up to this. */
  #received = 0;
  /** A large frame is being read straight from the stream (not via #fill). */
  #largeRead = false;
  #start = 0;
  #end = 0;
  #eof = false;
  #closed = false;
  #streamClosed = false;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #filling: Promise<boolean> | null = null;

  /** Small frames of the current batch, header and payload side by side. */
  #out: Uint8Array | null = null;
  #outLen = 0;
  /** An out buffer whose write completed, for reuse. */
  #spare: Uint8Array | null = null;
  /** Byte runs waiting to be written, in order. */
  #pending: Chunk[] = [];
  /** Bytes accepted by writeFrame and not yet written. */
  #queued = 0;
  /** Sends waiting for the buffer to drain to LOW_WATER. */
  #drain: PromiseWithResolvers<void> | null = null;
  /** Waiters of flushed(). */
  #idle: PromiseWithResolvers<void> | null = null;
  #flushing = false;
  #writeError: unknown = null;
  /** Whether a send or flushed() has rejected with `#writeError`. */
  #errorReported = false;
  #graceExpired = false;

  /**
   * @param stream The byte stream.
   * @param initial Bytes already read from it (past a handshake), read
   * first.
   */
  constructor(stream: Stream, initial?: Uint8Array) {
    this.#stream = stream;
    if (initial !== undefined && initial.length > 0) {
      if (initial.length > this.#buf.length) {
        this.#buf = new Uint8Array(initial.length);
      }
      this.#buf.set(initial);
      this.#end = this.#received = initial.length;
    }
  }

  // -- reading --

  hasData(): boolean {
    // A frame partly read (a large one being read straight from the stream)
    // counts as data, as in CPython's poll().
    return this.#end > this.#start || this.#largeRead || this.#eof ||
      this.#closed;
  }

  whenData(): Promise<void> {
    if (this.hasData()) return Promise.resolve();
    return this.#fill().then(() => {}, () => {});
  }

  /** Reads more bytes into the read buffer; false at end of stream. */
  /**
   * Prepares the read buffer for the next read. It starts small (cheap
   * connections, fast handshakes) and grows to READ_BUFFER once a read fills
   * all the room it had or the pending frame needs more; it is compacted in
   * place, or replaced when frames handed out still view it.
   */
  #makeRoom(): void {
    const have = this.#end - this.#start;
    let size = this.#buf.length;
    if (size < READ_BUFFER) {
      const h = have >= 4 ? int32At(this.#buf, this.#start) : 0;
      if (this.#lastReadFull || h < 0 || h + 12 > size) size = READ_BUFFER;
    }
    if (
      size !== this.#buf.length ||
      (this.#shared && this.#buf.length - this.#end < size / 4)
    ) {
      const fresh = new Uint8Array(size);
      fresh.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = fresh;
      this.#shared = false;
    } else if (this.#shared) {
      return; // keep appending after the frames handed out
    } else if (have === 0 || this.#buf.length - this.#end < size / 4) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      return;
    }
    this.#end = have;
    this.#start = 0;
  }

  #fill(): Promise<boolean> {
    if (this.#filling) return this.#filling;
    if (this.#closed) return Promise.reject(closedError());
    if (this.#eof) return Promise.resolve(false);
    this.#makeRoom();
    const room = this.#buf.length - this.#end;
    const p = this.#stream.read(this.#buf.subarray(this.#end)).then(
      (n) => {
        this.#filling = null;
        if (n === null) {
          this.#eof = true;
          return false;
        }
        this.#end += n;
        this.#received += n;
        this.#lastReadFull = n === room;
        return true;
      },
      (e) => {
        this.#filling = null;
        if (this.#closed) throw closedError();
        if (isEofLike(e)) {
          this.#eof = true;
          return false;
        }
        throw e;
      },
    );
    this.#filling = p;
    return p;
  }

  /**
   * Reads the header at the read position without consuming it: the payload
   * length, or -1 when the header is not all here (its size is then
   * headerSizeAt). A malformed or oversized header closes the channel and
   * throws.
   */
  #header(maxLength: number): number {
    let n: number;
    try {
      n = frameLength(this.#buf, this.#start, this.#end - this.#start);
    } catch (e) {
      this.close();
      throw e;
    }
    if (n > maxLength) {
      this.close();
      throw new RangeError(
        `Cannot receive a message of ${n} bytes as it is longer than the limit of ${maxLength} bytes: the connection is closed`,
      );
    }
    return n;
  }

  /**
   * The next frame if it is wholly buffered, `null` at a clean end of
   * stream, `undefined` when more bytes are needed. Never waits.
   */
  tryReadFrame(maxLength: number, lend = false): Uint8Array | null | undefined {
    const n = this.#header(maxLength);
    if (n < 0) {
      return this.#eof && this.#end === this.#start ? null : undefined;
    }
    const at = this.#start + headerSizeAt(this.#buf, this.#start);
    if (this.#end - at < n) return undefined;
    this.#start = at + n;
    if (!lend) return this.#buf.slice(at, at + n);
    this.#shared = true;
    return this.#buf.subarray(at, at + n);
  }

  async readFrame(maxLength: number, lend = false): Promise<Uint8Array | null> {
    while (true) {
      const frame = this.tryReadFrame(maxLength, lend);
      if (frame !== undefined) return frame;
      const n = this.#header(maxLength);
      if (n > SMALL_FRAME) {
        this.#start += headerSizeAt(this.#buf, this.#start);
        this.#largeRead = true;
        try {
          return await this.#readLarge(n, this.#end - this.#start);
        } finally {
          this.#largeRead = false;
        }
      }
      const midFrame = this.#end > this.#start;
      if (!(await this.#fill())) {
        if (!midFrame) return null;
        this.close();
        throw new ProtocolError(
          "Cannot receive the message as the peer closed the connection in the middle of it",
        );
      }
    }
  }

  async #readLarge(n: number, avail: number): Promise<Uint8Array> {
    // Memory follows the bytes that arrive, not the header: the first
    // allocation is bounded by what this peer has already sent (so a header
    // claiming 1 GiB costs at most FIRST_CHUNK), then grows as bytes come.
    const proven = Math.min(this.#received, MAX_EAGER);
    let frame = new Uint8Array(
      Math.min(n, Math.max(FIRST_CHUNK, avail * GROWTH, proven)),
    );
    frame.set(this.#buf.subarray(this.#start, this.#end));
    let filled = avail;
    this.#start = this.#end = 0;
    while (filled < n) {
      if (filled === frame.length) {
        const grown = new Uint8Array(Math.min(n, frame.length * GROWTH));
        grown.set(frame);
        frame = grown;
      }
      let r: number | null;
      try {
        r = await this.#stream.read(frame.subarray(filled));
      } catch (e) {
        if (this.#closed) throw closedError();
        if (!isEofLike(e)) throw e;
        r = null;
      }
      if (r === null) {
        this.#eof = true;
        this.close();
        throw new ProtocolError(
          "Cannot receive the message as the peer closed the connection in the middle of it",
        );
      }
      filled += r;
      this.#received += r;
    }
    return frame;
  }

  // -- writing --
  //
  // A send resolves as soon as its frame is queued in the connection's send
  // buffer (a small payload is copied there) while the buffer holds at most
  // HIGH_WATER bytes; above that it resolves once the buffer drained to
  // LOW_WATER (backpressure: an awaited send loop never holds more than
  // about HIGH_WATER). A payload over SMALL is not copied: its send resolves
  // once it is handed to the kernel. One writer loop writes the queue in
  // order, frames gathered into few writes. A write error is kept: it
  // rejects every later send and `flushed()`, so it is never lost.

  writeFrame(payload: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    if (this.#writeError !== null) {
      this.#errorReported = true;
      return Promise.reject(this.#writeError);
    }
    const n = payload.length;
    const hs = headerSize(n);
    let done: Promise<void>;
    if (n <= SMALL) {
      const need = this.#outLen + hs + n;
      if (need > OUT_BUFFER) this.#seal();
      let out = this.#out;
      if (out === null) {
        out = this.#spare ?? new Uint8Array(Math.max(FIRST_OUT_BUFFER, hs + n));
        this.#spare = null;
        this.#out = out;
      }
      if (this.#outLen + hs + n > out.length) {
        // Grow the batch buffer (doubling) up to OUT_BUFFER.
        let size = out.length * 2;
        while (size < this.#outLen + hs + n) size *= 2;
        const grown = new Uint8Array(Math.min(OUT_BUFFER, size));
        grown.set(out.subarray(0, this.#outLen));
        this.#out = out = grown;
      }
      writeHeader(out, this.#outLen, n);
      out.set(payload, this.#outLen + hs);
      this.#outLen += hs + n;
      this.#queued += hs + n;
      done = this.#queued <= HIGH_WATER
        ? RESOLVED
        : (this.#drain ??= Promise.withResolvers<void>()).promise;
    } else {
      this.#seal();
      const h = new Uint8Array(hs);
      writeHeader(h, 0, n);
      const written = Promise.withResolvers<void>();
      this.#pending.push({ bytes: h, buffer: null, done: null });
      this.#pending.push({ bytes: payload, buffer: null, done: written });
      this.#queued += hs + n;
      done = written.promise;
    }
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => this.#flush());
    }
    return done;
  }

  /** Moves the frames gathered in the out buffer to the pending writes. */
  #seal(): void {
    if (this.#out === null) return;
    if (this.#outLen > 0) {
      this.#pending.push({
        bytes: this.#out.subarray(0, this.#outLen),
        buffer: this.#out,
        done: null,
      });
    }
    this.#out = null;
    this.#outLen = 0;
  }

  /** The writer loop: runs while anything is queued. */
  async #flush(): Promise<void> {
    let chunks: Chunk[] = [];
    let i = 0;
    try {
      while (this.#pending.length > 0 || this.#outLen > 0) {
        this.#seal();
        chunks = this.#pending;
        this.#pending = [];
        for (i = 0; i < chunks.length; i++) {
          const c = chunks[i]!;
          await this.#writeAll(c.bytes);
          this.#queued -= c.bytes.length;
          const b = c.buffer;
          if (b !== null && (!this.#spare || b.length > this.#spare.length)) {
            this.#spare = b;
          }
          c.done?.resolve();
          if (this.#closed) this.#armGrace(); // progress: the grace restarts
          if (this.#drain !== null && this.#queued <= LOW_WATER) {
            this.#drain.resolve();
            this.#drain = null;
          }
        }
      }
    } catch (e) {
      const err = this.#streamClosed
        ? (this.#graceExpired
          ? new Deno.errors.TimedOut(
            `Cannot write the queued messages as the peer took nothing for ${CLOSE_GRACE} ms after close(): ${this.#queued} bytes were dropped`,
          )
          : closedError())
        : e;
      this.#writeError = err;
      const failed = [...chunks.slice(i), ...this.#pending];
      for (const c of failed) {
        if (c.done) {
          c.done.reject(err);
          this.#errorReported = true;
        }
      }
      if (this.#drain !== null) {
        this.#drain.reject(err);
        this.#errorReported = true;
        this.#drain = null;
      }
      this.#pending = [];
      this.#out = null;
      this.#outLen = 0;
      this.#queued = 0;
    }
    this.#flushing = false;
    const idle = this.#idle;
    this.#idle = null;
    idle?.resolve();
    if (this.#closed) this.#closeStream();
  }

  async #writeAll(p: Uint8Array): Promise<void> {
    let off = 0;
    while (off < p.length) {
      if (this.#streamClosed) throw closedError();
      off += await this.#stream.write(off === 0 ? p : p.subarray(off));
    }
  }

  /**
   * Resolves once every queued frame is written (or given up); rejects with
   * a write error that no send has reported yet.
   */
  async flushed(): Promise<void> {
    if (this.#flushing) {
      await (this.#idle ??= Promise.withResolvers<void>()).promise;
    }
    if (this.#writeError !== null && !this.#errorReported) {
      this.#errorReported = true;
      throw this.#writeError;
    }
  }

  /**
   * Closes the channel. Frames already queued are still written (a send
   * that resolved before `close()` is not lost) while the peer takes them;
   * the stream closes after them, or once the peer took nothing for
   * CLOSE_GRACE ms (a peer that never reads cannot pin the socket).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#flushing) {
      this.#closeStream();
      return;
    }
    this.#armGrace();
  }

  /** (Re)starts the close grace: the stream closes after CLOSE_GRACE ms without progress. */
  #armGrace(): void {
    clearTimeout(this.#graceTimer);
    this.#graceTimer = setTimeout(() => {
      this.#graceExpired = true;
      this.#closeStream();
    }, CLOSE_GRACE);
  }

  #closeStream(): void {
    clearTimeout(this.#graceTimer);
    if (this.#streamClosed) return;
    this.#streamClosed = true;
    try {
      this.#stream.close();
    } catch {
      // already closed by the runtime
    }
  }
}
