/**
 * `npm run chaos [-- --seconds N --seed S --concurrency C --well W --scheduler NAME]`: the built
 * `h2sched serve` against misbehaving and well-behaved clients for N seconds (default 60). Prints
 * the seed first (rerun with `--seed` to regenerate the same scripts), a progress line every 5
 * seconds, then the figures and every failure; exits 1 when anything failed.
 * `--replay 3.17,0.4 [--copies N]` plays only those scripts of the seed (N copies at once), one
 * after another, checking the stream counts after each; `--sequential` plays worker 0's scripts one at a time until the first leak
 * or crash (the smallest reproduction the seed gives).
 */
import { parseArgs } from 'node:util';
import { formatResult, runChaos, SCHEDULERS } from './chaos.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string' },
    concurrency: { type: 'string', default: '10' },
    well: { type: 'string', default: '3' },
    scheduler: { type: 'string' },
    replay: { type: 'string' },
    copies: { type: 'string', default: '1' },
    sequential: { type: 'boolean', default: false },
    'no-triage': { type: 'boolean', default: false },
    json: { type: 'string' },
    cli: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write('Usage: npm run chaos -- [--seconds N] [--seed S] [--concurrency C] [--well W] [--scheduler tree|round-robin|extensible]\n' +
    '                       [--replay W.I,W.I… [--copies N]] [--sequential] [--no-triage] [--json FILE] [--cli dist/node/cli.js]\n');
  process.exit(0);
}
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const wellBehaved = Number(values.well);
const seed = values.seed === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(values.seed);
if (!(seconds > 0) || !Number.isInteger(seed) || !Number.isInteger(concurrency) || concurrency < 0 || !Number.isInteger(wellBehaved) || wellBehaved < 0) {
  process.stderr.write('chaos: --seconds must be positive; --seed, --concurrency and --well integers\n');
  process.exit(2);
}
if (values.scheduler !== undefined && !(SCHEDULERS as readonly string[]).includes(values.scheduler) && values.scheduler !== 'fifo') {
  process.stderr.write(`chaos: unknown --scheduler ${values.scheduler}\n`);
  process.exit(2);
}
process.stdout.write(`chaos: seed ${seed} (reproduce: npm run chaos -- --seconds ${seconds} --seed ${seed}), ${concurrency} misbehaving + ${wellBehaved} well-behaved clients, ${seconds} s\n`);

const result = await runChaos({
  seconds, seed, concurrency, wellBehaved, scheduler: values.scheduler, cli: values.cli,
  triage: !values['no-triage'],
  replay: values.replay?.split(',').map((s) => s.trim()).filter((s) => s.length > 0),
  sequential: values.sequential,
  copies: Number(values.copies),
  onProgress: (p) => {
    const stories = Object.entries(p.kinds).filter(([k]) => k.startsWith('story:')).sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k.slice(6)} ${v}`).join(' ');
    const s = p.stats;
    const rec = s ? `conns ${s.connections} exch ${s.exchanges} send ${s.senderStreams} sched ${s.schedulerStreams} eng ${s.engineStreams} heap ${(s.heapUsed / 1048576).toFixed(0)}M` : 'stats n/a';
    process.stdout.write(`chaos: ${(p.elapsedMs / 1000).toFixed(0)} s, ${p.actions} actions in ${p.scripts} connections, ${p.wellChecked} checked, fds ${p.fds ?? 'n/a'}, ${rec}, ${p.crashes} crashes, ${p.failures} failures | ${stories}\n`);
  },
}).catch((e: Error) => {
  process.stderr.write(`chaos: ${e.message} (is dist/ built? npm run chaos builds it)\n`);
  process.exit(2);
});
process.stdout.write(`${formatResult(result)}\n`);
if (values.json) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(values.json, JSON.stringify(result, null, 2));
}
process.exit(result.failures.length > 0 ? 1 : 0);
