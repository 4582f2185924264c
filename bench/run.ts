/**
 * `npm run bench`: runs every bench group and prints one markdown table. Ratios compare cases
 * with a baseline measured in the same run (machines are noisy; absolute numbers are not).
 * Usage: node dist-bench/bench/run.js [group...]   (groups: quality, server, fastify, frame, hpack, scheduler)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { frameBench } from './frame.js';
import { frameworkReport } from './frameworks.js';
import { hpackBench } from './hpack.js';
import { qualityReport } from './quality.js';
import { serverReport } from './server.js';
import { schedulerBench, schedulerSummary } from './scheduler.js';
import { type Row, table } from './util.js';

const GROUPS: Record<string, () => Promise<Row[]>> = { frame: frameBench, hpack: hpackBench, scheduler: schedulerBench };
const REPORTS: Record<string, () => Promise<string>> = {
  quality: () => qualityReport(),
  server: async () => `${await serverReport()}\n\n${await frameworkReport()}`,
  fastify: () => frameworkReport(),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
// micro-benchmarks first: the reports leave a large, fragmented heap behind them
// (`fastify` alone runs only the Fastify comparison; `server` includes it)
const names = wanted.length > 0 ? wanted : [...Object.keys(GROUPS), ...Object.keys(REPORTS).filter((n) => n !== 'fastify')];
const rows: Row[] = [];
const reports: string[] = [];
for (const n of names) {
  const r = REPORTS[n];
  if (r) {
    reports.push(await r());
    continue;
  }
  const g = GROUPS[n];
  if (!g) throw new Error(`unknown bench group ${n}; known: ${[...Object.keys(REPORTS), ...Object.keys(GROUPS)].join(', ')}`);
  rows.push(...(await g()));
}
for (const r of reports) console.log(`\n${r}`);
const stamp = `node ${process.version}, ${new Date().toISOString()}, command: npm run bench${wanted.length > 0 ? ` ${wanted.join(' ')}` : ''}`;
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/report.md', `# h2sched bench report\n\n${stamp}\n\n${reports.map((r) => `${r}\n\n`).join('')}${rows.length > 0 ? `${table(rows)}\n` : ''}`);
console.log(`\nnode ${process.version}, ${new Date().toISOString()}\n`);
if (rows.length > 0) console.log(table(rows));
if (names.includes('scheduler')) console.log(`\n${schedulerSummary(rows)}`);
