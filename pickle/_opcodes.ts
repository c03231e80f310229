// Pickle opcodes (CPython Lib/pickle.py), as byte values, and the names
// used in error messages.

export const MARK = 0x28; // (
export const STOP = 0x2e; // .
export const POP = 0x30; // 0
export const POP_MARK = 0x31; // 1
export const DUP = 0x32; // 2
export const BINBYTES = 0x42; // B
export const SHORT_BINBYTES = 0x43; // C
export const BINFLOAT = 0x47; // G
export const BININT = 0x4a; // J
export const BININT1 = 0x4b; // K
export const BININT2 = 0x4d; // M
export const NONE = 0x4e; // N
export const REDUCE = 0x52; // R
export const BINUNICODE = 0x58; // X
export const EMPTY_LIST = 0x5d; // ]
export const APPEND = 0x61; // a
export const BUILD = 0x62; // b
export const GLOBAL = 0x63; // c
export const APPENDS = 0x65; // e
export const BINGET = 0x68; // h
export const LONG_BINGET = 0x6a; // j
export const BINPUT = 0x71; // q
export const LONG_BINPUT = 0x72; // r
export const SETITEM = 0x73; // s
export const TUPLE = 0x74; // t
export const SETITEMS = 0x75; // u
export const EMPTY_DICT = 0x7d; // }
export const EMPTY_TUPLE = 0x29; // )
export const PROTO = 0x80;
export const NEWOBJ = 0x81;
export const TUPLE1 = 0x85;
export const TUPLE2 = 0x86;
export const TUPLE3 = 0x87;
export const NEWTRUE = 0x88;
export const NEWFALSE = 0x89;
export const LONG1 = 0x8a;
export const LONG4 = 0x8b;
export const SHORT_BINUNICODE = 0x8c;
export const BINUNICODE8 = 0x8d;
export const BINBYTES8 = 0x8e;
export const EMPTY_SET = 0x8f;
export const ADDITEMS = 0x90;
export const FROZENSET = 0x91;
export const STACK_GLOBAL = 0x93;
export const MEMOIZE = 0x94;
export const FRAME = 0x95;
export const BYTEARRAY8 = 0x96;

/**
 * Opcodes that exist in some protocol but are refused by name: text opcodes
 * of protocols 0–1, calls by name, persistent ids, the extension registry,
 * out-of-band buffers and NEWOBJ_EX.
 */
export const REFUSED: ReadonlyMap<number, string> = new Map([
  [0x49, "INT"],
  [0x4c, "LONG"],
  [0x46, "FLOAT"],
  [0x53, "STRING"],
  [0x54, "BINSTRING"],
  [0x55, "SHORT_BINSTRING"],
  [0x56, "UNICODE"],
  [0x6c, "LIST"],
  [0x64, "DICT"],
  [0x67, "GET"],
  [0x70, "PUT"],
  [0x69, "INST"],
  [0x6f, "OBJ"],
  [0x50, "PERSID"],
  [0x51, "BINPERSID"],
  [0x82, "EXT1"],
  [0x83, "EXT2"],
  [0x84, "EXT4"],
  [0x92, "NEWOBJ_EX"],
  [0x97, "NEXT_BUFFER"],
  [0x98, "READONLY_BUFFER"],
]);
