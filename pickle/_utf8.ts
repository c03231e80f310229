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
  if (len <= 32) {
    // Short ASCII: faster than a TextDecoder call.
    let s = "";
    let i = start;
    for (; i < end; i++) {
      const c = b[i]!;
      if (c >= 0x80) break;
      s += String.fromCharCode(c);
    }
    if (i === end) return s;
  }
  try {
    return strict.decode(b.subarray(start, end));
  } catch {
    return slowDecode(b, start, end);
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
