// UTF-8 as CPython's pickle writes it: `surrogatepass`, i.e. WTF-8. A lone
// surrogate U+D800..U+DFFF is three bytes ED A0..BF 80..BF; everything else
// is strict UTF-8. A leading U+FEFF is kept (TextDecoder strips it unless
// `ignoreBOM`).

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * Decodes `b[start, start+len)`. Returns undefined when the bytes are not
 * WTF-8 (invalid UTF-8 other than encoded surrogates).
 */
export function decodeWtf8(
  b: Uint8Array,
  start: number,
  len: number,
): string | undefined {
  const end = start + len;
  if (len <= CACHED_LEN) {
    const s = cachedAscii(b, start, len);
    if (s !== undefined) return s;
  } else if (len <= 32) {
    // Short ASCII: faster than a TextDecoder call.
    let s = "";
    let i = start;
    for (; i + 8 <= end; i += 8) {
      const part = shortAscii(b, i, 8);
      if (part === undefined) break;
      s += part;
    }
    if (i + 8 > end) {
      const rest = shortAscii(b, i, end - i);
      if (rest !== undefined) return s + rest;
    }
  }
  try {
    return strict.decode(b.subarray(start, end));
  } catch {
    return slowDecode(b, start, end);
  }
}

/** Short ASCII strings (dict keys, method names) are kept and reused. */
const CACHED_LEN = 16;
const CACHE_SIZE = 4096;
const cacheStrings: (string | undefined)[] = new Array(CACHE_SIZE);
const cacheBytes = new Uint8Array(CACHE_SIZE * CACHED_LEN);
const cacheLens = new Uint8Array(CACHE_SIZE);

/** `len` (at most CACHED_LEN) ASCII bytes, from the cache when there. */
function cachedAscii(
  b: Uint8Array,
  p: number,
  len: number,
): string | undefined {
  let h = len;
  let or = 0;
  for (let i = 0; i < len; i++) {
    const c = b[p + i]!;
    or |= c;
    h = Math.imul(h ^ c, 0x9e3779b1);
  }
  if (or >= 0x80) return undefined;
  const slot = (h >>> 20) & (CACHE_SIZE - 1);
  const s = cacheStrings[slot];
  if (s !== undefined && cacheLens[slot] === len) {
    const base = slot * CACHED_LEN;
    let i = 0;
    while (i < len && cacheBytes[base + i] === b[p + i]) i++;
    if (i === len) return s;
  }
  let out: string;
  if (len <= 8) out = shortAscii(b, p, len)!;
  else out = shortAscii(b, p, 8)! + shortAscii(b, p + 8, len - 8)!;
  cacheStrings[slot] = out;
  cacheLens[slot] = len;
  cacheBytes.set(b.subarray(p, p + len), slot * CACHED_LEN);
  return out;
}

/** `len` (0–8) ASCII bytes as one string, or undefined if one is not ASCII. */
function shortAscii(
  b: Uint8Array,
  p: number,
  len: number,
): string | undefined {
  const f = String.fromCharCode;
  switch (len) {
    case 0:
      return "";
    case 1: {
      const a = b[p]!;
      return a < 0x80 ? f(a) : undefined;
    }
    case 2: {
      const a = b[p]!;
      const c = b[p + 1]!;
      return (a | c) < 0x80 ? f(a, c) : undefined;
    }
    case 3: {
      const a = b[p]!;
      const c = b[p + 1]!;
      const d = b[p + 2]!;
      return (a | c | d) < 0x80 ? f(a, c, d) : undefined;
    }
    case 4: {
      const a = b[p]!;
      const c = b[p + 1]!;
      const d = b[p + 2]!;
      const e = b[p + 3]!;
      return (a | c | d | e) < 0x80 ? f(a, c, d, e) : undefined;
    }
    default: {
      const a = b[p]!;
      const c = b[p + 1]!;
      const d = b[p + 2]!;
      const e = b[p + 3]!;
      const g = b[p + 4]!;
      const h = len > 5 ? b[p + 5]! : 0;
      const i = len > 6 ? b[p + 6]! : 0;
      const j = len > 7 ? b[p + 7]! : 0;
      if ((a | c | d | e | g | h | i | j) >= 0x80) return undefined;
      return len === 5
        ? f(a, c, d, e, g)
        : len === 6
        ? f(a, c, d, e, g, h)
        : len === 7
        ? f(a, c, d, e, g, h, i)
        : f(a, c, d, e, g, h, i, j);
    }
  }
}

/** Strict UTF-8 decoding that also accepts encoded surrogates. */
function slowDecode(
  b: Uint8Array,
  start: number,
  end: number,
): string | undefined {
  const units: number[] = [];
  let out = "";
  let i = start;
  while (i < end) {
    const c = b[i]!;
    let cp: number;
    if (c < 0x80) {
      cp = c;
      i += 1;
    } else if (c >= 0xc2 && c < 0xe0) {
      if (i + 1 >= end) return undefined;
      const c1 = b[i + 1]!;
      if ((c1 & 0xc0) !== 0x80) return undefined;
      cp = ((c & 0x1f) << 6) | (c1 & 0x3f);
      i += 2;
    } else if (c >= 0xe0 && c < 0xf0) {
      if (i + 2 >= end) return undefined;
      const c1 = b[i + 1]!;
      const c2 = b[i + 2]!;
      if ((c1 & 0xc0) !== 0x80 || (c2 & 0xc0) !== 0x80) return undefined;
      cp = ((c & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f);
      if (cp < 0x800) return undefined; // overlong
      i += 3;
    } else if (c >= 0xf0 && c < 0xf5) {
      if (i + 3 >= end) return undefined;
      const c1 = b[i + 1]!;
      const c2 = b[i + 2]!;
      const c3 = b[i + 3]!;
      if (
        (c1 & 0xc0) !== 0x80 || (c2 & 0xc0) !== 0x80 || (c3 & 0xc0) !== 0x80
      ) return undefined;
      cp = ((c & 0x07) << 18) | ((c1 & 0x3f) << 12) | ((c2 & 0x3f) << 6) |
        (c3 & 0x3f);
      if (cp < 0x10000 || cp > 0x10ffff) return undefined;
      i += 4;
    } else {
      return undefined;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push(0xd800 | (cp >> 10), 0xdc00 | (cp & 0x3ff));
    } else {
      units.push(cp);
    }
    if (units.length >= 4096) {
      out += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  return out + String.fromCharCode(...units);
}

/** The most bytes `s` can take in WTF-8. */
export function maxWtf8Length(s: string): number {
  return s.length * 3;
}

/**
 * Writes `s` as WTF-8 into `out` at `pos` (room for `maxWtf8Length(s)`
 * bytes is the caller's job); returns the number of bytes written.
 */
export function encodeWtf8Into(
  s: string,
  out: Uint8Array,
  pos: number,
): number {
  const n = s.length;
  let i = 0;
  // ASCII prefix by hand (most strings end here).
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) break;
    out[pos + i] = c;
  }
  if (i === n) return n;
  if (s.isWellFormed()) {
    const r = encoder.encodeInto(s.slice(i), out.subarray(pos + i));
    return i + r.written;
  }
  let p = pos + i;
  for (; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[p++] = c;
    } else if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6);
      out[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          out[p++] = 0xf0 | (c >> 18);
          out[p++] = 0x80 | ((c >> 12) & 0x3f);
          out[p++] = 0x80 | ((c >> 6) & 0x3f);
          out[p++] = 0x80 | (c & 0x3f);
          continue;
        }
      }
      // BMP character or a lone surrogate (surrogatepass).
      out[p++] = 0xe0 | (c >> 12);
      out[p++] = 0x80 | ((c >> 6) & 0x3f);
      out[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p - pos;
}
