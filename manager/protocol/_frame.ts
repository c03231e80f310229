// Builds one frame (a msgpack array) out of messages encoded one by one, so
// that a message msgpack cannot carry fails alone (its TypeError goes to its
// caller) and a batch costs one encode per message plus one copy. A frame is
// a view of the builder's buffer, handed over with it; once written, the
// buffer comes back (`recycle`), so a steady stream of frames allocates none.

import { encode } from "../../_msgpack.ts";

const RESERVE = 5;
const INITIAL = 4096;
/** A buffer grown past this for one large message is not kept. */
const KEEP_LIMIT = 1 << 20;

/** Accumulates encoded messages into one msgpack array. */
export class FrameBuilder {
  #buf = new Uint8Array(INITIAL);
  #spare: Uint8Array<ArrayBuffer> | undefined;
  #end = RESERVE;
  #count = 0;
  /** Callbacks to run if this batch cannot be delivered. */
  undos: (() => void)[] = [];

  /** Number of messages waiting. */
  get count(): number {
    return this.#count;
  }

  /**
   * Encodes and appends one message.
   *
   * @throws {TypeError} when msgpack cannot carry it (nothing is appended).
   */
  add(message: unknown): void {
    const bytes = encode(message);
    const need = this.#end + bytes.length;
    if (need > this.#buf.length) {
      let n = this.#buf.length * 2;
      while (n < need) n *= 2;
      const buf = new Uint8Array(n);
      buf.set(this.#buf.subarray(0, this.#end));
      this.#buf = buf;
    }
    this.#buf.set(bytes, this.#end);
    this.#end = need;
    this.#count++;
  }

  /**
   * The frame holding every message added since the last call: a view of a
   * buffer the builder no longer writes to (give it back with `recycle`
   * once the frame is written).
   */
  take(): Uint8Array {
    const n = this.#count;
    const buf = this.#buf;
    let start: number;
    if (n < 16) {
      start = RESERVE - 1;
      buf[start] = 0x90 | n;
    } else if (n < 0x10000) {
      start = RESERVE - 3;
      buf[start] = 0xdc;
      buf[start + 1] = n >>> 8;
      buf[start + 2] = n & 0xff;
    } else {
      start = 0;
      buf[0] = 0xdd;
      buf[1] = n >>> 24;
      buf[2] = (n >>> 16) & 0xff;
      buf[3] = (n >>> 8) & 0xff;
      buf[4] = n & 0xff;
    }
    const out = buf.subarray(start, this.#end);
    this.#end = RESERVE;
    this.#count = 0;
    this.#buf = this.#spare ?? new Uint8Array(INITIAL);
    this.#spare = undefined;
    return out;
  }

  /** Takes back the buffer of a frame from `take()` that is written (no one reads it any more). */
  recycle(frame: Uint8Array): void {
    const b = frame.buffer;
    // Not one that was transferred away, nor one grown for one large message.
    if (
      this.#spare === undefined && b instanceof ArrayBuffer &&
      b.byteLength >= INITIAL && b.byteLength <= KEEP_LIMIT
    ) this.#spare = new Uint8Array(b);
  }
}
