// CPython's mutual HMAC challenge, both dialects. See auth.ts for the public half.

import type { Connection } from "./connection.ts";
import { AuthenticationError } from "./errors.ts";
import { hmacSha256 } from "./_sha256.ts";
import { CHALLENGE, startsWith } from "./_bytes.ts";

const enc = new TextEncoder();
const WELCOME = enc.encode("#WELCOME#");
const FAILURE = enc.encode("#FAILURE#");
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

/** Loads node:crypto if the `{name}` (or legacy md5) form of `msg` needs it. */
async function loadCryptoFor(msg: Uint8Array): Promise<void> {
  if (nodeCrypto) return;
  let name: string;
  try {
    [name] = digestNameAndPayload(msg);
  } catch {
    return; // malformed: the caller's parse reports it
  }
  if (name !== "sha256") await loadCrypto();
}

function hmac(name: string, key: Uint8Array, message: Uint8Array): Uint8Array {
  if (name === "sha256") return hmacSha256(key, message);
  if (!nodeCrypto) {
    throw new Error("Cannot compute an HMAC before loadCrypto() resolved");
  }
  return new Uint8Array(
    nodeCrypto.createHmac(DIGESTS[name]!, key).update(message).digest(),
  );
}

/** Compares two equally long byte strings in time that does not depend on their contents. */
function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
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

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
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
    `Unsupported message length, missing digest prefix, or unsupported digest: message=${
      show(msg)
    }`,
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
      `Expected '${
        name || "md5"
      }' of length ${expected.length} got ${mac.length}`,
    );
  }
  if (!equal(expected, mac)) {
    throw new AuthenticationError(
      "Digest received was wrong: cannot authenticate as the peer has another authkey (pass the same authkey on both sides)",
    );
  }
}

/** Options of {@linkcode deliverChallenge}. */
export interface DeliverChallengeOptions {
  /**
   * Use the CPython 3.11 dialect (20 random bytes, HMAC-MD5) instead of
   * `{sha256}`. Only for talking to a peer older than 3.12 that cannot answer
   * the new form (every CPython answers both).
   *
   * @default {false}
   */
  legacy?: boolean;
}

/** A fresh `{sha256}` challenge body (or a 20-byte 3.11 one with `legacy`). */
function newMessage(legacy = false): Uint8Array {
  if (legacy) return crypto.getRandomValues(new Uint8Array(20));
  const message = new Uint8Array(SHA256_TAG.length + MESSAGE_LENGTH);
  message.set(SHA256_TAG);
  crypto.getRandomValues(message.subarray(SHA256_TAG.length));
  return message;
}

/** The `#CHALLENGE#` frame carrying `message`. */
function challengeFrame(message: Uint8Array): Uint8Array {
  const frame = new Uint8Array(CHALLENGE.length + message.length);
  frame.set(CHALLENGE);
  frame.set(message, CHALLENGE.length);
  return frame;
}

/** Checks the peer's answer to `message`; on a wrong one tells it `#FAILURE#`. */
async function checkAnswer(
  conn: Connection,
  key: Uint8Array,
  message: Uint8Array,
  response: Uint8Array,
): Promise<void> {
  await loadCryptoFor(response);
  try {
    verifyResponse(key, message, response);
  } catch (e) {
    await conn.sendBytes(FAILURE).catch(() => {});
    throw e;
  }
}

/** The reply to a `#CHALLENGE#` frame, in its dialect. */
async function answerFor(
  key: Uint8Array,
  challenge: Uint8Array,
): Promise<Uint8Array> {
  if (!startsWith(challenge, CHALLENGE)) {
    throw new AuthenticationError(
      `Protocol error, expected challenge: the peer sent ${
        show(challenge)
      } (does the server use an authkey?)`,
    );
  }
  const message = challenge.subarray(CHALLENGE.length);
  if (message.length < 20) {
    throw new AuthenticationError(
      `Challenge too short: ${message.length} bytes`,
    );
  }
  await loadCryptoFor(message);
  return createResponse(key, message);
}

/** Fails unless `verdict` is `#WELCOME#`. */
function checkWelcome(verdict: Uint8Array): void {
  if (!equal(verdict, WELCOME)) {
    throw new AuthenticationError(
      "Digest sent was rejected: cannot authenticate as the server has another authkey (pass the server's authkey)",
    );
  }
}

/**
 * Sends a challenge and checks the peer's answer (the serving half of the
 * handshake). Accepts `{md5}`, `{sha256}`, `{sha384}`, `{sha3_256}`,
 * `{sha3_384}` replies and the bare 16-byte HMAC-MD5 of CPython 3.11.
 *
 * @example Usage
 * ```ts
 * import { answerChallenge, deliverChallenge, Pipe } from "@mproc/multiprocessing/connection";
 *
 * const [a, b] = Pipe();
 * await Promise.all([deliverChallenge(a, "secret"), answerChallenge(b, "secret")]);
 * a.close();
 * b.close();
 * ```
 *
 * @param conn The connection.
 * @param authkey The shared secret.
 * @param options The dialect.
 * @returns A promise that resolves once the peer proved it has the key.
 * @throws {AuthenticationError} If the answer is wrong or malformed (the
 * peer is told `#FAILURE#`), or a handshake frame is longer than 256 bytes.
 */
export async function deliverChallenge(
  conn: Connection,
  authkey: Uint8Array | string,
  options: DeliverChallengeOptions = {},
): Promise<void> {
  const key = keyBytes(authkey);
  const message = newMessage(options.legacy);
  await conn.sendBytes(challengeFrame(message));
  await checkAnswer(conn, key, message, await recvHandshake(conn));
  await conn.sendBytes(WELCOME);
}

/**
 * Answers the peer's challenge (the connecting half of the handshake), in
 * whichever dialect the challenge uses.
 *
 * @example Usage
 * ```ts
 * import { answerChallenge, deliverChallenge, Pipe } from "@mproc/multiprocessing/connection";
 *
 * const [a, b] = Pipe();
 * await Promise.all([deliverChallenge(a, "secret"), answerChallenge(b, "secret")]);
 * a.close();
 * b.close();
 * ```
 *
 * @param conn The connection.
 * @param authkey The shared secret.
 * @returns A promise that resolves once the peer accepted the answer.
 * @throws {AuthenticationError} If the peer rejects the answer, sends no
 * challenge, or sends a malformed or oversized frame.
 */
export async function answerChallenge(
  conn: Connection,
  authkey: Uint8Array | string,
): Promise<void> {
  const key = keyBytes(authkey);
  const response = await answerFor(key, await recvHandshake(conn));
  await conn.sendBytes(response);
  checkWelcome(await recvHandshake(conn));
}

/** A handshake read: at most 256 bytes; any failure is an AuthenticationError. */
async function recvHandshake(conn: Connection): Promise<Uint8Array> {
  try {
    return await conn.recvBytes(HANDSHAKE_MAX);
  } catch (e) {
    if (e instanceof AuthenticationError) throw e;
    throw new AuthenticationError(
      `Authentication failed: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/**
 * The serving side of the whole mutual handshake (a Listener): challenge,
 * check the answer, `#WELCOME#`, then answer the peer's challenge. When the
 * peer's challenge is already here (this library's client sends it right
 * behind its answer), `#WELCOME#` and the answer go out in one write. No
 * deadline of its own: the caller closes `conn` to stop it. Any failure is an
 * AuthenticationError; the caller closes the connection.
 */
export async function serverHandshake(
  conn: Connection,
  key: Uint8Array,
): Promise<void> {
  try {
    const message = newMessage();
    conn.sendBytes(challengeFrame(message)).catch(() => {});
    await checkAnswer(conn, key, message, await recvHandshake(conn));
    let response: Uint8Array;
    if (conn.isReadable()) {
      response = await answerFor(key, await recvHandshake(conn));
      conn.sendBytes(WELCOME).catch(() => {});
    } else {
      // A CPython client sends its challenge only after #WELCOME#.
      conn.sendBytes(WELCOME).catch(() => {});
      response = await answerFor(key, await recvHandshake(conn));
    }
    await conn.sendBytes(response);
    checkWelcome(await recvHandshake(conn));
  } catch (e) {
    throw asAuthError(e);
  }
}

/**
 * The connecting side of the whole mutual handshake (a Client): answer the
 * server's challenge and send ours in the same write, then read `#WELCOME#`
 * and the server's answer, and welcome it. A CPython server reads our
 * challenge only after sending `#WELCOME#`, so this order is compatible with
 * it. `onChallenge` runs when the server's challenge arrives. No deadline of
 * its own: the caller closes `conn` to stop it.
 */
export async function clientHandshake(
  conn: Connection,
  key: Uint8Array,
  onChallenge: () => void,
): Promise<void> {
  try {
    const challenge = await recvHandshake(conn);
    onChallenge();
    const response = await answerFor(key, challenge);
    const message = newMessage();
    conn.sendBytes(response).catch(() => {});
    conn.sendBytes(challengeFrame(message)).catch(() => {});
    checkWelcome(await recvHandshake(conn));
    await checkAnswer(conn, key, message, await recvHandshake(conn));
    await conn.sendBytes(WELCOME);
  } catch (e) {
    throw asAuthError(e);
  }
}

function asAuthError(e: unknown): AuthenticationError {
  return e instanceof AuthenticationError ? e : new AuthenticationError(
    `Authentication failed: ${(e as Error).message}`,
    { cause: e },
  );
}
