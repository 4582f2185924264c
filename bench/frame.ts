/**
 * Frame codec throughput: DATA 16 KiB decode/encode and HEADERS (20 browser fields) decode/encode,
 * compared with a plain memory copy of the same bytes measured in the same run.
 */
import { concat } from '../lib/bytes.js';
import { FrameType } from '../lib/constants.js';
import { FrameDecoder } from '../lib/frame/decoder.js';
import { encodeFrame, encodeFrames } from '../lib/frame/encoder.js';
import { FrameSink } from '../lib/frame/sink.js';
import type { Frame } from '../lib/frame/types.js';
import { HpackEncoder } from '../lib/hpack/encoder.js';
import { BROWSER_REQUEST } from './fixtures.js';
import { type Case, type Row, runGroup } from './util.js';

export async function frameBench(): Promise<Row[]> {
  const FRAMES = 64;
  const payload = new Uint8Array(16384).fill(0x61);
  const dataFrames: Frame[] = Array.from({ length: FRAMES }, (_, i) => ({
    type: FrameType.DATA, streamId: 1 + 2 * (i % 8), data: payload, endStream: false, padLength: undefined, flowControlledLength: 16384,
  }));
  const dataBytes = encodeFrames(dataFrames, 16384);
  // the same stream cut into 1400-octet pieces, as TCP segments often arrive
  const pieces: Uint8Array[] = [];
  for (let o = 0; o < dataBytes.length; o += 1400) pieces.push(Uint8Array.from(dataBytes.subarray(o, o + 1400)));
  const copyTarget = new Uint8Array(dataBytes.length);
  const block = new HpackEncoder().encode(BROWSER_REQUEST);
  const headerFrames: Frame[] = Array.from({ length: FRAMES }, (_, i) => ({
    type: FrameType.HEADERS, streamId: 1 + 2 * i, headerBlock: block, endStream: true, endHeaders: true, padLength: undefined, priority: undefined,
  }));
  const headerBytes = encodeFrames(headerFrames);
  const decoder = new FrameDecoder({ expectSettingsFirst: false });
  let sink = 0;
  const drain = (): void => {
    for (let f = decoder.next(); f; f = decoder.next()) sink += f.type;
  };
  const payloadBytes = FRAMES * 16384;
  const cases: Case[] = [
    { name: 'memcpy (baseline)', fn: () => copyTarget.set(dataBytes), unitsPerOp: payloadBytes, unit: 'B' },
    { name: 'DATA 16 KiB decode, one chunk', fn: () => { decoder.push(dataBytes); drain(); }, unitsPerOp: payloadBytes, unit: 'B', baseline: 'memcpy (baseline)' },
    { name: 'DATA 16 KiB decode, 1400 B chunks', fn: () => { for (const p of pieces) { decoder.push(p); drain(); } }, unitsPerOp: payloadBytes, unit: 'B', baseline: 'memcpy (baseline)' },
    { name: 'DATA 16 KiB encode (views)', fn: () => { const s = new FrameSink(); for (const f of dataFrames) encodeFrame(s, f); sink += s.take().length; }, unitsPerOp: payloadBytes, unit: 'B', baseline: 'memcpy (baseline)' },
    { name: 'DATA 16 KiB encode + concat', fn: () => { sink += encodeFrames(dataFrames).length; }, unitsPerOp: payloadBytes, unit: 'B', baseline: 'memcpy (baseline)' },
    { name: 'HEADERS (20 fields) decode', fn: () => { decoder.push(headerBytes); drain(); }, unitsPerOp: FRAMES, unit: 'frames' },
    { name: 'HEADERS (20 fields) encode', fn: () => { const s = new FrameSink(); for (const f of headerFrames) encodeFrame(s, f); sink += concat(s.take()).length; }, unitsPerOp: FRAMES, unit: 'frames' },
  ];
  const rows = await runGroup('frame', cases);
  if (sink === -1) console.log(sink);
  return rows;
}
