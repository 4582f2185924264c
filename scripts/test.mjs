// Runs the test suite: a TypeScript 7 type-check of lib/, spec/ and bench/, the build (dist/, for
// the CLI specs), then jest.
// CI here does not read jest's own summary, so this script ends with the plain line
// `jest: N passed, N failed` and keeps jest's exit code. Extra arguments go to jest.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const pkgDir = (name) => dirname(require.resolve(`${name}/package.json`));
const tsc = join(pkgDir('@typescript/native'), 'bin', 'tsc');
const jest = join(pkgDir('jest'), 'bin', 'jest.js');
const args = process.argv.slice(2);

if (!args.includes('--no-typecheck')) {
  const tc = spawnSync(process.execPath, [tsc, '--noEmit', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  if (tc.status !== 0) {
    console.log('jest: 0 passed, 1 failed');
    console.error('type-check failed; tests not run');
    process.exit(tc.status ?? 1);
  }
}

// The CLI specs spawn the built `h2sched` command (dist/), so build first.
const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.log('jest: 0 passed, 1 failed');
  console.error('build failed; tests not run');
  process.exit(build.status ?? 1);
}

const report = '.jest.json';
rmSync(report, { force: true });
const jestArgs = [jest, '--ci', '--json', `--outputFile=${report}`, ...args.filter((a) => a !== '--no-typecheck')];
const run = spawnSync(process.execPath, jestArgs, { stdio: 'inherit' });
let passed = 0;
let failed = 0;
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed = r.numPassedTests;
  failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
} catch {
  failed = 1;
}
console.log(`jest: ${passed} passed, ${failed} failed`);
process.exit(run.status ?? 1);
