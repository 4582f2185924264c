/** Shared bench helpers: run a tinybench group with progress on stderr, and format results. */
import { Bench } from 'tinybench';

export interface Row {
  group: string;
  name: string;
  /** Operations per second (1e3 / mean latency in ms; tinybench's throughput mean overstates). */
  opsPerSec: number;
  /** Relative margin of error of the mean latency, percent (95% CI). */
  rme: number;
  /** Units of work per operation (bytes or blocks), for the throughput column. */
  unitsPerOp: number;
  unit: string;
  baseline?: string;
}

export interface Case {
  name: string;
  fn: () => void;
  unitsPerOp: number;
  unit: string;
  /** Name of the case in the same group this one is compared with. */
  baseline?: string;
}

export async function runGroup(group: string, cases: Case[], time = 400): Promise<Row[]> {
  const bench = new Bench({ time, warmup: true, warmupTime: 100 });
  for (const c of cases) bench.add(c.name, c.fn);
  process.stderr.write(`bench: ${group} (${cases.length} cases)`);
  bench.addEventListener('cycle', () => process.stderr.write('.'));
  await bench.run();
  process.stderr.write(' done\n');
  return cases.map((c, i) => {
    const r = bench.tasks[i]!.result as { state: string; latency?: { mean: number; rme: number } };
    if (r.state !== 'completed' || !r.latency) throw new Error(`bench case ${c.name} did not complete: ${r.state}`);
    return { group, name: c.name, opsPerSec: 1e3 / r.latency.mean, rme: r.latency.rme, unitsPerOp: c.unitsPerOp, unit: c.unit, baseline: c.baseline };
  });
}

function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(1) + ' ';
}

export function table(rows: Row[]): string {
  const lines = ['| group | case | ops/s | ± | throughput | vs baseline |', '|---|---|---:|---:|---:|---|'];
  for (const r of rows) {
    const base = r.baseline ? rows.find((x) => x.group === r.group && x.name === r.baseline) : undefined;
    const ratio = base ? `${(r.opsPerSec / base.opsPerSec).toFixed(2)}× ${r.baseline}` : '';
    const tput = `${human(r.opsPerSec * r.unitsPerOp)}${r.unit}/s`;
    lines.push(`| ${r.group} | ${r.name} | ${human(r.opsPerSec)} | ${r.rme.toFixed(1)}% | ${tput} | ${ratio} |`);
  }
  return lines.join('\n');
}
