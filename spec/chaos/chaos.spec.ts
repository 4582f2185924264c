// Issue 12 in `npm test`: about 20 seconds of chaos against the built `h2sched serve` (dist/, which
// npm test builds). Misbehaving raw clients — resets at every point of a request's life, trailers
// with a RST_STREAM in the same write, dropped downloads and uploads, bad URLs, window games,
// GOAWAY mid-flight, PING floods, slow readers, garbage, HTTP/1.1 — run beside well-behaved
// clients whose every answer must be byte-exact. Afterwards the process must be alive and answer,
// every stream-record count it reports over IPC must be back at 0 (the test fails when it cannot
// report them), and its fds and heap after GC must be within FD_SLACK and HEAP_SLACK of the
// figures after warm-up. The seed is printed; CHAOS_SEED=<seed> reruns the same scripts
// (CHAOS_SECONDS changes the length, CHAOS_CLI the server under test; `npm run chaos -- --seed <seed>`
// is the long form).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FD_SLACK, formatResult, HEAP_SLACK, runChaos } from './chaos.js';

const SECONDS = Number(process.env.CHAOS_SECONDS ?? 20);
const SEED = process.env.CHAOS_SEED !== undefined ? Number(process.env.CHAOS_SEED) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
const CLI = path.resolve(process.env.CHAOS_CLI ?? 'dist/node/cli.js');

describe('chaos: no peer mistake crashes, leaks or wedges `h2sched serve` (issue 12)', () => {
  it(`survives ${SECONDS} s of misbehaving clients beside byte-exact well-behaved ones, then holds no stream record, fds within +${FD_SLACK}, heap within +${HEAP_SLACK / 1048576} MiB (seed printed; CHAOS_SEED reproduces)`, async () => {
    if (!existsSync(CLI)) throw new Error('dist/node/cli.js is missing: run `npm run build` (npm test does it)');
    process.stdout.write(`chaos spec: seed ${SEED} (reproduce: CHAOS_SEED=${SEED} npx jest spec/chaos, or npm run chaos -- --seconds ${SECONDS} --seed ${SEED})\n`);
    const r = await runChaos({ seconds: SECONDS, seed: SEED, concurrency: 8, wellBehaved: 2, triage: true, cli: CLI });
    const report = formatResult(r);
    process.stdout.write(`${report}\n`);
    if (r.failures.length > 0) throw new Error(`chaos failed with seed ${SEED}:\n${report}`);
    // the run did what it says: every kind of abuse was played, and good answers were checked
    for (const story of ['trailersRst', 'rstAt', 'dropDownload', 'dropUpload', 'windowGames', 'goawayMidFlight', 'slowReader', 'badUrl', 'random']) {
      expect([story, r.kinds[`story:${story}`] ?? 0]).toEqual([story, expect.any(Number)]);
      expect(r.kinds[`story:${story}`]).toBeGreaterThan(0);
    }
    expect(r.well.checked).toBeGreaterThan(0);
    expect(r.crashes).toBe(0);
    // stats must have been available (a server that cannot report them does not pass)
    expect(r.start?.stats).toBeDefined();
    expect(r.end?.stats).toMatchObject({ connections: 0, exchanges: 0, senderStreams: 0, schedulerStreams: 0, engineStreams: 0 });
    if (r.start?.fds !== undefined) expect(r.end?.fds).toBeLessThanOrEqual(r.start.fds + FD_SLACK);
    expect(r.end!.stats!.heapUsed).toBeLessThanOrEqual(r.start!.stats!.heapUsed + HEAP_SLACK);
  }, (SECONDS + 150) * 1000);
});
