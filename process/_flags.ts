// The `deno run` flags of a child process (CPython's spawn passes the
// interpreter's own flags on: `spawn.get_command_line()`; we do the same with
// what Deno lets us see).
//
// - Permissions: for each kind, what the caller asked (`true`, a list,
//   `false`, or "inherit"), where "inherit" is what this process was granted:
//   the whole kind when `Deno.permissions.querySync({ name })` says so, else
//   the list this process was started with (`--allow-net=a,b`, read from
//   /proc/self/cmdline — Deno lets only an `-A` process read it, so otherwise
//   a one-off `deno eval` reads it), each entry re-checked with a query. A child never gets more than this process has:
//   asking for more is refused before anything starts.
// - The parent's `--deny-*`, `--unstable*`, `--config`/`--import-map`,
//   lock, node_modules and cache flags travel; without `--config`, the
//   deno.json(c) that Deno would discover from this working directory is
//   passed explicitly (a child may run in another `cwd`).
// - `memoryLimitMb` → `--v8-flags=--max-old-space-size=N`.
// - The bootstrap itself needs to reach the control socket: its path is added
//   to `--allow-read`/`--allow-write` and `unix:<path>` to `--allow-net` (a
//   Unix socket: Deno 2.9 checks all three), or `127.0.0.1:port` to
//   `--allow-net` (TCP).

/** Permission kinds of `deno run`. */
const KINDS = [
  "read",
  "write",
  "net",
  "env",
  "sys",
  "run",
  "ffi",
  "import",
] as const;
type Kind = typeof KINDS[number];

/** The descriptor field that narrows each kind. */
const FIELD: Record<Kind, string> = {
  read: "path",
  write: "path",
  net: "host",
  env: "variable",
  sys: "kind",
  run: "command",
  ffi: "path",
  import: "host",
};

/** What one kind grants: everything, or a list (possibly empty). */
interface Grant {
  all: boolean;
  list: string[];
}

/** Flags of the parent that the child gets as they are. */
const PASS_EXACT = new Set([
  "--unstable",
  "--no-lock",
  "--frozen",
  "--cached-only",
  "--no-remote",
  "--no-npm",
  "--no-config",
  "--node-modules-dir",
  "--vendor",
]);
/** Flags of the parent that take a value (`--x=v` or `--x v`) and travel. */
const PASS_VALUE = new Set([
  "--config",
  "-c",
  "--import-map",
  "--lock",
  "--node-modules-dir",
  "--vendor",
  "--conditions",
  "--cert",
  "--location",
  "--seed",
]);

function query(desc: Record<string, string>): boolean {
  try {
    return Deno.permissions.querySync(
      desc as unknown as Deno.PermissionDescriptor,
    )
      .state === "granted";
  } catch {
    return false;
  }
}

let cachedArgv: string[] | null | undefined;

function parseCmdline(text: string): string[] | null {
  const argv = text.split("\0");
  while (argv.length && argv[argv.length - 1] === "") argv.pop();
  const exe = (argv[0] ?? "").split("/").pop() ?? "";
  return exe.startsWith("deno") ? argv : null;
}

/**
 * This process's command line (Linux). Deno lets only an `-A` process read
 * /proc/self/cmdline; otherwise, when this process may run `Deno.execPath()`
 * (it must, to start a child), a one-off `deno eval` reads it (once, cached).
 */
export function parentArgv(): string[] | null {
  if (cachedArgv !== undefined) return cachedArgv;
  cachedArgv = null;
  if (Deno.build.os !== "linux") return null;
  try {
    cachedArgv = parseCmdline(Deno.readTextFileSync("/proc/self/cmdline"));
    return cachedArgv;
  } catch {
    // not -A: ask a helper process
  }
  try {
    if (!query({ name: "run", command: Deno.execPath() })) return null;
    const src =
      `Deno.stdout.writeSync(Deno.readFileSync("/proc/${Deno.pid}/cmdline"))`;
    const out = new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-config", "--quiet", src],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    if (out.success) {
      cachedArgv = parseCmdline(new TextDecoder().decode(out.stdout));
    }
  } catch {
    // lists of the parent stay unknown
  }
  return cachedArgv;
}

/** The flags of the parent before its script (or `--`), i.e. Deno's own. */
function parentFlags(): string[] {
  const argv = parentArgv();
  if (!argv) return [];
  const out: string[] = [];
  // argv[0] = deno, argv[1] = subcommand (run/test/…), then flags
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--" || !a.startsWith("-")) {
      // a flag value given separately was consumed below; anything else ends flags
      break;
    }
    out.push(a);
    const name = a.split("=")[0]!;
    if (!a.includes("=") && PASS_VALUE.has(name) && !PASS_EXACT.has(name)) {
      const v = argv[i + 1];
      if (v !== undefined) out.push(v), i++;
    }
  }
  return out;
}

function parentList(kind: Kind, flags: string[]): string[] {
  const list: string[] = [];
  const long = `--allow-${kind}=`;
  for (const f of flags) {
    if (f.startsWith(long)) list.push(...f.slice(long.length).split(","));
  }
  return list.filter((x) =>
    x !== "" && query({ name: kind, [FIELD[kind]]: x })
  );
}

function parentGrant(kind: Kind, flags: string[]): Grant {
  if (query({ name: kind })) return { all: true, list: [] };
  return { all: false, list: parentList(kind, flags) };
}

/** Thrown (as a rejection of start()) when a child would get more than this process has. */
function escalation(kind: Kind, what: string): Error {
  return new Deno.errors.NotCapable(
    `Cannot start the child with ${kind} permission for ${what} as this process was not granted it: ` +
      `grant it to this process (--allow-${kind}) or narrow permissions.${kind}`,
  );
}

function asString(x: unknown): string {
  return x instanceof URL
    ? (x.protocol === "file:" ? x.pathname : x.href)
    : String(x);
}

/**
 * The grants of the child for `permissions` (a `Deno.PermissionOptions`,
 * kinds left out inherit). Throws when it asks for more than this process has.
 */
function grants(
  permissions: Deno.PermissionOptions | undefined,
  flags: string[],
): Record<Kind, Grant> {
  const out = {} as Record<Kind, Grant>;
  for (const kind of KINDS) {
    let want: unknown = "inherit";
    if (permissions === "none") want = false;
    else if (permissions && typeof permissions === "object") {
      want = (permissions as Record<string, unknown>)[kind] ?? "inherit";
    }
    if (want === "inherit") out[kind] = parentGrant(kind, flags);
    else if (want === true) {
      if (!query({ name: kind })) throw escalation(kind, "everything");
      out[kind] = { all: true, list: [] };
    } else if (want === false) out[kind] = { all: false, list: [] };
    else if (Array.isArray(want)) {
      const list = want.map(asString);
      for (const x of list) {
        if (!query({ name: kind, [FIELD[kind]]: x })) throw escalation(kind, x);
      }
      out[kind] = { all: false, list };
    } else {
      throw new TypeError(
        `Cannot use permissions.${kind} as it must be "inherit", a boolean or a list: current value is ${
          String(want)
        }`,
      );
    }
  }
  return out;
}

function exists(path: string): boolean {
  if (!query({ name: "read", path })) return false;
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * The deno.json(c) Deno found for this process: it looks from the main
 * module's directory up (a file main module), else from the working directory.
 */
function discoverConfig(): string | undefined {
  let dir: string;
  try {
    const main = new URL(Deno.mainModule);
    if (main.protocol === "file:") {
      dir = decodeURIComponent(main.pathname).replace(/\/[^/]*$/, "");
    } else {
      if (!query({ name: "read", path: "." })) return undefined;
      dir = Deno.cwd();
    }
  } catch {
    return undefined;
  }
  for (let i = 0; i < 64 && dir !== ""; i++) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      if (exists(`${dir}/${name}`)) return `${dir}/${name}`;
    }
    const up = dir.replace(/\/[^/]*$/, "");
    if (up === dir) break;
    dir = up;
  }
  return exists("/deno.json") ? "/deno.json" : undefined;
}

/** What the bootstrap must reach. */
export type ControlAddress = { path: string } | {
  hostname: string;
  port: number;
};

/** Options of {@link childFlags}. */
export interface FlagOptions {
  permissions?: Deno.PermissionOptions | undefined;
  memoryLimitMb?: number | undefined;
  control: ControlAddress;
}

/**
 * The `deno run` arguments (without the main module) of a child. Throws when
 * `permissions` asks for more than this process was granted.
 */
export function childFlags(options: FlagOptions): string[] {
  const flags = parentFlags();
  const g = grants(options.permissions, flags);
  if ("path" in options.control) {
    for (const k of ["read", "write"] as const) {
      if (!g[k].all) g[k].list.push(options.control.path);
    }
    // Deno 2.9 checks net "unix:<path>" too for Unix sockets
    if (!g.net.all) g.net.list.push(`unix:${options.control.path}`);
  } else if (!g.net.all) {
    g.net.list.push(`${options.control.hostname}:${options.control.port}`);
  }
  const out = ["run", "--no-prompt"];
  for (const kind of KINDS) {
    const { all, list } = g[kind];
    if (all) out.push(`--allow-${kind}`);
    else if (list.length) out.push(`--allow-${kind}=${list.join(",")}`);
  }
  let config = false;
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i]!;
    const name = f.split("=")[0]!;
    if (f.startsWith("--deny-") || name.startsWith("--unstable")) {
      out.push(f);
    } else if (PASS_EXACT.has(f)) {
      out.push(f);
      if (f === "--no-config") config = true;
    } else if (PASS_VALUE.has(name)) {
      let value: string;
      if (f.includes("=")) value = f.slice(name.length + 1);
      else value = flags[++i] ?? "";
      // a relative config/lock/import map is relative to this cwd, not the child's
      if (["--config", "-c", "--import-map", "--lock"].includes(name)) {
        if (name === "--config" || name === "-c") config = true;
        if (!value.startsWith("/") && !/^[a-z]+:/i.test(value)) {
          try {
            value = `${Deno.cwd()}/${value}`;
          } catch {
            // keep it relative
          }
        }
      }
      out.push(`${name === "-c" ? "--config" : name}=${value}`);
    } else if (
      f.startsWith("--v8-flags=") && options.memoryLimitMb === undefined
    ) {
      out.push(f);
    }
  }
  if (!config) {
    const found = discoverConfig();
    if (found) out.push(`--config=${found}`);
  }
  if (options.memoryLimitMb !== undefined) {
    out.push(`--v8-flags=--max-old-space-size=${options.memoryLimitMb}`);
  }
  return out;
}
