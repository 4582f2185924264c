/**
 * `npm run fuzz [-- --runs N --seed S]`: the engine fuzzer at scale (default 1,000,000 cases).
 * Prints the seed first (rerun with `--seed` to reproduce), progress every 10,000 cases, and on a
 * failure the shrunk counterexample; exits 1 then.
 */
import fc from 'fast-check';
import { parseArgs } from 'node:util';
import { fuzzCase, runCase } from './engine-fuzz.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000000' },
    seed: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write('Usage: npm run fuzz -- [--runs N] [--seed S]\n');
  process.exit(0);
}
const runs = Number(values.runs);
const seed = values.seed === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(values.seed);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  process.stderr.write('fuzz: --runs and --seed must be integers\n');
  process.exit(2);
}
process.stdout.write(`fuzz: ${runs.toLocaleString('en')} cases, seed ${seed} (reproduce: npm run fuzz -- --runs ${runs} --seed ${seed})\n`);

const start = performance.now();
let done = 0;
const result = fc.check(fc.property(fuzzCase, (c) => {
  done++;
  if (done % 10000 === 0) {
    const s = (performance.now() - start) / 1000;
    process.stdout.write(`fuzz: ${done.toLocaleString('en')}/${runs.toLocaleString('en')} cases, ${s.toFixed(1)} s, ${Math.round(done / s).toLocaleString('en')} cases/s\n`);
  }
  runCase(c);
}), { numRuns: runs, seed });

const secs = ((performance.now() - start) / 1000).toFixed(1);
if (result.failed) {
  process.stdout.write(`fuzz: FAILED after ${result.numRuns} cases (${secs} s), seed ${seed}, path ${result.counterexamplePath}\n`);
  process.stdout.write(`counterexample: ${fc.stringify(result.counterexample)}\n`);
  process.stdout.write(`cause: ${String((result.errorInstance as Error | undefined)?.message ?? result.errorInstance)}\n`);
  process.exit(1);
}
process.stdout.write(`fuzz: ${result.numRuns.toLocaleString('en')} cases passed in ${secs} s, seed ${seed}\n`);
