// Byte-string helpers shared by the handshake and the connection.

/** The tag that opens every authentication challenge. */
export const CHALLENGE: Uint8Array = new TextEncoder().encode("#CHALLENGE#");

/** Whether `a` begins with `prefix`. */
export function startsWith(a: Uint8Array, prefix: Uint8Array): boolean {
  if (a.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (a[i] !== prefix[i]) return false;
  return true;
}

/**
 * Whether `a` and `b` hold the same bytes, in time that depends on their
 * lengths only (for MACs, secrets and handshake verdicts).
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
