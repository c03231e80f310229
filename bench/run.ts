// `deno task bench`: runs every area's benchmark (each measures its anchors —
// CPython multiprocessing, raw Deno sockets/Workers, piscina — side by side
// in the same run), then prints one table of ratios and draws
// bench/results/ratios.svg for the README.
//
//   deno task bench                 # all areas
//   deno task bench connection pool # some areas
//   deno task bench --summary       # only the table of bench/results/ (the README's)

import type { BenchRow } from "./_common.ts";

const AREAS = [
  "connection",
  "pool",
  "manager",
  "cpython_manager",
  "sharedmem",
  "pickle",
  "process",
];

type Row = BenchRow;

const here = new URL(".", import.meta.url);
const summaryOnly = Deno.args.includes("--summary");
const selected = summaryOnly ? [] : Deno.args.length > 0 ? Deno.args : AREAS;
await Deno.mkdir(new URL("results/", here), { recursive: true });

for (const area of selected) {
  const file = new URL(`${area}_bench.ts`, here);
  try {
    await Deno.stat(file);
  } catch {
    console.log(`\n## ${area}: no bench/${area}_bench.ts yet, skipped`);
    continue;
  }
  console.log(`\n## ${area}`);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-worker-options", file.pathname],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) console.log(`(${area} bench exited with code ${code})`);
}

const rows: { area: string; row: Row }[] = [];
for (const area of AREAS) {
  try {
    const data = JSON.parse(
      await Deno.readTextFile(new URL(`results/${area}.json`, here)),
    ) as Row[];
    for (const row of data) rows.push({ area, row });
  } catch {
    // no results for this area
  }
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString("en-US");
  return n.toPrecision(3);
}

/**
 * How many times faster than its anchor a row is (> 1: faster), from the two
 * figures and the unit: a time (µs, ms, s, …) is better lower, a rate or a
 * speedup higher. Each bench's own `ratio` follows its target's wording
 * (some are ours / anchor of a time), so the plot and the "faster" column
 * use this instead, and read the same way for every row.
 */
function faster(row: Row): number {
  const lowerIsBetter = /^(ns|µs|us|ms|s)\b/.test(row.unit);
  return lowerIsBetter
    ? row.anchorValue / row.ours
    : row.ours / row.anchorValue;
}

console.log("\n## Summary (ours / anchor)\n");
console.log("| area | figure | ours | anchor | ratio | faster | target |");
console.log("| --- | --- | ---: | --- | ---: | ---: | --- |");
for (const { area, row } of rows) {
  console.log(
    `| ${area} | ${row.name} | ${fmt(row.ours)} ${row.unit} | ${row.anchor}: ${
      fmt(row.anchorValue)
    } | ${row.ratio.toFixed(2)}× | ${
      faster(row).toFixed(2)
    }× | ${row.target} |`,
  );
}

if (summaryOnly) Deno.exit(0);

// A horizontal bar chart of the ratios on a log scale, 1× marked.
const barH = 18;
const left = 520;
const width = 1000;
const plotW = width - left - 60;
const height = 40 + rows.length * (barH + 6) + 30;
const maxRatio = Math.max(
  2,
  ...rows.map((r) => faster(r.row)).filter(Number.isFinite),
);
const minRatio = Math.min(
  0.1,
  ...rows.map((r) => faster(r.row)).filter((x) => x > 0),
);
const lmin = Math.log10(minRatio);
const lmax = Math.log10(maxRatio * 1.2);
const x = (v: number) =>
  left + ((Math.log10(Math.max(v, minRatio)) - lmin) / (lmax - lmin)) * plotW;
const short = (s: string) => s.length > 80 ? `${s.slice(0, 77)}...` : s;
const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const parts: string[] = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
  `<rect width="100%" height="100%" fill="white"/>`,
  `<text x="${left}" y="20" font-size="14">times faster than the anchor (log scale; right of the line = faster)</text>`,
];
rows.forEach(({ area, row }, i) => {
  const y = 35 + i * (barH + 6);
  const f = faster(row);
  const color = f >= 1 ? "#2a7" : "#d55";
  parts.push(
    `<text x="${left - 8}" y="${y + 13}" text-anchor="end"><title>${
      esc(`vs ${row.anchor}`)
    }</title>${esc(short(`${area}: ${row.name}`))}</text>`,
    `<rect x="${x(minRatio)}" y="${y}" width="${
      Math.max(1, x(f) - x(minRatio))
    }" height="${barH}" fill="${color}"/>`,
    `<text x="${x(f) + 4}" y="${y + 13}">${f.toFixed(2)}×</text>`,
  );
});
parts.push(
  `<line x1="${x(1)}" y1="28" x2="${x(1)}" y2="${
    height - 20
  }" stroke="black" stroke-dasharray="4 3"/>`,
  `<text x="${x(1)}" y="${height - 6}" text-anchor="middle">1×</text>`,
  `</svg>`,
);
await Deno.writeTextFile(new URL("results/ratios.svg", here), parts.join("\n"));
console.log("\nplot: bench/results/ratios.svg");
