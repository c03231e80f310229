// The whole mutual handshake of a keyed Listener and a Client, run on the
// raw stream before its Connection exists: each message is read straight
// into one small buffer (two frames that arrived together are taken from one
// read), the frames written are built in the same buffer, and the HMACs are
// synchronous (connection/_sha256.ts). Between two of ours it takes four messages in
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
  asAuthError,
  CHALLENGE_LENGTH,
  challengeBody,
  checkWelcome,
  FAILURE,
  HANDSHAKE_MAX,
  loadCrypto,
  needsCrypto,
  putChallenge,
  putResponse,
  verifyResponse,
  WELCOME,
} from "./_auth.ts";
import { int32At, writeHeader } from "./_header.ts";

/** Room for two whole handshake frames (header and at most 256 bytes each). */
const ROOM = 2 * (4 + HANDSHAKE_MAX);
/** Room for the frames a side writes: a challenge, a reply, a #WELCOME#. */
const OUT = 2 * (4 + CHALLENGE_LENGTH) + 2 * (4 + 64) + 4 + WELCOME.length;
const EMPTY = new Uint8Array(0);

/** A frame of `payload`, for one write. */
function framed(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  writeHeader(out, 0, payload.length);
  out.set(payload, 4);
  return out;
}

const WELCOME_FRAME = framed(WELCOME);
const FAILURE_FRAME = framed(FAILURE);

/** Writes all of `bytes` (one write but for a short one). */
async function writeAll(stream: Stream, bytes: Uint8Array): Promise<void> {
  let off = await stream.write(bytes);
  while (off < bytes.length) off += await stream.write(bytes.subarray(off));
}

/**
 * One handshake's buffer: the frames read (capped at 256 bytes each), then
 * the frames written, built in place.
 */
class Frames {
  #stream: Stream;
  #mem = new Uint8Array(ROOM + OUT);
  #buf = this.#mem.subarray(0, ROOM);
  #start = 0;
  #end = 0;
  /** Where the next outgoing frame goes. */
  #out = ROOM;
  /** Where the outgoing frames not yet written begin. */
  #unsent = ROOM;

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

  /** Adds a fresh `{sha256}` challenge frame; returns its body. */
  putChallenge(): Uint8Array {
    writeHeader(this.#mem, this.#out, CHALLENGE_LENGTH);
    const body = putChallenge(this.#mem, this.#out + 4);
    this.#out += 4 + CHALLENGE_LENGTH;
    return body;
  }

  /** Adds the frame answering the `#CHALLENGE#` frame `challenge`. */
  async putAnswer(key: Uint8Array, challenge: Uint8Array): Promise<void> {
    const body = challengeBody(challenge);
    if (needsCrypto(body)) await loadCrypto();
    const n = putResponse(key, body, this.#mem, this.#out + 4);
    writeHeader(this.#mem, this.#out, n);
    this.#out += 4 + n;
  }

  /** Adds a `#WELCOME#` frame. */
  putWelcome(): void {
    this.#mem.set(WELCOME_FRAME, this.#out);
    this.#out += WELCOME_FRAME.length;
  }

  /** Writes the frames added since the last send, in one write. */
  send(): Promise<void> {
    const bytes = this.#mem.subarray(this.#unsent, this.#out);
    this.#unsent = this.#out;
    return writeAll(this.#stream, bytes);
  }

  /** Checks the answer to `message`; on a wrong one tells the peer `#FAILURE#`. */
  async check(
    key: Uint8Array,
    message: Uint8Array,
    response: Uint8Array,
  ): Promise<void> {
    if (needsCrypto(response)) await loadCrypto();
    try {
      verifyResponse(key, message, response);
    } catch (e) {
      await writeAll(this.#stream, FAILURE_FRAME).catch(() => {});
      throw e;
    }
  }

  /** The bytes read past the last frame (the peer's first messages). */
  rest(): Uint8Array {
    return this.#start === this.#end
      ? EMPTY
      : this.#buf.slice(this.#start, this.#end);
  }
}

/**
 * The serving side: challenge, check the answer, `#WELCOME#`, then answer
 * the peer's challenge. Resolves with the bytes read past the handshake.
 */
export async function serverHandshake(
  stream: Stream,
  key: Uint8Array,
): Promise<Uint8Array> {
  const f = new Frames(stream);
  try {
    const message = f.putChallenge();
    const sent = f.send();
    sent.catch(() => {});
    await f.check(key, message, await f.next());
    await sent;
    let challenge = f.take();
    f.putWelcome();
    if (challenge === undefined) {
      // A CPython client sends its challenge only after #WELCOME#.
      await f.send();
      challenge = await f.next();
    }
    await f.putAnswer(key, challenge);
    await f.send();
    checkWelcome(await f.next());
    return f.rest();
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
  const f = new Frames(stream);
  try {
    const challenge = await f.next();
    onChallenge();
    await f.putAnswer(key, challenge);
    const message = f.putChallenge();
    const sent = f.send();
    sent.catch(() => {});
    checkWelcome(await f.next());
    await f.check(key, message, await f.next());
    await sent;
    f.putWelcome();
    await f.send();
    return f.rest();
  } catch (e) {
    throw asAuthError(e);
  }
}
