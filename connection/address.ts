/**
 * Addresses accepted by {@linkcode Listener} and {@linkcode Client}, and how
 * they are read.
 *
 * ```ts
 * import { parseAddress } from "@mproc/multiprocessing/connection";
 *
 * console.assert(parseAddress("tcp://127.0.0.1:6000").family === "AF_INET");
 * ```
 *
 * @module
 */

/**
 * Where a listener listens or a client connects:
 * - `"tcp://127.0.0.1:6000"`, `"127.0.0.1:6000"`, `"[::1]:6000"`, `"localhost:6000"`;
 * - `"unix:///tmp/a.sock"`, `"/tmp/a.sock"` (a path: starts with `/` or `.`);
 * - `["127.0.0.1", 6000]` (CPython's tuple);
 * - `{ hostname: "127.0.0.1", port: 6000 }` (like `Deno.NetAddr`);
 * - `{ path: "/tmp/a.sock" }` (like `Deno.UnixAddr`).
 *
 * @example Usage
 * ```ts
 * import { type Address, parseAddress } from "@mproc/multiprocessing/connection";
 *
 * const forms: Address[] = ["127.0.0.1:6000", ["127.0.0.1", 6000], { hostname: "127.0.0.1", port: 6000 }];
 * console.assert(forms.every((a) => parseAddress(a).family === "AF_INET"));
 * ```
 */
export type Address =
  | string
  | [hostname: string, port: number]
  | { hostname: string; port: number }
  | { path: string };

/**
 * Address families, named as in CPython.
 *
 * @example Usage
 * ```ts
 * import { type Family, parseAddress } from "@mproc/multiprocessing/connection";
 *
 * const family: Family = parseAddress("/tmp/a.sock").family;
 * console.assert(family === "AF_UNIX");
 * ```
 */
export type Family = "AF_INET" | "AF_INET6" | "AF_UNIX";

/**
 * An address in its normal form.
 *
 * @example Usage
 * ```ts
 * import { type ParsedAddress, parseAddress } from "@mproc/multiprocessing/connection";
 *
 * const a: ParsedAddress = parseAddress("tcp://[::1]:6000");
 * console.assert(a.family === "AF_INET6" && a.hostname === "::1" && a.port === 6000);
 * ```
 */
export type ParsedAddress =
  | { family: "AF_INET" | "AF_INET6"; hostname: string; port: number }
  | { family: "AF_UNIX"; path: string };

function checkPort(port: number, address: unknown): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `Cannot use the address as its port must be an integer from 0 to 65535: current value is ${
        JSON.stringify(address)
      }`,
    );
  }
  return port;
}

function inet(hostname: string, port: number, address: unknown): ParsedAddress {
  const host = hostname.startsWith("[") && hostname.endsWith("]")
    ? hostname.slice(1, -1)
    : hostname;
  return {
    family: host.includes(":") ? "AF_INET6" : "AF_INET",
    hostname: host,
    port: checkPort(port, address),
  };
}

/**
 * Reads any {@linkcode Address} form into its normal form.
 *
 * @example Usage
 * ```ts
 * import { parseAddress } from "@mproc/multiprocessing/connection";
 *
 * const a = parseAddress("[::1]:6000");
 * console.assert(a.family === "AF_INET6" && a.hostname === "::1" && a.port === 6000);
 * console.assert(parseAddress("/tmp/a.sock").family === "AF_UNIX");
 * ```
 *
 * @param address The address.
 * @returns The family and the host and port, or the path.
 * @throws {TypeError} If the address has none of the accepted forms.
 * @throws {RangeError} If the port is out of range.
 */
export function parseAddress(address: Address): ParsedAddress {
  if (typeof address === "string") {
    if (address.startsWith("unix://")) {
      return { family: "AF_UNIX", path: address.slice(7) };
    }
    if (
      address.startsWith("/") || address.startsWith(".") ||
      address.startsWith("\0")
    ) {
      return { family: "AF_UNIX", path: address };
    }
    const rest = address.startsWith("tcp://") ? address.slice(6) : address;
    const m = /^(\[[^\]]+\]|[^:/\s]+):(\d+)$/.exec(rest);
    if (!m) {
      throw new TypeError(
        `Cannot parse the address as it is neither 'host:port' nor a socket path: current value is '${address}'`,
      );
    }
    return inet(m[1]!, Number(m[2]), address);
  }
  if (Array.isArray(address)) {
    const [hostname, port] = address;
    if (
      address.length !== 2 || typeof hostname !== "string" ||
      typeof port !== "number"
    ) {
      throw new TypeError(
        `Cannot use the address as a tuple must be [hostname, port]: current value is ${
          JSON.stringify(address)
        }`,
      );
    }
    return inet(hostname, port, address);
  }
  if (address && typeof address === "object") {
    if ("path" in address && typeof address.path === "string") {
      return { family: "AF_UNIX", path: address.path };
    }
    if (
      "hostname" in address && typeof address.hostname === "string" &&
      typeof address.port === "number"
    ) {
      return inet(address.hostname, address.port, address);
    }
  }
  throw new TypeError(
    `Cannot use the address as its form is not recognized: current value is ${
      JSON.stringify(address)
    }`,
  );
}

/**
 * Writes an address as a string that {@linkcode parseAddress} reads back:
 * `tcp://host:port` or `unix://path`.
 *
 * @example Usage
 * ```ts
 * import { formatAddress } from "@mproc/multiprocessing/connection";
 *
 * console.assert(formatAddress({ hostname: "::1", port: 80 }) === "tcp://[::1]:80");
 * ```
 *
 * @param address The address.
 * @returns The string form.
 */
export function formatAddress(address: Address): string {
  const a = parseAddress(address);
  if (a.family === "AF_UNIX") return `unix://${a.path}`;
  return a.family === "AF_INET6"
    ? `tcp://[${a.hostname}]:${a.port}`
    : `tcp://${a.hostname}:${a.port}`;
}

/**
 * True for loopback host names and addresses.
 *
 * @internal Used by {@linkcode Listener}; not exported from the module.
 */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" ||
    /^127\.\d+\.\d+\.\d+$/.test(hostname) ||
    hostname === "0:0:0:0:0:0:0:1";
}
