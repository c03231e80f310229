// CPython's framing over a Deno byte stream (TCP, Unix, TLS).
//
// Reading: one buffered reader per connection. Small frames are parsed out of
// a 64 KiB read buffer and copied out; a frame larger than the buffer is read
// straight into its own array, which grows as bytes arrive (a header that
// claims 1 GiB allocates nothing until the bytes come).
//
// Writing: frames queued in the same tick go out in one write (header and
// payload of a small frame are always in one write, so Nagle never splits
// them); large payloads are written as they are, without a copy.

import { type Channel, headerSize, writeHeader } from "./_channel.ts";
import { ProtocolError } from "./errors.ts";

const READ_BUFFER = 64 * 1024;
/** Payloads up to this size are copied next to their header. */
const SMALL = 64 * 1024;
/** Coalesced writes stop growing at this size. */
const MAX_BATCH = 256 * 1024;
/** First allocation for a frame that does not fit the read buffer. */
const FIRST_CHUNK = 64 * 1024;

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
  #buf = new Uint8Array(READ_BUFFER);
  #start = 0;
  #end = 0;
  #eof = false;
  #closed = false;
  #streamClosed = false;
  #filling: Promise<boolean> | null = null;

  #pending: Uint8Array[] = [];
  #batch: PromiseWithResolvers<void> | null = null;
  #flushing = false;
  #writeError: unknown = null;

  constructor(stream: Stream) {
    this.#stream = stream;
  }

  // -- reading --

  hasData(): boolean {
    return this.#end > this.#start || this.#eof || this.#closed;
  }

  whenData(): Promise<void> {
    if (this.hasData()) return Promise.resolve();
    return this.#fill().then(() => {}, () => {});
  }

  /** Reads more bytes into the read buffer; false at end of stream. */
  #fill(): Promise<boolean> {
    if (this.#filling) return this.#filling;
    if (this.#closed) return Promise.reject(closedError());
    if (this.#eof) return Promise.resolve(false);
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
    } else if (this.#buf.length - this.#end < 16 * 1024 && this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    const p = this.#stream.read(this.#buf.subarray(this.#end)).then(
      (n) => {
        this.#filling = null;
        if (n === null) {
          this.#eof = true;
          return false;
        }
        this.#end += n;
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

  async #need(n: number, midFrame: boolean): Promise<boolean> {
    while (this.#end - this.#start < n) {
      if (!(await this.#fill())) {
        if (!midFrame && this.#end === this.#start) return false;
        this.close();
        throw new ProtocolError(
          "Cannot receive the message as the peer closed the connection in the middle of it",
        );
      }
    }
    return true;
  }

  async readFrame(maxLength: number): Promise<Uint8Array | null> {
    if (this.#end - this.#start < 4 && !(await this.#need(4, false))) {
      return null;
    }
    const b = this.#buf;
    let s = this.#start;
    let n = (b[s]! << 24) | (b[s + 1]! << 16) | (b[s + 2]! << 8) | b[s + 3]!;
    let hs = 4;
    if (n === -1) {
      await this.#need(12, true);
      s = this.#start;
      const hi = ((b[s + 4]! << 24) | (b[s + 5]! << 16) | (b[s + 6]! << 8) |
        b[s + 7]!) >>> 0;
      const lo = ((b[s + 8]! << 24) | (b[s + 9]! << 16) | (b[s + 10]! << 8) |
        b[s + 11]!) >>> 0;
      n = hi * 2 ** 32 + lo;
      hs = 12;
      if (!Number.isSafeInteger(n)) {
        this.close();
        throw new ProtocolError(
          `Cannot receive the message as its length is too large: ${hi}:${lo}`,
        );
      }
    } else if (n < 0) {
      this.close();
      throw new ProtocolError(
        `Cannot receive the message as its header is malformed: length ${n}`,
      );
    }
    if (n > maxLength) {
      this.close();
      throw new RangeError(
        `Cannot receive a message of ${n} bytes as it is longer than the limit of ${maxLength} bytes: the connection is closed`,
      );
    }
    this.#start += hs;
    const avail = this.#end - this.#start;
    if (n <= avail) {
      const frame = this.#buf.slice(this.#start, this.#start + n);
      this.#start += n;
      return frame;
    }
    if (n <= READ_BUFFER - 16 * 1024) {
      await this.#need(n, true);
      const frame = this.#buf.slice(this.#start, this.#start + n);
      this.#start += n;
      return frame;
    }
    return await this.#readLarge(n, avail);
  }

  async #readLarge(n: number, avail: number): Promise<Uint8Array> {
    let frame = new Uint8Array(Math.min(n, Math.max(FIRST_CHUNK, avail * 2)));
    frame.set(this.#buf.subarray(this.#start, this.#end));
    let filled = avail;
    this.#start = this.#end = 0;
    while (filled < n) {
      if (filled === frame.length) {
        const grown = new Uint8Array(Math.min(n, frame.length * 2));
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
    }
    return frame;
  }

  // -- writing --

  writeFrame(payload: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    if (this.#writeError) return Promise.reject(this.#writeError);
    const n = payload.length;
    const hs = headerSize(n);
    if (n <= SMALL) {
      const f = new Uint8Array(hs + n);
      writeHeader(f, 0, n);
      f.set(payload, hs);
      this.#pending.push(f);
    } else {
      const h = new Uint8Array(hs);
      writeHeader(h, 0, n);
      this.#pending.push(h, payload);
    }
    const batch = this.#batch ??= Promise.withResolvers<void>();
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => this.#flush());
    }
    return batch.promise;
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const chunks = this.#pending;
      const batch = this.#batch!;
      this.#pending = [];
      this.#batch = null;
      try {
        await this.#writeChunks(chunks);
        batch.resolve();
      } catch (e) {
        const err = this.#streamClosed ? closedError() : e;
        this.#writeError = err;
        batch.reject(err);
        (this.#batch as PromiseWithResolvers<void> | null)?.reject(err);
        this.#batch = null;
        this.#pending = [];
      }
    }
    this.#flushing = false;
    if (this.#closed) this.#closeStream();
  }

  async #writeChunks(chunks: Uint8Array[]): Promise<void> {
    if (chunks.length === 1) return await this.#writeAll(chunks[0]!);
    let i = 0;
    while (i < chunks.length) {
      const c = chunks[i]!;
      if (c.length > SMALL) {
        await this.#writeAll(c);
        i++;
        continue;
      }
      // Coalesce a run of small chunks into one write.
      let j = i;
      let total = 0;
      while (
        j < chunks.length && chunks[j]!.length <= SMALL &&
        total + chunks[j]!.length <= MAX_BATCH
      ) {
        total += chunks[j]!.length;
        j++;
      }
      if (j - i === 1) {
        await this.#writeAll(c);
      } else {
        const out = new Uint8Array(total);
        let at = 0;
        for (let k = i; k < j; k++) {
          out.set(chunks[k]!, at);
          at += chunks[k]!.length;
        }
        await this.#writeAll(out);
      }
      i = j;
    }
  }

  async #writeAll(p: Uint8Array): Promise<void> {
    let off = 0;
    while (off < p.length) {
      if (this.#streamClosed) throw closedError();
      off += await this.#stream.write(off === 0 ? p : p.subarray(off));
    }
  }

  /**
   * Closes the channel. Frames already queued are still written (a `send()`
   * not awaited before `close()` is not lost); the stream closes after them.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#flushing) this.#closeStream();
  }

  #closeStream(): void {
    if (this.#streamClosed) return;
    this.#streamClosed = true;
    try {
      this.#stream.close();
    } catch {
      // already closed by the runtime
    }
  }
}
