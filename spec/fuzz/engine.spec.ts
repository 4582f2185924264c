// The engine fuzzer in `npm test` (a few thousand cases; `npm run fuzz` runs a million). The rules
// each case checks are listed in engine-fuzz.ts: only our error classes, windows within RFC 9113
// §6.9 bounds, streams within MAX_CONCURRENT_STREAMS and the closed-stream cap, well-formed output
// whose RST_STREAM/GOAWAY codes are defined, one GOAWAY per connection error and nothing after it.
import fc from 'fast-check';
import { fuzzCase, runCase } from './engine-fuzz.js';

const RUNS = Number(process.env.H2SCHED_FUZZ_RUNS ?? 3000);

describe('engine fuzz: random frame scripts, raw bytes and application calls, cut at random offsets', () => {
  it(`holds every rule over ${RUNS} cases (server and client)`, () => {
    fc.assert(fc.property(fuzzCase, (c) => { runCase(c); }), { numRuns: RUNS });
  }, 120000);
});

describe('engine fuzz: regressions it found', () => {
  it('a GOAWAY with an error code ends processing of the rest of the chunk (a later DATA on stream 0 raised an error without a GOAWAY)', () => {
    expect(() => runCase({ client: false, steps: [{ t: 'frame', frame: { type: 7, streamId: 0, lastStreamId: 0, errorCode: 1, debugData: new Uint8Array(0) } }, { t: 'data', id: 0, len: 0, eos: false, pad: false }], cuts: [15] })).not.toThrow();
    expect(() => runCase({ client: false, steps: [{ t: 'settingsAck' }, { t: 'goaway', last: 0, code: 7 }, { t: 'data', id: 0, len: 0, eos: false, pad: false }], cuts: [14] })).not.toThrow();
  });
});
