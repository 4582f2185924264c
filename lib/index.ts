/**
 * h2sched: a sans-IO HTTP/2 engine with an RFC 7540 priority tree and pluggable send schedulers.
 * This module only re-exports the public API.
 */
export * from './constants.js';
export * from './errors.js';
export * from './frame/index.js';
export * from './hpack/index.js';
export * from './priority/index.js';
export * from './events.js';
export { DEFAULT_ABUSE_LIMITS, type AbuseLimitsInput, type RateLimit } from './connection/guard.js';
export { H2Connection, ConnectionState, type H2ConnectionOptions, type LocalSettingsInput, type SendHeadersOptions, type SendDataOptions } from './connection/connection.js';
export { LocalSettings, RemoteSettings, Settings } from './settings.js';
export { StreamState } from './stream/state.js';
export * from './sender/index.js';
export * from './node/index.js';
