// The msgpack wire codec behind _msgpack.ts: a hand-written encoder and
// decoder with no dependency. It writes the bytes msgpackr 1.11.5 wrote with
// `useRecords: false, moreTypes: false` (the format every peer already
// speaks; tests/connection/fixtures/msgpack_bytes.json records them):
//
// - integers in 32 bits take the smallest int format (0..127 as a positive
//   fixint, -0 as 0); every other number is a float64;
// - bigints are int64 (0xd3) when they fit, else uint64 (0xcf);
// - strings take the smallest str header for their UTF-8 length; under 64
//   chars they are encoded by hand (a lone surrogate as its 3-byte form, as
//   msgpackr did), longer ones with TextEncoder (a lone surrogate as U+FFFD);
// - undefined is fixext1 type 0 (0xd4 0x00 0x00);
// - plain objects and class instances are always a map16 (0xde) of their
//   own enumerable string keys; Map is a map of its entries; arrays and Set
//   are arrays; Error is [name, message, cause]; RegExp is [source, flags];
//   other objects with toJSON() travel as its result;
// - Uint8Array/ArrayBuffer/typed arrays/DataView are bin of their bytes
//   (msgpackr wrote wider typed arrays element by element, truncating each
//   to a byte — a bug; here the bytes are the view's bytes);
// - Date is the timestamp extension (type -1) in 32, 64 or 96 bits.
//
// The decoder reads exactly those, strictly: one value, every length
// bounds-checked, no extension type but 0 (undefined) and -1 (Date), the
// reserved byte 0xc1 refused. Failures are SyntaxErrors.

/** Deeper than this is refused on both sides (the checker's limit too). */
export const MAX_DEPTH = 512;

/** Thrown by the encoder for a value it cannot carry; the caller explains. */
export const REFUSED: unique symbol = Symbol("refused");

// ---------------------------------------------------------------------------
// Encoder: writes into a slab; each result is a subarray of it that no later
// call overwrites (the next one starts after it, or in a new slab).

const SLAB = 8192;
/** A slab grown past this is dropped after the call that grew it. */
const KEEP = 1 << 20;
const INT64_MIN = -(2n ** 63n);
const INT64_END = 2n ** 63n;
const UINT64_END = 2n ** 64n;
const textEncoder = new TextEncoder();

let buf = new Uint8Array(SLAB);
let view = new DataView(buf.buffer);
let pos = 0;
let start = 0;
let busy = false;

function grow(n: number): void {
  const used = pos - start;
  // Room for a few more of the same: big frames do not each take a slab.
  const size = Math.max(buf.length, ((used + n + 16) * 4 + 0xfff) & ~0xfff);
  const next = new Uint8Array(size);
  next.set(buf.subarray(start, pos));
  buf = next;
  view = new DataView(next.buffer);
  pos = used;
  start = 0;
}

/** Encodes one value; throws REFUSED for what msgpack cannot carry. */
export function encodeValue(value: unknown): Uint8Array {
  if (busy) return encodeReentrant(value);
  if (buf.length - pos < 512) {
    buf = new Uint8Array(SLAB);
    view = new DataView(buf.buffer);
    pos = 0;
  }
  start = pos;
  busy = true;
  try {
    write(value, 0);
  } catch (e) {
    pos = start;
    throw e;
  } finally {
    busy = false;
  }
  const out = buf.subarray(start, pos);
  if (buf.length > KEEP) {
    buf = new Uint8Array(SLAB);
    view = new DataView(buf.buffer);
    pos = 0;
  }
  return out;
}

/** encode() called from a toJSON() during encode(): a slab of its own. */
function encodeReentrant(value: unknown): Uint8Array {
  const saved = [buf, view, pos, start] as const;
  buf = new Uint8Array(SLAB);
  view = new DataView(buf.buffer);
  pos = start = 0;
  try {
    write(value, 0);
    return buf.subarray(0, pos);
  } finally {
    [buf, view, pos, start] = saved;
  }
}

function write(v: unknown, depth: number): void {
  if (pos + 16 > buf.length) grow(16);
  switch (typeof v) {
    case "number":
      return writeNumber(v);
    case "string":
      return writeString(v);
    case "boolean":
      buf[pos++] = v ? 0xc3 : 0xc2;
      return;
    case "undefined":
      buf[pos++] = 0xd4;
      buf[pos++] = 0;
      buf[pos++] = 0;
      return;
    case "bigint":
      if (v >= INT64_MIN && v < INT64_END) {
        buf[pos++] = 0xd3;
        view.setBigInt64(pos, v);
      } else if (v > 0n && v < UINT64_END) {
        buf[pos++] = 0xcf;
        view.setBigUint64(pos, v);
      } else throw REFUSED;
      pos += 8;
      return;
    case "object":
      if (v === null) {
        buf[pos++] = 0xc0;
        return;
      }
      return writeObject(v, depth);
    default:
      throw REFUSED; // function, symbol
  }
}

function writeNumber(v: number): void {
  if (v >>> 0 === v) {
    if (v < 0x80) {
      buf[pos++] = v;
    } else if (v < 0x100) {
      buf[pos++] = 0xcc;
      buf[pos++] = v;
    } else if (v < 0x10000) {
      buf[pos++] = 0xcd;
      buf[pos++] = v >> 8;
      buf[pos++] = v & 0xff;
    } else {
      buf[pos++] = 0xce;
      view.setUint32(pos, v);
      pos += 4;
    }
  } else if (v >> 0 === v) {
    if (v >= -0x20) {
      buf[pos++] = 0x100 + v;
    } else if (v >= -0x80) {
      buf[pos++] = 0xd0;
      buf[pos++] = v + 0x100;
    } else if (v >= -0x8000) {
      buf[pos++] = 0xd1;
      view.setInt16(pos, v);
      pos += 2;
    } else {
      buf[pos++] = 0xd2;
      view.setInt32(pos, v);
      pos += 4;
    }
  } else {
    buf[pos++] = 0xcb;
    view.setFloat64(pos, v);
    pos += 8;
  }
}

function writeString(s: string): void {
  const n = s.length;
  let len: number;
  let head: number;
  if (n < 0x40) {
    if (pos + 2 + n * 3 > buf.length) grow(2 + n * 3);
    head = n < 0x20 ? 1 : 2;
    let p = pos + head;
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        buf[p++] = c;
      } else if (c < 0x800) {
        buf[p++] = c >> 6 | 0xc0;
        buf[p++] = c & 0x3f | 0x80;
      } else if (
        (c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00
      ) {
        c = 0x10000 + ((c & 0x3ff) << 10) + (s.charCodeAt(++i) & 0x3ff);
        buf[p++] = c >> 18 | 0xf0;
        buf[p++] = c >> 12 & 0x3f | 0x80;
        buf[p++] = c >> 6 & 0x3f | 0x80;
        buf[p++] = c & 0x3f | 0x80;
      } else {
        buf[p++] = c >> 12 | 0xe0;
        buf[p++] = c >> 6 & 0x3f | 0x80;
        buf[p++] = c & 0x3f | 0x80;
      }
    }
    len = p - pos - head;
  } else {
    if (pos + 5 + n * 3 > buf.length) grow(5 + n * 3);
    head = n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
    len = textEncoder.encodeInto(s, buf.subarray(pos + head)).written;
  }
  // The header was guessed from the char count; the byte count may need a
  // wider one (never a narrower one: bytes >= chars).
  if (len < 0x20) {
    buf[pos++] = 0xa0 | len;
  } else if (len < 0x100) {
    if (head < 2) buf.copyWithin(pos + 2, pos + 1, pos + 1 + len);
    buf[pos++] = 0xd9;
    buf[pos++] = len;
  } else if (len < 0x10000) {
    if (head < 3) buf.copyWithin(pos + 3, pos + head, pos + head + len);
    buf[pos++] = 0xda;
    buf[pos++] = len >> 8;
    buf[pos++] = len & 0xff;
  } else {
    if (head < 5) buf.copyWithin(pos + 5, pos + head, pos + head + len);
    buf[pos++] = 0xdb;
    view.setUint32(pos, len);
    pos += 4;
  }
  pos += len;
}

function writeArrayHeader(n: number): void {
  if (n < 0x10) {
    buf[pos++] = 0x90 | n;
  } else if (n < 0x10000) {
    buf[pos++] = 0xdc;
    buf[pos++] = n >> 8;
    buf[pos++] = n & 0xff;
  } else {
    buf[pos++] = 0xdd;
    view.setUint32(pos, n);
    pos += 4;
  }
}

function writeArray(a: ArrayLike<unknown>, depth: number): void {
  if (depth > MAX_DEPTH) throw REFUSED;
  const n = a.length;
  writeArrayHeader(n);
  for (let i = 0; i < n; i++) write(a[i], depth + 1);
}

function writeBin(b: Uint8Array): void {
  const n = b.byteLength;
  if (pos + 5 + n > buf.length) grow(5 + n);
  if (n < 0x100) {
    buf[pos++] = 0xc4;
    buf[pos++] = n;
  } else if (n < 0x10000) {
    buf[pos++] = 0xc5;
    buf[pos++] = n >> 8;
    buf[pos++] = n & 0xff;
  } else {
    buf[pos++] = 0xc6;
    view.setUint32(pos, n);
    pos += 4;
  }
  buf.set(b, pos);
  pos += n;
}

function writeDate(d: Date): void {
  const ms = d.getMilliseconds();
  const seconds = d.getTime() / 1000;
  if (ms === 0 && seconds >= 0 && seconds < 0x100000000) {
    buf[pos++] = 0xd6;
    buf[pos++] = 0xff;
    view.setUint32(pos, seconds);
    pos += 4;
  } else if (seconds > 0 && seconds < 0x100000000) {
    buf[pos++] = 0xd7;
    buf[pos++] = 0xff;
    view.setUint32(pos, ms * 4000000);
    view.setUint32(pos + 4, seconds);
    pos += 8;
  } else if (Number.isNaN(seconds)) {
    buf[pos++] = 0xd4;
    buf[pos++] = 0xff;
    buf[pos++] = 0xff;
  } else {
    buf[pos++] = 0xc7;
    buf[pos++] = 12;
    buf[pos++] = 0xff;
    view.setUint32(pos, ms * 1000000);
    view.setBigInt64(pos + 4, BigInt(Math.floor(seconds)));
    pos += 12;
  }
}

function writeObject(o: object, depth: number): void {
  const c = o.constructor;
  if (c === Object) return writeMapObject(o, depth);
  if (Array.isArray(o)) return writeArray(o, depth);
  if (c === Map && o instanceof Map) {
    if (depth > MAX_DEPTH) throw REFUSED;
    const n = o.size;
    if (n < 0x10) {
      buf[pos++] = 0x80 | n;
    } else if (n < 0x10000) {
      buf[pos++] = 0xde;
      buf[pos++] = n >> 8;
      buf[pos++] = n & 0xff;
    } else {
      buf[pos++] = 0xdf;
      view.setUint32(pos, n);
      pos += 4;
    }
    for (const [k, x] of o) {
      write(k, depth + 1);
      write(x, depth + 1);
    }
    return;
  }
  if (o instanceof Date) return writeDate(o);
  if (o instanceof Set) return writeArray(Array.from(o), depth);
  if (o instanceof Error) {
    return writeArray([o.name, o.message, o.cause], depth);
  }
  if (o instanceof RegExp) return writeArray([o.source, o.flags], depth);
  if (o instanceof ArrayBuffer) return writeBin(new Uint8Array(o));
  if (ArrayBuffer.isView(o)) {
    return writeBin(
      o instanceof Uint8Array
        ? o
        : new Uint8Array(o.buffer, o.byteOffset, o.byteLength),
    );
  }
  const toJSON = (o as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") {
    const json = toJSON.call(o);
    if (json !== o) return write(json, depth + 1);
  }
  writeMapObject(o, depth);
}

/** A map16 of the own enumerable keys (map32 past 65535 keys). */
function writeMapObject(o: object, depth: number): void {
  if (depth > MAX_DEPTH) throw REFUSED;
  buf[pos++] = 0xde;
  const at = pos - start;
  pos += 2;
  let size = 0;
  const r = o as Record<string, unknown>;
  // As msgpackr: the object's own hasOwnProperty decides, when it has one.
  const has = r.hasOwnProperty;
  const all = typeof has !== "function";
  for (const k in r) {
    if (all || has.call(r, k)) {
      writeString(k);
      write(r[k], depth + 1);
      size++;
    }
  }
  const a = at + start;
  if (size < 0x10000) {
    buf[a] = size >> 8;
    buf[a + 1] = size & 0xff;
  } else {
    if (pos + 2 > buf.length) grow(2);
    const b = at + start;
    buf.copyWithin(b + 4, b + 2, pos);
    buf[b - 1] = 0xdf;
    view.setUint32(b, size);
    pos += 2;
  }
}

// ---------------------------------------------------------------------------
// Decoder.

const EMPTY = new Uint8Array(0);
const textDecoder = new TextDecoder();
const scratch = new DataView(new ArrayBuffer(8));
const scratchBytes = new Uint8Array(scratch.buffer);
const fromCharCode = String.fromCharCode;

let src: Uint8Array = EMPTY;
let p = 0;
let end = 0;

function invalid(why: string): SyntaxError {
  return new SyntaxError(
    `Cannot decode the message as it is not one valid msgpack value: ${why}`,
  );
}

function truncated(): SyntaxError {
  return invalid(`it ends inside a value (${end} bytes)`);
}

/** Decodes exactly one value from `bytes`; throws SyntaxError otherwise. */
export function decodeValue(bytes: Uint8Array): unknown {
  src = bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  p = 0;
  end = bytes.length;
  try {
    const value = read(0);
    if (p !== end) {
      throw invalid(`${end - p} trailing bytes follow the value`);
    }
    return value;
  } finally {
    src = EMPTY;
  }
}

function need(n: number): void {
  if (p + n > end) throw truncated();
}

function u16(): number {
  need(2);
  const v = src[p] << 8 | src[p + 1];
  p += 2;
  return v;
}

function u32(): number {
  need(4);
  const v = src[p] * 0x1000000 +
    (src[p + 1] << 16 | src[p + 2] << 8 | src[p + 3]);
  p += 4;
  return v;
}

/** Copies n bytes into the scratch view (for floats and 64-bit ints). */
function toScratch(n: number): DataView {
  need(n);
  for (let i = 0; i < n; i++) scratchBytes[i] = src[p + i];
  p += n;
  return scratch;
}

function read(depth: number): unknown {
  if (p >= end) throw truncated();
  const t = src[p++];
  if (t < 0x80) return t;
  if (t < 0x90) return readMap(t & 0x0f, depth);
  if (t < 0xa0) return readArray(t & 0x0f, depth);
  if (t < 0xc0) return readString(t & 0x1f);
  if (t >= 0xe0) return t - 0x100;
  switch (t) {
    case 0xc0:
      return null;
    case 0xc1:
      throw new SyntaxError(
        "Cannot decode the message as it contains the reserved byte 0xc1",
      );
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xc4:
      need(1);
      return readBin(src[p++]);
    case 0xc5:
      return readBin(u16());
    case 0xc6:
      return readBin(u32());
    case 0xc7:
      need(1);
      return readExt(src[p++]);
    case 0xc8:
      return readExt(u16());
    case 0xc9:
      return readExt(u32());
    case 0xca:
      return toScratch(4).getFloat32(0);
    case 0xcb:
      return toScratch(8).getFloat64(0);
    case 0xcc:
      need(1);
      return src[p++];
    case 0xcd:
      return u16();
    case 0xce:
      return u32();
    case 0xcf:
      return toScratch(8).getBigUint64(0);
    case 0xd0:
      need(1);
      return src[p++] << 24 >> 24;
    case 0xd1:
      return u16() << 16 >> 16;
    case 0xd2:
      return u32() | 0;
    case 0xd3:
      return toScratch(8).getBigInt64(0);
    case 0xd4:
      return readExt(1);
    case 0xd5:
      return readExt(2);
    case 0xd6:
      return readExt(4);
    case 0xd7:
      return readExt(8);
    case 0xd8:
      return readExt(16);
    case 0xd9:
      need(1);
      return readString(src[p++]);
    case 0xda:
      return readString(u16());
    case 0xdb:
      return readString(u32());
    case 0xdc:
      return readArray(u16(), depth);
    case 0xdd:
      return readArray(u32(), depth);
    case 0xde:
      return readMap(u16(), depth);
    default: // 0xdf
      return readMap(u32(), depth);
  }
}

function tooDeep(): SyntaxError {
  return new SyntaxError(
    `Cannot decode the message as it is nested deeper than ${MAX_DEPTH} levels`,
  );
}

function readArray(n: number, depth: number): unknown[] {
  if (depth > MAX_DEPTH) throw tooDeep();
  if (n > end - p) throw truncated(); // every element takes a byte
  const a = new Array(n);
  for (let i = 0; i < n; i++) a[i] = read(depth + 1);
  return a;
}

function readMap(n: number, depth: number): Record<string, unknown> {
  if (depth > MAX_DEPTH) throw tooDeep();
  if (n * 2 > end - p) throw truncated();
  const o: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    let k: string;
    const t = p < end ? src[p] : 0;
    if (t >= 0xa0 && t < 0xb0) {
      p++;
      k = readKey(t & 0x0f);
    } else if (t >= 0xb0 && t < 0xc0) {
      p++;
      k = readString(t & 0x1f);
    } else k = keyString(read(depth + 1));
    if (k === "__proto__") k = "__proto_";
    o[k] = read(depth + 1);
  }
  return o;
}

/** Recently read short keys: [bytes, string] by a hash of their start. */
const keyCache: ([Uint8Array, string] | undefined)[] = new Array(4096);

/** A map key under 16 bytes, from the cache when its bytes match. */
function readKey(n: number): string {
  need(n);
  const slot =
    ((n << 5) ^ (n > 1 ? src[p] << 8 | src[p + 1] : n > 0 ? src[p] : 0)) &
    0xfff;
  const entry = keyCache[slot];
  if (entry !== undefined) {
    const b = entry[0];
    if (b.length === n) {
      let i = 0;
      while (i < n && b[i] === src[p + i]) i++;
      if (i === n) {
        p += n;
        return entry[1];
      }
    }
  }
  const bytes = src.slice(p, p + n);
  const k = readString(n);
  keyCache[slot] = [bytes, k];
  return k;
}

/** A non-string map key as the property name it becomes. */
function keyString(k: unknown): string {
  switch (typeof k) {
    case "string":
      return k;
    case "number":
    case "boolean":
    case "bigint":
    case "undefined":
      return String(k);
  }
  if (k === null) return "null";
  throw invalid("a map key is not a string, number, boolean or null");
}

function readBin(n: number): Uint8Array {
  need(n);
  return src.slice(p, p += n);
}

function readString(n: number): string {
  need(n);
  if (n > 64) return textDecoder.decode(src.subarray(p, p += n));
  const stop = p + n;
  if (n <= 32) {
    let s = "";
    let i = p;
    for (; i < stop; i++) {
      const b = src[i];
      if (b >= 0x80) break;
      s += fromCharCode(b);
    }
    if (i === stop) {
      p = stop;
      return s;
    }
  }
  return readUtf8(stop);
}

/** Lenient UTF-8 (as msgpackr read short strings: a lone surrogate's bytes
 * come back as that surrogate). */
function readUtf8(stop: number): string {
  const units: number[] = [];
  const byte = () => (p < stop ? src[p++] & 0x3f : 0);
  while (p < stop) {
    const b1 = src[p++];
    if ((b1 & 0x80) === 0) {
      units.push(b1);
    } else if ((b1 & 0xe0) === 0xc0) {
      units.push((b1 & 0x1f) << 6 | byte());
    } else if ((b1 & 0xf0) === 0xe0) {
      const b2 = byte();
      units.push((b1 & 0x1f) << 12 | b2 << 6 | byte());
    } else if ((b1 & 0xf8) === 0xf0) {
      const b2 = byte();
      const b3 = byte();
      let u = (b1 & 0x07) << 18 | b2 << 12 | b3 << 6 | byte();
      if (u > 0xffff) {
        u -= 0x10000;
        units.push(u >>> 10 & 0x3ff | 0xd800);
        u = 0xdc00 | u & 0x3ff;
      }
      units.push(u);
    } else {
      units.push(b1);
    }
  }
  p = stop;
  return fromCharCode(...units);
}

function readExt(n: number): unknown {
  need(1 + n);
  const type = src[p++];
  const at = p;
  p += n;
  if (type === 0) return undefined;
  if (type !== 0xff) throw invalid(`unsupported extension type ${type}`);
  const d = src;
  if (n === 4) {
    return new Date(
      (d[at] * 0x1000000 + (d[at + 1] << 16 | d[at + 2] << 8 | d[at + 3])) *
        1000,
    );
  }
  if (n === 8) {
    const nanos = d[at] * 0x400000 +
      (d[at + 1] << 14 | d[at + 2] << 6 | d[at + 3] >> 2);
    const seconds = (d[at + 3] & 0x3) * 0x100000000 + d[at + 4] * 0x1000000 +
      (d[at + 5] << 16 | d[at + 6] << 8 | d[at + 7]);
    return new Date(nanos / 1000000 + seconds * 1000);
  }
  if (n === 12) {
    const nanos = d[at] * 0x1000000 +
      (d[at + 1] << 16 | d[at + 2] << 8 | d[at + 3]);
    for (let i = 0; i < 8; i++) scratchBytes[i] = d[at + 4 + i];
    const seconds = Number(scratch.getBigInt64(0));
    return new Date(nanos / 1000000 + seconds * 1000);
  }
  return new Date(NaN);
}
