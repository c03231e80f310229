// CPython's mutual HMAC challenge, both dialects: its messages, digests and
// checks. auth.ts runs it over a Connection; _handshake.ts over a raw stream.

import { AuthenticationError } from "./errors.ts";
import { hmacSha256 } from "./_sha256.ts";
import { CHALLENGE, equalBytes, startsWith } from "./_bytes.ts";

const enc = new TextEncoder();
export const WELCOME: Uint8Array = enc.encode("#WELCOME#");
export const FAILURE: Uint8Array = enc.encode("#FAILURE#");
const SHA256_TAG = enc.encode("{sha256}");
/** Random bytes in a 3.12+ challenge. */
const MESSAGE_LENGTH = 40;
/** Every handshake read is capped at this many bytes (CPython's `recv_bytes(256)`). */
export const HANDSHAKE_MAX = 256;
/** Python digest name → node:crypto algorithm. */
const DIGESTS: Record<string, string> = {
  md5: "md5",
  sha256: "sha256",
  sha384: "sha384",
  "sha3_256": "sha3-256",
  "sha3_384": "sha3-384",
};

/** Turns a key given as a string into its UTF-8 bytes. */
export function keyBytes(authkey: Uint8Array | string): Uint8Array {
  if (typeof authkey === "string") return enc.encode(authkey);
  if (authkey instanceof Uint8Array) return authkey;
  throw new TypeError(
    "Cannot authenticate as 'authkey' must be a Uint8Array or a string",
  );
}

/** node:crypto, loaded on first use: it costs ~15 ms in a fresh Worker. */
let nodeCrypto: typeof import("node:crypto") | undefined;

/** Loads node:crypto for the digests other than sha256 (md5 of CPython 3.11, sha384, sha3). */
export async function loadCrypto(): Promise<void> {
  nodeCrypto ??= await import("node:crypto");
}

/** Whether the `{name}` (or legacy md5) form of `msg` needs node:crypto and it is not loaded yet. */
export function needsCrypto(msg: Uint8Array): boolean {
  if (nodeCrypto) return false;
  try {
    return digestNameAndPayload(msg)[0] !== "sha256";
  } catch {
    return false; // malformed: the caller's parse reports it
  }
}

/** Loads node:crypto if the `{name}` (or legacy md5) form of `msg` needs it. */
export async function loadCryptoFor(msg: Uint8Array): Promise<void> {
  if (needsCrypto(msg)) await loadCrypto();
}

function hmac(name: string, key: Uint8Array, message: Uint8Array): Uint8Array {
  if (name === "sha256") return hmacSha256(key, message);
  if (!nodeCrypto) {
    throw new Error(
      "Cannot compute the HMAC as node:crypto is not loaded: await loadCrypto() first",
    );
  }
  return new Uint8Array(
    nodeCrypto.createHmac(DIGESTS[name]!, key).update(message).digest(),
  );
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function show(b: Uint8Array): string {
  const s = Array.from(
    b.subarray(0, 32),
    (x) => x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : ".",
  ).join("");
  return b.length > 32 ? `${s}...` : s;
}

/**
 * Splits a `{name}payload` message (CPython `_get_digest_name_and_payload`):
 * 20- and 16-byte messages are the legacy md5 form (name `""`).
 */
function digestNameAndPayload(msg: Uint8Array): [string, Uint8Array] {
  if (msg.length === 20 || msg.length === 16) return ["", msg];
  if (startsWith(msg, SHA256_TAG)) {
    return ["sha256", msg.subarray(SHA256_TAG.length)];
  }
  if (msg[0] === 0x7b) {
    const close = msg.subarray(1, 10).indexOf(0x7d);
    if (close > 0) {
      const name = new TextDecoder().decode(msg.subarray(1, close + 1));
      if (Object.hasOwn(DIGESTS, name)) return [name, msg.subarray(close + 2)];
    }
  }
  throw new AuthenticationError(
    `Cannot authenticate as the message has an unsupported length, no digest prefix or an unsupported digest (message=${
      show(msg)
    }): the peer must speak CPython's dialect ({sha256}, {md5}, ... or a bare 16-byte HMAC-MD5)`,
  );
}

/** The reply to a challenge body (CPython 3.12 `_create_response`). */
export function createResponse(
  authkey: Uint8Array,
  message: Uint8Array,
): Uint8Array {
  const [name] = digestNameAndPayload(message);
  if (!name) return hmac("md5", authkey, message);
  const tag = name === "sha256" ? SHA256_TAG : enc.encode(`{${name}}`);
  return concat(tag, hmac(name, authkey, message));
}

/** Checks a reply against the challenge body (CPython 3.12 `_verify_challenge`). */
export function verifyResponse(
  authkey: Uint8Array,
  message: Uint8Array,
  response: Uint8Array,
): void {
  const [name, mac] = digestNameAndPayload(response);
  const expected = hmac(name || "md5", authkey, message);
  if (expected.length !== mac.length) {
    throw new AuthenticationError(
      `Cannot authenticate the peer as its '${
        name || "md5"
      }' digest has the wrong size: expected length ${expected.length} got ${mac.length}`,
    );
  }
  if (!equalBytes(expected, mac)) {
    throw new AuthenticationError(
      "Cannot authenticate the peer as the digest received was wrong: both sides must use the same authkey",
    );
  }
}

/** A fresh `{sha256}` challenge body (or a 20-byte 3.11 one with `legacy`). */
export function newMessage(legacy = false): Uint8Array {
  if (legacy) return crypto.getRandomValues(new Uint8Array(20));
  const message = new Uint8Array(SHA256_TAG.length + MESSAGE_LENGTH);
  message.set(SHA256_TAG);
  crypto.getRandomValues(message.subarray(SHA256_TAG.length));
  return message;
}

/** The length of a `{sha256}` challenge message: tag, then random bytes. */
export const CHALLENGE_LENGTH: number = CHALLENGE.length + SHA256_TAG.length +
  MESSAGE_LENGTH;

/**
 * Writes a fresh `#CHALLENGE#{sha256}<40 random>` message into `out` at
 * `at` ({@linkcode CHALLENGE_LENGTH} bytes); returns its body (a view: the
 * part the peer's answer is checked against).
 */
export function putChallenge(out: Uint8Array, at: number): Uint8Array {
  out.set(CHALLENGE, at);
  const body = out.subarray(at + CHALLENGE.length, at + CHALLENGE_LENGTH);
  body.set(SHA256_TAG);
  crypto.getRandomValues(body.subarray(SHA256_TAG.length));
  return body;
}

/**
 * Writes the reply to a challenge body (as {@linkcode createResponse}) into
 * `out` at `at`; returns its length (at most 64 bytes).
 */
export function putResponse(
  authkey: Uint8Array,
  message: Uint8Array,
  out: Uint8Array,
  at: number,
): number {
  if (startsWith(message, SHA256_TAG)) {
    out.set(SHA256_TAG, at);
    out.set(hmacSha256(authkey, message), at + SHA256_TAG.length);
    return SHA256_TAG.length + 32;
  }
  const r = createResponse(authkey, message);
  out.set(r, at);
  return r.length;
}

/** The `#CHALLENGE#` message carrying `message`. */
export function challengeFrame(message: Uint8Array): Uint8Array {
  const frame = new Uint8Array(CHALLENGE.length + message.length);
  frame.set(CHALLENGE);
  frame.set(message, CHALLENGE.length);
  return frame;
}

/** The body of a `#CHALLENGE#` frame; fails on a malformed one. */
export function challengeBody(challenge: Uint8Array): Uint8Array {
  if (!startsWith(challenge, CHALLENGE)) {
    throw new AuthenticationError(
      `Cannot authenticate as the peer sent ${
        show(challenge)
      } where a challenge was expected: does the server use an authkey? Pass the same 'authkey' to both sides, or none`,
    );
  }
  const message = challenge.subarray(CHALLENGE.length);
  if (message.length < 20) {
    throw new AuthenticationError(
      `Cannot authenticate as the challenge is too short: ${message.length} bytes, at least 20 expected`,
    );
  }
  return message;
}

/** Fails unless `verdict` is `#WELCOME#`. */
export function checkWelcome(verdict: Uint8Array): void {
  if (!equalBytes(verdict, WELCOME)) {
    throw new AuthenticationError(
      "Cannot authenticate as the peer rejected our digest (digest sent was rejected): both sides must use the same authkey",
    );
  }
}

/** Any failure of a handshake as an AuthenticationError. */
export function asAuthError(e: unknown): AuthenticationError {
  return e instanceof AuthenticationError ? e : new AuthenticationError(
    `Cannot authenticate as the handshake failed: ${(e as Error).message}`,
    { cause: e },
  );
}
