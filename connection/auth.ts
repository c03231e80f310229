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

export {
  answerChallenge,
  deliverChallenge,
  type DeliverChallengeOptions,
} from "./_auth.ts";
