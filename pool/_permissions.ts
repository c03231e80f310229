// Deno 2.9 gates `new Worker(url, { deno: { permissions } })` behind
// `--unstable-worker-options` and, when the flag is missing, prints a message
// and exits the whole process (nothing to catch). So the pool looks for the
// flag first: in the process's command line (Linux, when readable without a
// prompt) and in the `unstable` list of a deno.json(c) found from the working
// directory upwards. When it cannot tell, it lets Deno decide.

const FLAG = "--unstable-worker-options";

/** The error thrown when `permissions` is used without the flag. */
export function missingFlagError(): Error {
  return new Error(
    `Cannot restrict the permissions of pool workers as Deno needs the ${FLAG} flag ` +
      `(or "unstable": ["worker-options"] in deno.json)`,
  );
}

function canRead(path: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "read", path }).state ===
      "granted";
  } catch {
    return false;
  }
}

function configEnables(text: string): boolean {
  return /"unstable"\s*:\s*\[[^\]]*"worker-options"/.test(text);
}

/** True/false when the flag is known to be on/off; undefined when it cannot tell. */
export function workerOptionsEnabled(): boolean | undefined {
  if (Deno.build.os !== "linux" || !canRead("/proc/self/cmdline")) {
    return undefined;
  }
  let argv: string[];
  try {
    argv = Deno.readTextFileSync("/proc/self/cmdline").split("\0").filter((a) =>
      a
    );
  } catch {
    return undefined;
  }
  const exe = (argv[0] ?? "").split("/").pop() ?? "";
  if (!exe.startsWith("deno")) return undefined; // a compiled binary: flags are baked in
  if (argv.includes(FLAG) || argv.includes("--unstable")) return true;
  if (Deno.env && canEnv() && Deno.env.get("DENO_UNSTABLE_WORKER_OPTIONS")) {
    return true;
  }
  const configs: string[] = [];
  const ci = argv.findIndex((a) => a === "--config" || a === "-c");
  if (ci > 0 && argv[ci + 1]) configs.push(argv[ci + 1]!);
  for (const a of argv) if (a.startsWith("--config=")) configs.push(a.slice(9));
  if (argv.includes("--no-config")) return configs.length ? undefined : false;
  if (!canRead(".")) return undefined;
  let dir: string;
  try {
    dir = Deno.cwd();
  } catch {
    return undefined;
  }
  for (;;) {
    configs.push(`${dir}/deno.json`, `${dir}/deno.jsonc`);
    const up = dir.replace(/\/[^/]*$/, "");
    if (up === dir || up === "") break;
    dir = up;
  }
  configs.push("/deno.json", "/deno.jsonc");
  for (const path of configs) {
    if (!canRead(path)) return undefined;
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch {
      continue;
    }
    // Deno uses the nearest config file only.
    return configEnables(text);
  }
  return false;
}

function canEnv(): boolean {
  try {
    return Deno.permissions.querySync({
      name: "env",
      variable: "DENO_UNSTABLE_WORKER_OPTIONS",
    }).state === "granted";
  } catch {
    return false;
  }
}
