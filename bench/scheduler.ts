/**
 * Scheduler cost: picks (peek + charge of one 16 KiB frame) per second for every scheduler at
 * 10 … 100k continuously ready streams, on a flat tree (random weights under the root) and a deep
 * one (4-ary tree, inner streams blocked so the ready leaves sit log4(n) levels down). Reported as
 * the ratio to round-robin on the same streams, and the growth of the cost from 100 to 100k.
 */
import { createScheduler, type SchedulerName, type SendScheduler } from '../lib/priority/index.js';
import { type Case, type Row, runGroup } from './util.js';

const SIZES = [10, 100, 1000, 10000, 100000];
const PICKS = 1000;
const NAMES: SchedulerName[] = ['round-robin', 'tree', 'fifo', 'extensible'];

function build(name: SchedulerName, n: number, shape: 'flat' | 'deep', sfq = false): SendScheduler {
  const s = createScheduler(name, { maxStreams: n + 1, discipline: sfq ? 'sfq' : 'wf2q+' });
  let seed = 42;
  const rnd = (k: number): number => (seed = (seed * 1103515245 + 12345) % 2147483648) % k;
  for (let i = 0; i < n; i++) {
    const id = 2 * i + 1;
    const parent = shape === 'deep' && i > 0 ? 2 * Math.floor((i - 1) / 4) + 1 : 0;
    s.add(id, { scheme: 'rfc7540', dependsOn: parent, weight: 1 + rnd(256), exclusive: false });
  }
  for (let i = 0; i < n; i++) {
    const inner = shape === 'deep' && 4 * i + 1 < n;
    if (!inner) s.unblock(2 * i + 1);
  }
  return s;
}

export async function schedulerBench(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const shape of ['flat', 'deep'] as const) {
    for (const n of SIZES) {
      const cases: Case[] = [];
      const variants: Array<[string, SendScheduler]> = NAMES.map((name) => [name, build(name, n, shape)]);
      variants.push(['tree (sfq)', build('tree', n, shape, true)]);
      for (const [label, s] of variants) {
        cases.push({
          name: `${shape} ${n}: ${label}`,
          fn: () => {
            for (let i = 0; i < PICKS; i++) s.charge(s.peek()!, 16384);
          },
          unitsPerOp: PICKS,
          unit: 'picks',
          baseline: label === 'round-robin' ? undefined : `${shape} ${n}: round-robin`,
        });
      }
      rows.push(...(await runGroup(`scheduler ${shape} ${n}`, cases, n >= 10000 ? 600 : 300)));
    }
  }
  return rows;
}

/** Lines summarising the goals: ratio to round-robin at 10k, growth from 100 to 100k. */
export function schedulerSummary(rows: Row[]): string {
  const get = (shape: string, n: number, label: string) => rows.find((r) => r.name === `${shape} ${n}: ${label}`)!.opsPerSec;
  const out = ['| scheduler | shape | cost vs round-robin at 10k | cost growth 100 → 100k |', '|---|---|---:|---:|'];
  for (const shape of ['flat', 'deep']) {
    for (const label of ['tree', 'tree (sfq)', 'fifo', 'extensible', 'round-robin']) {
      const ratio = get(shape, 10000, 'round-robin') / get(shape, 10000, label);
      const growth = get(shape, 100, label) / get(shape, 100000, label);
      out.push(`| ${label} | ${shape} | ${ratio.toFixed(2)}× | ${growth.toFixed(2)}× |`);
    }
  }
  return out.join('\n');
}
