// The codec names what it cannot encode by its place in the whole message
// (`$[4][1] is a function`); users know their arguments and results. These
// rename a codec error's path to the user's names.

const CODEC = /^Cannot serialize the value as \$\[(\d+)\](.*)$/s;

/**
 * `e` with the path of message field `field` renamed to `name`, saying
 * `Cannot <what> as <name>...`; any other error as it is.
 */
export function renamePath(
  e: unknown,
  field: number,
  name: string,
  what: string,
): unknown {
  if (!(e instanceof TypeError)) return e;
  const m = CODEC.exec(e.message);
  if (!m || Number(m[1]) !== field) return e;
  return new TypeError(`Cannot ${what} as ${name}${m[2]}`, { cause: e });
}
