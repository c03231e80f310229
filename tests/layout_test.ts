// The layout rule "no import cycles" (style.md §8), checked over the module
// graph Deno itself resolves (`deno info --json`) from every public entry
// point and every Worker/child entry, type-only imports included.
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);
const config = JSON.parse(
  await Deno.readTextFile(new URL("deno.json", root)),
) as { exports: Record<string, string> };
const entries = [
  ...Object.values(config.exports),
  "./pool/_worker.ts",
  "./pool/_process_worker.ts",
  "./process/_bootstrap.ts",
  "./manager/server/_worker.ts",
  "./manager/cli.ts",
];

interface Info {
  modules: {
    specifier: string;
    dependencies?: {
      code?: { specifier?: string };
      type?: { specifier?: string };
    }[];
  }[];
}

/** The local modules of `entry`'s graph and their local imports. */
async function graph(entry: string): Promise<Map<string, string[]>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL(entry, root).pathname],
    cwd: root.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as Info;
  const g = new Map<string, string[]>();
  for (const m of info.modules) {
    if (!m.specifier.startsWith(root.href)) continue;
    const deps = (m.dependencies ?? []).flatMap((d) =>
      [d.code?.specifier, d.type?.specifier].filter((s): s is string =>
        s !== undefined && s.startsWith(root.href)
      )
    );
    g.set(m.specifier, [...new Set(deps)]);
  }
  return g;
}

/** One import cycle of `g` as a path a → … → a, or undefined. */
function findCycle(g: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (v: string): string[] | undefined => {
    state.set(v, "open");
    path.push(v);
    for (const w of g.get(v) ?? []) {
      if (state.get(w) === "open") return [...path.slice(path.indexOf(w)), w];
      if (!state.has(w)) {
        const c = visit(w);
        if (c) return c;
      }
    }
    path.pop();
    state.set(v, "done");
    return undefined;
  };
  for (const v of g.keys()) {
    if (!state.has(v)) {
      const c = visit(v);
      if (c) return c;
    }
  }
  return undefined;
}

Deno.test("findCycle finds a cycle and passes a DAG", () => {
  assert.deepEqual(
    findCycle(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]]])),
    ["a", "b", "c", "a"],
  );
  assert.equal(
    findCycle(new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]])),
    undefined,
  );
});

for (const entry of entries) {
  Deno.test(`no import cycle in the module graph of ${entry}`, async () => {
    const g = await graph(entry);
    assert.ok(g.size > 0, `no local module found from ${entry}`);
    const cycle = findCycle(g);
    assert.equal(
      cycle,
      undefined,
      `import cycle: ${
        cycle?.map((s) => s.slice(root.href.length)).join(" → ")
      }`,
    );
  });
}
