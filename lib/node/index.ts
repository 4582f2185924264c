/** Node adapter: sessions on sockets, the server entry, the static/demo handler. `lib/node` is the only place that touches sockets. */
export { Session, type H2Request, type H2Response, type Handler, type SessionOptions } from './session.js';
export { createH2Server, H2_TLS_OPTIONS, type H2Server, type H2ServerOptions, type ServerStats } from './server.js';
export { staticHandler, type StaticHandler, type StaticOptions } from './static.js';
export { FileCache, FILE_CACHE_DEFAULTS, type CachedDirectory, type CachedFile, type CachedPath, type FileCacheOptions, type FileCacheStats } from './file-cache.js';
export {
  DEFAULT_MAX_PREFETCH, DEFAULT_READ_AHEAD, FileSource, filePrefetchHeld, setFilePrefetchLimit, type FileIO, type FileReadMode, type FileSourceOptions,
} from './file-source.js';
export { certificateCacheDir, localCertificate, LOCAL_CERT_NAMES, type LocalCertificate, type LocalCertificateOptions } from './devcert.js';
export { connect, H2Client, type H2ClientOptions, type H2ClientResponse, type H2RequestInit } from './client.js';
export { Endpoint, type EndpointOptions, type EndpointStats, type StreamCounts } from './endpoint.js';
export { createCompatServer, CompatServer, CompatRequest, CompatResponse, CompatSocket, type CompatServerOptions, type CompatListener, type CompatHeaders, type CompatHeaderValue, type CodedUsageError } from './compat.js';
