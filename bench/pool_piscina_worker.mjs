// piscina worker for bench/pool_piscina.ts: { op, x } -> result
export default function ({ op, x }) {
  if (op === "sqr") return x * x;
  if (op === "busy") {
    const end = performance.now() + x;
    let n = 0;
    while (performance.now() < end) n++;
    return n;
  }
  return null;
}
