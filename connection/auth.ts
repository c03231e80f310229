/**
 * CPython's mutual HMAC challenge, both dialects.
 *
 * ```
 *  serving side (deliverChallenge)            answering side (answerChallenge)
 *  #CHALLENGE#{sha256}<40 random>  ───────▶   reply {sha256}HMAC(key, "{sha256}<40 random>")
 *                                  ◀───────   (a 3.11 peer replies raw HMAC-MD5, 16 bytes)
 *  #WELCOME# or #FAILURE#          ───────▶
 * ```
 *
 * A Listener delivers then answers; a Client answers then delivers. Every
 * handshake read is capped at 256 bytes; digests are compared in constant
 * time. The 3.11 dialect (`#CHALLENGE#<20 random>`, raw HMAC-MD5 reply) is
 * answered as CPython 3.12 does, and a 3.11 peer's bare HMAC-MD5 reply is
 * accepted.
 *
 * @module
 */

import type { Connection } from "./connection.ts";
import {
  asAuthError,
  challengeBody,
  challengeFrame,
  checkWelcome,
  createResponse,
  FAILURE,
  HANDSHAKE_MAX,
  keyBytes,
  loadCryptoFor,
  newMessage,
  verifyResponse,
  WELCOME,
} from "./_auth.ts";

/**
 * Options of {@linkcode deliverChallenge}.
 *
 * @example Usage
 * ```ts
 * import { answerChallenge, deliverChallenge, type DeliverChallengeOptions, Pipe } from "@mproc/multiprocessing/connection";
 *
 * const options: DeliverChallengeOptions = { legacy: true };
 * const [a, b] = Pipe();
 * await Promise.all([deliverChallenge(a, "secret", options), answerChallenge(b, "secret")]);
 * a.close();
 * b.close();
 * ```
 */
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
  const message = challengeBody(challenge);
  await loadCryptoFor(message);
  return createResponse(key, message);
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
    throw asAuthError(e);
  }
}
