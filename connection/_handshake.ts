// The whole mutual handshake of a keyed Listener and a Client, run on the
// raw stream before its Connection exists: each message is read straight
// into one small buffer (two frames that arrived together are taken from one
// read), the HMACs are synchronous (connection/_sha256.ts), and nothing else
// is allocated but the frames. Between two of ours it takes four messages in
// four writes (CPython's takes six): the client's challenge rides behind its
// answer, and the server's #WELCOME# and its answer share one write. A
// CPython server reads our challenge only after sending #WELCOME#, and a
// CPython client sends its challenge only after reading it, so both orders
// interoperate. Neither side has a deadline of its own: the caller closes
// the stream to stop it. Any failure is an AuthenticationError; the caller
// closes the stream.

import type { Stream } from "./_socket_channel.ts";
import { AuthenticationError } from "./errors.ts";
import {
  answerTo,
  asAuthError,
  challengeFrame,
  checkWelcome,
  FAILURE,
  HANDSHAKE_MAX,
  loadCrypto,
  needsCrypto,
  newMessage,
  verifyResponse,
  WELCOME,
} from "./_auth.ts";
import { CHALLENGE } from "./_bytes.ts";
import { int32At, writeHeader } from "./_header.ts";

/** Room for two whole handshake frames (header and at most 256 bytes each). */
const ROOM = 2 * (4 + HANDSHAKE_MAX);

/** Frames of `payloads`, back to back, for one write. */
function framed(...payloads: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of payloads) n += 4 + p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of payloads) {
    at += writeHeader(out, at, p.length);
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const WELCOME_FRAME = framed(WELCOME);
const FAILURE_FRAME = framed(FAILURE);

/** Writes all of `bytes` (one write but for a short one). */
async function writeAll(stream: Stream, bytes: Uint8Array): Promise<void> {
  let off = await stream.write(bytes);
  while (off < bytes.length) off += await stream.write(bytes.subarray(off));
}

/** Handshake frames read from a stream, capped at 256 bytes each. */
class Frames {
  #stream: Stream;
  #buf = new Uint8Array(ROOM);
  #start = 0;
  #end = 0;

  constructor(stream: Stream) {
    this.#stream = stream;
  }

  /**
   * The next frame if it is all here (a view, valid until the next
   * {@linkcode next}), else undefined. A header over the cap throws.
   */
  take(): Uint8Array | undefined {
    const at = this.#start;
    if (this.#end - at < 4) return undefined;
    const n = int32At(this.#buf, at);
    if (n < 0 || n > HANDSHAKE_MAX) {
      throw new AuthenticationError(
        `Cannot authenticate as the peer sent a handshake message of ${
          n < 0 ? "malformed length" : `${n} bytes`
        }: the limit is ${HANDSHAKE_MAX} bytes`,
      );
    }
    if (this.#end - at - 4 < n) return undefined;
    this.#start = at + 4 + n;
    return this.#buf.subarray(at + 4, at + 4 + n);
  }

  /** The next frame, read from the stream as needed. */
  async next(): Promise<Uint8Array> {
    for (;;) {
      const frame = this.take();
      if (frame !== undefined) return frame;
      if (this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      }
      const n = await this.#stream.read(this.#buf.subarray(this.#end));
      if (n === null) {
        throw new AuthenticationError(
          "Cannot authenticate as the peer closed the connection during the handshake",
        );
      }
      this.#end += n;
    }
  }

  /** The bytes read past the last frame (the peer's first messages). */
  rest(): Uint8Array {
    return this.#buf.slice(this.#start, this.#end);
  }
}

/** Checks the answer to `message`; on a wrong one tells the peer `#FAILURE#`. */
async function check(
  stream: Stream,
  key: Uint8Array,
  message: Uint8Array,
  response: Uint8Array,
): Promise<void> {
  if (needsCrypto(response)) await loadCrypto();
  try {
    verifyResponse(key, message, response);
  } catch (e) {
    await writeAll(stream, FAILURE_FRAME).catch(() => {});
    throw e;
  }
}

/** The reply to a `#CHALLENGE#` frame (loads node:crypto if its digest needs it). */
async function answer(
  key: Uint8Array,
  challenge: Uint8Array,
): Promise<Uint8Array> {
  if (needsCrypto(challenge.subarray(CHALLENGE.length))) await loadCrypto();
  return answerTo(key, challenge);
}

/**
 * The serving side: challenge, check the answer, `#WELCOME#`, then answer
 * the peer's challenge. Resolves with the bytes read past the handshake.
 */
export async function serverHandshake(
  stream: Stream,
  key: Uint8Array,
): Promise<Uint8Array> {
  const frames = new Frames(stream);
  try {
    const message = newMessage();
    const sent = writeAll(stream, framed(challengeFrame(message)));
    sent.catch(() => {});
    await check(stream, key, message, await frames.next());
    await sent;
    let challenge = frames.take();
    if (challenge === undefined) {
      // A CPython client sends its challenge only after #WELCOME#.
      await writeAll(stream, WELCOME_FRAME);
      challenge = await frames.next();
      await writeAll(stream, framed(await answer(key, challenge)));
    } else {
      await writeAll(stream, framed(WELCOME, await answer(key, challenge)));
    }
    checkWelcome(await frames.next());
    return frames.rest();
  } catch (e) {
    throw asAuthError(e);
  }
}

/**
 * The connecting side: answer the server's challenge and send ours in the
 * same write, then read `#WELCOME#` and the server's answer, and welcome
 * it. `onChallenge` runs when the server's challenge arrives. Resolves with
 * the bytes read past the handshake.
 */
export async function clientHandshake(
  stream: Stream,
  key: Uint8Array,
  onChallenge: () => void,
): Promise<Uint8Array> {
  const frames = new Frames(stream);
  try {
    const challenge = await frames.next();
    onChallenge();
    const message = newMessage();
    const sent = writeAll(
      stream,
      framed(await answer(key, challenge), challengeFrame(message)),
    );
    sent.catch(() => {});
    checkWelcome(await frames.next());
    await check(stream, key, message, await frames.next());
    await sent;
    await writeAll(stream, WELCOME_FRAME);
    return frames.rest();
  } catch (e) {
    throw asAuthError(e);
  }
}
