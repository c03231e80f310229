// Deno's permission errors name one flag at a time; a manager feature needs a
// set of them. These wrap a refusal in an error naming the whole set the
// feature needs (the original stays as `cause`).

import type { Address } from "../../connection/address.ts";
import { parseAddress } from "../../connection/address.ts";

const DENIED = /^Requires (\w+) access/;

type Feature = "start" | "connect" | "serve";

/** The flags a feature needs for `address`, and why. */
function needs(
  feature: Feature,
  address: Address | undefined,
): [flags: string, why: string] {
  const unix = address === undefined ||
    parseAddress(address).family === "AF_UNIX";
  if (feature === "start") {
    // The server Worker's module is read; a Unix socket is a file.
    return unix
      ? [
        "--allow-read --allow-write --allow-net",
        "its server Worker's module is read, and it serves on a Unix socket in a private temp dir; with a TCP `address` it needs --allow-read --allow-net only",
      ]
      : [
        "--allow-read --allow-net",
        "its server Worker's module is read, and it listens on TCP",
      ];
  }
  return unix
    ? [
      "--allow-read --allow-write --allow-net",
      "a Unix socket is reached through its path (read, write) and the network permission",
    ]
    : ["--allow-net", "TCP needs the network permission"];
}

/** True for Deno's refusal of a permission (also when it crossed a Worker as name + message). */
export function isDenied(e: unknown): e is Error {
  return e instanceof Error &&
    (e instanceof Deno.errors.NotCapable || e.name === "NotCapable" ||
      e instanceof Deno.errors.PermissionDenied) &&
    DENIED.test(e.message);
}

/**
 * `e` itself, or — for a permission refusal — a `NotCapable` error saying
 * what could not be done and every flag the feature needs.
 */
export function explainDenied(
  e: unknown,
  what: string,
  feature: Feature,
  address: Address | undefined,
): unknown {
  if (!isDenied(e)) return e;
  const kind = DENIED.exec(e.message)![1];
  const [flags, why] = needs(feature, address);
  return new Deno.errors.NotCapable(
    `Cannot ${what} as Deno denied ${kind} access: run with ${flags} (${why}). ${e.message}`,
    { cause: e },
  );
}
