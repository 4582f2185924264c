/**
 * Jest runs the TypeScript specs through @swc/jest (ts-jest refuses TypeScript 7). The `split`
 * project runs every connection spec a second time with the scripted peer cutting each send at
 * pseudo-random offsets: the events must be the same whatever TCP does to the bytes.
 */
const transform = {
  '^.+\\.ts$': ['@swc/jest', {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  }],
};
const common = {
  testEnvironment: 'node',
  transform,
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  moduleFileExtensions: ['ts', 'js', 'json'],
};
module.exports = {
  projects: [
    { ...common, displayName: 'whole', roots: ['<rootDir>/spec'], testMatch: ['**/*.spec.ts'] },
    { ...common, displayName: 'split', roots: ['<rootDir>/spec/connection'], testMatch: ['**/*.spec.ts'], globals: { H2SCHED_SPLIT_INPUT: true } },
  ],
};
