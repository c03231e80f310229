// Builds one frame (a msgpack array) out of messages encoded one by one, so
// that a message msgpack cannot carry fails alone (its TypeError goes to its
// caller) and a batch costs one encode per message plus one copy.

import { encode } from "../connection/_codec.ts";

const RESERVE = 5;

/** Accumulates encoded messages into one msgpack array. */
export class FrameBuilder {
  #buf = new Uint8Array(4096);
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

  /** The frame holding every message added since the last call (its own buffer). */
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
    const out = buf.slice(start, this.#end);
    this.#end = RESERVE;
    this.#count = 0;
    // Do not keep a buffer grown for one large message.
    if (buf.length > 1 << 20) this.#buf = new Uint8Array(4096);
    return out;
  }
}
