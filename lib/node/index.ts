/** Node adapter: sessions on sockets, the server entry, the static/demo handler. `lib/node` is the only place that touches sockets. */
export { Session, type H2Request, type H2Response, type Handler, type SessionOptions } from './session.js';
export { createH2Server, H2_TLS_OPTIONS, type H2Server, type H2ServerOptions, type ServerStats } from './server.js';
export { staticHandler } from './static.js';
export { certificateCacheDir, localCertificate, LOCAL_CERT_NAMES, type LocalCertificate, type LocalCertificateOptions } from './devcert.js';
export { connect, H2Client, type H2ClientOptions, type H2ClientResponse, type H2RequestInit } from './client.js';
export { Endpoint, type EndpointOptions, type EndpointStats, type StreamCounts } from './endpoint.js';
