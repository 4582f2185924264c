/**
 * SVG charts for the bench report, specified in Vega-Lite and rendered by Vega (server side,
 * no browser, no external service): per workload, a waterfall (each stream from its first to its
 * last octet, one panel per scheduler) and cumulative octets per stream over time.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { SimResult } from './sim.js';

async function svg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

export async function renderCharts(workloads: Array<{ name: string; title: string; results: SimResult[] }>, outDir: string): Promise<string[]> {
  const files: string[] = [];
  for (const w of workloads) {
    const bars = w.results.flatMap((r) => r.streams.map((s) => ({ scheduler: r.scheduler, stream: `${s.req.id} ${s.req.path}`, cls: s.req.cls, requested: s.req.at, first: s.firstByte, done: s.done })));
    const waterfall: TopLevelSpec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: `${w.title}: waterfall (ms; requested → first byte → done)`,
      data: { values: bars },
      facet: { row: { field: 'scheduler', type: 'nominal', title: null } },
      spec: {
        width: 560, height: { step: 12 },
        layer: [
          { mark: { type: 'rule', color: '#bbb' }, encoding: { y: { field: 'stream', type: 'nominal', sort: null, title: null }, x: { field: 'requested', type: 'quantitative', title: 'ms' }, x2: { field: 'first' } } },
          { mark: 'bar', encoding: { y: { field: 'stream', type: 'nominal', sort: null }, x: { field: 'first', type: 'quantitative' }, x2: { field: 'done' }, color: { field: 'cls', type: 'nominal', title: 'class' } } },
        ],
      },
      resolve: { scale: { y: 'independent' } },
    };
    const lines = w.results.flatMap((r) => r.streams.flatMap((s) => {
      const pts = s.arrivals.filter((_, i) => i % 4 === 0 || i === s.arrivals.length - 1);
      return pts.map(([t, b]) => ({ scheduler: r.scheduler, stream: `${s.req.id} ${s.req.path}`, t, kb: b / 1000 }));
    }));
    const cumulative: TopLevelSpec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: `${w.title}: cumulative KB per stream`,
      data: { values: lines },
      facet: { column: { field: 'scheduler', type: 'nominal', title: null } },
      spec: {
        width: 260, height: 220, mark: { type: 'line', interpolate: 'step-after' },
        encoding: { x: { field: 't', type: 'quantitative', title: 'ms' }, y: { field: 'kb', type: 'quantitative', title: 'KB' }, color: { field: 'stream', type: 'nominal', legend: null } },
      },
    };
    for (const [kind, spec] of [['waterfall', waterfall], ['cumulative', cumulative]] as const) {
      const file = path.join(outDir, `${w.name}-${kind}.svg`);
      writeFileSync(file, await svg(spec));
      files.push(file);
    }
  }
  return files;
}
