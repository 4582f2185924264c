/**
 * HPACK blocks per second: our adapter against hpack.js's own stream API (the baseline) on the
 * same 20-field browser request, steady state (shared context) and cold (new context per block).
 */
import hpack from 'hpack.js';
import { HpackDecoder } from '../lib/hpack/decoder.js';
import { HpackEncoder } from '../lib/hpack/encoder.js';
import { BROWSER_REQUEST, requestFor } from './fixtures.js';
import { type Case, type Row, runGroup } from './util.js';

interface Stream { write(x: unknown): void; read(): unknown; execute(): void; updateTableSize?(n: number): void }

export async function hpackBench(): Promise<Row[]> {
  const N = 100;
  const lists = Array.from({ length: N }, (_, i) => requestFor(i));
  const jsLists = lists.map((l) => l.map(([name, value]) => ({ name: String(name), value: String(value) })));
  // steady-state blocks as a long-lived connection sees them
  const enc = new HpackEncoder();
  const blocks = lists.map((l) => enc.encode(l));
  let sink = 0;

  const ours = (): void => {
    const e = new HpackEncoder();
    for (const l of lists) sink += e.encode(l).length;
  };
  const oursDecode = (): void => {
    const d = new HpackDecoder();
    for (const b of blocks) sink += d.decode(b).length;
  };
  const theirs = (): void => {
    const c = hpack.compressor.create({ table: { maxSize: 4096 } } as never) as unknown as Stream;
    for (const l of jsLists) {
      c.write(l);
      for (let x = c.read(); x; x = c.read()) sink++;
    }
  };
  const theirsDecode = (): void => {
    const d = hpack.decompressor.create({ table: { maxSize: 4096 } } as never) as unknown as Stream;
    for (const b of blocks) {
      d.write(Buffer.from(b));
      d.execute();
      for (let x = d.read(); x; x = d.read()) sink++;
    }
  };
  const cold = (): void => {
    sink += new HpackDecoder().decode(new HpackEncoder().encode(BROWSER_REQUEST)).length;
  };
  const cases: Case[] = [
    { name: 'hpack.js compressor (baseline)', fn: theirs, unitsPerOp: N, unit: 'blocks' },
    { name: 'encode, steady state', fn: ours, unitsPerOp: N, unit: 'blocks', baseline: 'hpack.js compressor (baseline)' },
    { name: 'hpack.js decompressor (baseline)', fn: theirsDecode, unitsPerOp: N, unit: 'blocks' },
    { name: 'decode, steady state', fn: oursDecode, unitsPerOp: N, unit: 'blocks', baseline: 'hpack.js decompressor (baseline)' },
    { name: 'encode + decode, cold context', fn: cold, unitsPerOp: 1, unit: 'blocks' },
  ];
  const rows = await runGroup('hpack', cases);
  if (sink === -1) console.log(sink);
  return rows;
}
