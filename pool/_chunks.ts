// Chunking rules shared by map/starmap/imap.

/**
 * CPython's default chunksize for `map`: `ceil(len / (4 * processes))`,
 * at least 1.
 */
export function defaultChunksize(length: number, processes: number): number {
  if (length === 0) return 1;
  return Math.max(1, Math.ceil(length / (processes * 4)));
}

/** Checks a user-given chunksize (a positive integer) or picks the default. */
export function checkChunksize(
  chunksize: number | undefined,
): number | undefined {
  if (chunksize === undefined) return undefined;
  if (
    typeof chunksize !== "number" || !Number.isInteger(chunksize) ||
    chunksize < 1
  ) {
    throw new RangeError(
      `Cannot use chunksize ${
        String(chunksize)
      }: it must be a positive integer`,
    );
  }
  return chunksize;
}

/**
 * How many input items `imap`/`imapUnordered` read ahead of the consumer:
 * `max(8 × processes × chunksize, 8192)`.
 */
export function readAhead(processes: number, chunksize: number): number {
  return Math.max(8 * processes * chunksize, 8192);
}
