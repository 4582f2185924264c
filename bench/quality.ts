/**
 * `npm run bench quality`: the scheduling-quality report. Every workload of bench/workloads.ts
 * runs through the link simulation with each scheduler; metrics per (workload, scheduler) are
 * medians over seeds (the simulation is deterministic: workloads without randomness give the
 * same figure every run, so their spread is 0). Writes bench/results/quality.md and SVG charts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SchedulerName } from '../lib/priority/scheduler.js';
import { renderCharts } from './charts.js';
import { LINK_3G, type Metrics, metrics, type SimResult, simulate } from './sim.js';
import { WORKLOADS } from './workloads.js';

export const SCHEDULERS: SchedulerName[] = ['tree', 'round-robin', 'fifo', 'extensible'];
const SEEDS = [1, 2, 3, 4, 5];

interface Cell { m: Metrics[]; first: SimResult }

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
function fmt(xs: number[], digits = 0): string {
  const m = med(xs);
  const spread = Math.max(...xs) - Math.min(...xs);
  return spread === 0 ? m.toFixed(digits) : `${m.toFixed(digits)} ±${(spread / 2).toFixed(digits)}`;
}

export async function qualityReport(outDir = 'bench/results'): Promise<string> {
  const cells = new Map<string, Cell>();
  const names: string[] = [];
  const titles = new Map<string, string>();
  let step = 0;
  const total = WORKLOADS.length * SCHEDULERS.length;
  for (const make of WORKLOADS) {
    const probe = make(1);
    names.push(probe.name);
    titles.set(probe.name, probe.title);
    const seeded = ['flat', 'storm'].includes(probe.name);
    for (const s of SCHEDULERS) {
      const ms: Metrics[] = [];
      let first: SimResult | undefined;
      for (const seed of seeded ? SEEDS : [1]) {
        const w = make(seed);
        const r = simulate(w, s);
        first ??= r;
        ms.push(metrics(w, r));
      }
      cells.set(`${probe.name}/${s}`, { m: ms, first: first! });
      process.stdout.write(`\rbench: quality ${++step}/${total} (${probe.name}, ${s})        `);
    }
  }
  process.stdout.write('\n');
  const lines: string[] = [];
  lines.push(`Link: ${LINK_3G.bandwidth * 8 / 1000} Mbit/s, ${LINK_3G.rtt} ms RTT, ${LINK_3G.sendBuffer / 1024} KiB send buffer, client stream window ${LINK_3G.clientWindow}. Times in ms; ratios against round-robin in the same run.`);
  lines.push('');
  lines.push('| workload | scheduler | critical set (HTML, CSS, JS) | ×RR | HTML+CSS | ×RR | total | ×RR | late reqs | p50/p95 css | p50/p95 js | p50/p95 img | Jain | max lag (B) | longest stall | inversions (B) | idle ticks | DATA frames |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|---:|---:|---:|---:|---:|---:|');
  for (const n of names) {
    const rr = cells.get(`${n}/round-robin`)!.m;
    for (const s of SCHEDULERS) {
      const m = cells.get(`${n}/${s}`)!.m;
      const pc = (c: string) => (m[0]!.perClass[c] ? `${fmt(m.map((x) => x.perClass[c]!.p50))}/${fmt(m.map((x) => x.perClass[c]!.p95))}` : '—');
      const crit = m[0]!.criticalTime > 0 && Number.isFinite(m[0]!.criticalTime);
      const rend = m[0]!.renderTime > 0 && Number.isFinite(m[0]!.renderTime);
      const render = rend ? `${fmt(m.map((x) => x.renderTime))} | ${(med(m.map((x) => x.renderTime)) / med(rr.map((x) => x.renderTime))).toFixed(2)}` : '— | —';
      lines.push(`| ${n} | ${s} | ${crit ? fmt(m.map((x) => x.criticalTime)) : '—'} | ${crit ? (med(m.map((x) => x.criticalTime)) / med(rr.map((x) => x.criticalTime))).toFixed(2) : '—'} | ${render} | ${fmt(m.map((x) => x.totalTime))} | ${(med(m.map((x) => x.totalTime)) / med(rr.map((x) => x.totalTime))).toFixed(3)} | ${m[0]!.lateTime !== undefined ? fmt(m.map((x) => x.lateTime!)) : '—'} | ${pc('css')} | ${pc('js')} | ${pc('img')} | ${m[0]!.jain !== undefined ? fmt(m.map((x) => x.jain!), 3) : '—'} | ${m[0]!.maxLag !== undefined ? fmt(m.map((x) => x.maxLag!)) : '—'} | ${fmt(m.map((x) => x.longestStall))} | ${fmt(m.map((x) => x.inversionOctets))} | ${fmt(m.map((x) => x.idleTicks))} | ${fmt(m.map((x) => x.dataFrames))} |`);
    }
  }
  // Bodies from files: the tree scheduler with every body read through FileSource from a
  // simulated disk, against the same workload from memory (issue 13's bound: no turn lost).
  lines.push('', 'Bodies from files (`tree`; every body through `FileSource` over a simulated disk whose reads take the given ms; time of the critical set, or of the late requests, and how many streams finish at another time than with in-memory bodies):', '');
  lines.push('| workload | memory | prefetch 5 ms | prefetch 50 ms | async 5 ms | async 50 ms | streams off (prefetch / async, 50 ms) | sync reads (prefetch 50 ms) |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const make of WORKLOADS) {
    const w = make(1);
    const mem = simulate(w, 'tree');
    const key = (r: SimResult) => { const m = metrics(w, r); return w.late ? m.lateTime! : Number.isFinite(m.criticalTime) && m.criticalTime > 0 ? m.criticalTime : m.totalTime; };
    const off = (r: SimResult) => r.streams.filter((x, i) => x.done !== mem.streams[i]!.done).length;
    const p5 = simulate(w, 'tree', undefined, undefined, { mode: 'prefetch', latency: 5 });
    const p50 = simulate(w, 'tree', undefined, undefined, { mode: 'prefetch', latency: 50 });
    const a5 = simulate(w, 'tree', undefined, undefined, { mode: 'async', latency: 5 });
    const a50 = simulate(w, 'tree', undefined, undefined, { mode: 'async', latency: 50 });
    lines.push(`| ${w.name} | ${key(mem)} | ${key(p5)} | ${key(p50)} | ${key(a5)} | ${key(a50)} | ${off(p50)} / ${off(a50)} of ${mem.streams.length} | ${p50.disk!.syncReads} of ${p50.disk!.syncReads + p50.disk!.asyncReads} |`);
    process.stdout.write(`\rbench: quality, file bodies (${w.name})        `);
  }
  process.stdout.write('\n');
  const table = lines.join('\n');
  mkdirSync(outDir, { recursive: true });
  const charts = await renderCharts(names.map((n) => ({ name: n, title: titles.get(n)!, results: SCHEDULERS.map((s) => cells.get(`${n}/${s}`)!.first) })), outDir);
  const md = `# Scheduling quality\n\n${table}\n\nCharts: ${charts.map((c) => `[${path.basename(c)}](${path.basename(c)})`).join(', ')}\n`;
  writeFileSync(path.join(outDir, 'quality.md'), md);
  return `## Scheduling quality\n\n${table}\n\nCharts (bench/results): ${charts.map((c) => path.basename(c)).join(', ')}`;
}
