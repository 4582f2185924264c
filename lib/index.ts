/**
 * h2sched: a sans-IO HTTP/2 engine with an RFC 7540 priority tree and pluggable send schedulers.
 * This module only re-exports the public API.
 */
export * from './constants.js';
export * from './errors.js';
export * from './frame/index.js';
export * from './hpack/index.js';
export * from './priority/index.js';
