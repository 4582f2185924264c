/**
 * Server entry points on Node sockets. One port serves every client; the first octets decide:
 * - a TLS handshake record (0x16, a ClientHello), when `tls` is given: TLS 1.2 or later, ciphers
 *   allowed by RFC 9113 §9.2.2, ALPN `h2` (a client offering only `http/1.1`, or no ALPN, gets an
 *   HTTP/1.1 505 with a hint; one offering neither gets the `no_application_protocol` alert);
 * - the HTTP/2 connection preface: h2c with prior knowledge (RFC 9113 §3.3);
 * - an HTTP/1.1 request with `Upgrade: h2c` (RFC 7540 §3.2): upgraded;
 * - any other HTTP/1.1 request: with `tls`, 308 to the `https://` URL of the same host, port and
 *   path; without, 505 with a hint instead of a hang;
 * - anything else: GOAWAY PROTOCOL_ERROR (RFC 9113 §3.4).
 * Each connection is a Session; the server keeps them so that `close()` can drain them all
 * gracefully, and `stats()` tells what they hold.
 */
import net from 'node:net';
import tls from 'node:tls';
import { CLIENT_PREFACE, ErrorCode } from '../constants.js';
import { H2Connection } from '../connection/connection.js';
import type { HeaderField } from '../hpack/types.js';
import { UsageError } from '../errors.js';
import { type StreamCounts, timerMs } from './endpoint.js';
import { type Handler, Session, type SessionOptions } from './session.js';

/** Options of {@link createH2Server}. */
export interface H2ServerOptions extends SessionOptions {
  /**
   * TLS certificate and key (PEM): serve TLS with ALPN h2. The same port still answers clients
   * that start in cleartext, as `cleartext` says.
   */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * With `tls`: what the port does for a client whose first octet is not a TLS handshake record.
   * - `'h2c'` (default): the HTTP/2 preface gets h2c with prior knowledge, an HTTP/1.1 request
   *   with `Upgrade: h2c` and `HTTP2-Settings` is upgraded, and any other HTTP/1.1 request gets
   *   `308 Permanent Redirect` (with `cache-control: no-store`) to `https://` + its `Host` (or the
   *   address it reached) + this port + its path.
   * - `'redirect'`: HTTP/2 over TLS only; every HTTP/1.1 request gets that 308 (`Upgrade: h2c`
   *   ignored), and the HTTP/2 preface gets GOAWAY PROTOCOL_ERROR.
   *
   * Without `tls` the port is cleartext only: h2c, `Upgrade: h2c`, and 505 with a hint for
   * other HTTP/1.1 requests; this option is ignored.
   */
  cleartext?: 'h2c' | 'redirect';
  /**
   * Sockets open at once (sessions, handshakes and sniffing included); beyond it a new socket is
   * closed at accept and counted (`stats().refused`, `onRefused`). Default 10000; 0 = no cap.
   * Enforced in the server's 'connection' handler, never with `net.Server.maxConnections` (a
   * cluster worker refusing handles that way makes the primary hand them round forever).
   */
  maxConnections?: number;
  /** Called when a socket is refused over `maxConnections`, with the total refused so far. */
  onRefused?: (total: number) => void;
}

/** A listening server with graceful shutdown. */
export interface H2Server {
  readonly server: net.Server;
  /** Sessions currently open. */
  readonly sessions: ReadonlySet<Session>;
  /** Stops accepting, drains every session with GOAWAY, resolves when all sockets closed. */
  close(): Promise<void>;
  /** What the open connections hold, summed (every count is 0 when no client is connected). */
  stats(): ServerStats;
}

/** {@link H2Server.stats}: sockets and the stream records of every layer. */
export interface ServerStats extends StreamCounts {
  /** Sockets accepted and not yet closed (sessions and connections still being sniffed). */
  connections: number;
  /** HTTP/2 sessions. */
  sessions: number;
  /** Sockets closed at accept because `maxConnections` were open. */
  refused: number;
}

/**
 * TLS for HTTP/2: 1.2 or later, and for 1.2 only ephemeral key exchange with AEAD ciphers —
 * nothing on RFC 9113 Appendix A's block list (§9.2.2). TLS 1.3 suites are all allowed.
 */
export const H2_TLS_OPTIONS: Readonly<Pick<tls.TlsOptions, 'minVersion' | 'ciphers' | 'honorCipherOrder'>> = {
  minVersion: 'TLSv1.2',
  ciphers: [
    'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
    'DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-AES256-GCM-SHA384',
  ].join(':'),
  honorCipherOrder: true,
};

/** Socket buffer mark: large enough for a few frames per write, small enough that the scheduler decides close to the wire. */
const SOCKET_HWM = 131072;

const HINT = 'This server speaks HTTP/2 only. Use h2c with prior knowledge (curl --http2-prior-knowledge),\n' +
  'an HTTP/1.1 request with "Upgrade: h2c" and "HTTP2-Settings", or TLS with ALPN h2.\n';
const RESPONSE_505 = `HTTP/1.1 505 HTTP Version Not Supported\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: ${HINT.length}\r\n\r\n${HINT}`;

/** The first octet of a TLS record carrying a handshake message (a ClientHello): RFC 8446 §5.1. */
const TLS_HANDSHAKE = 0x16;

/**
 * ALPN (RFC 7301): `h2` when offered. A client offering `http/1.1` but not `h2` gets `http/1.1`
 * and then the 505 hint (a person with `curl --http1.1` learns why); one offering neither gets
 * the `no_application_protocol` alert (RFC 7301 §3.2).
 */
function chooseAlpn({ protocols }: { protocols: string[] }): string | undefined {
  if (protocols.includes('h2')) return 'h2';
  return protocols.includes('http/1.1') ? 'http/1.1' : undefined;
}

/** What {@link sniff} needs from its server. */
interface Port {
  open(socket: net.Socket): Session;
  /** The raw socket now carries a session (over TLS, the TLS socket is the session's). */
  carries(raw: net.Socket): void;
  handshakeMs: number;
  secureContext: tls.SecureContext | undefined;
  cleartext: 'h2c' | 'redirect';
}

export function createH2Server(handler: Handler, options: H2ServerOptions = {}): H2Server {
  const sessions = new Set<Session>();
  let idle: (() => void) | undefined;
  const withSession = new WeakSet<net.Socket>();
  const port: Port = {
    open: (socket: net.Socket): Session => {
      withSession.add(socket);
      const s = new Session(socket, handler, {
        ...options,
        onClose: (info) => {
          sessions.delete(s);
          try {
            options.onClose?.(info);
          } finally {
            idle?.();
          }
        },
      });
      sessions.add(s);
      return s;
    },
    carries: (raw) => withSession.add(raw),
    handshakeMs: timerMs(options.handshakeTimeout, 10000),
    secureContext: options.tls ? tls.createSecureContext({ ...H2_TLS_OPTIONS, ...options.tls }) : undefined,
    cleartext: options.cleartext ?? 'h2c',
  };
  const cap = options.maxConnections ?? 10000;
  if (!Number.isInteger(cap) || cap < 0) throw new UsageError(`maxConnections is a whole number (0 = no cap), not ${cap}`);
  let refused = 0;
  const sockets = new Set<net.Socket>();
  // one listening socket for every client: the first octets decide what each connection is.
  // The cap is counted here, not with net.Server.maxConnections: in a cluster worker Node refuses
  // the handle over that cap and the primary hands it to the next worker, round and round.
  const server = net.createServer({ highWaterMark: SOCKET_HWM });
  server.on('connection', (socket: net.Socket) => {
    if (cap > 0 && sockets.size >= cap) {
      refused++;
      socket.on('error', () => undefined);
      socket.destroy();
      try {
        options.onRefused?.(refused);
      } catch {
        /* a logging callback's failure is not the server's */
      }
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    sniff(socket, port);
  });
  return {
    server,
    sessions,
    stats: () => {
      const t: ServerStats = { connections: sockets.size, sessions: sessions.size, refused, exchanges: 0, senderStreams: 0, schedulerStreams: 0, engineStreams: 0 };
      for (const s of sessions) {
        const c = s.counts();
        t.exchanges += c.exchanges;
        t.senderStreams += c.senderStreams;
        t.schedulerStreams += c.schedulerStreams;
        t.engineStreams += c.engineStreams;
      }
      return t;
    },
    close: () => new Promise<void>((resolve) => {
      // done when the listener is closed and every session has ended (its onClose has run)
      let listening = true;
      const check = () => {
        if (!listening && sessions.size === 0) resolve();
      };
      idle = check;
      server.close(() => {
        listening = false;
        check();
      });
      for (const s of sessions) s.shutdown();
      // sockets still being sniffed or in their TLS handshake had no request accepted: they close now
      for (const sock of sockets) if (!withSession.has(sock)) sock.destroy();
    }),
  };
}

/** An HTTP/1.1 request line (RFC 9112 §3): method SP request-target SP HTTP/1.x. */
const REQUEST_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ \S+ HTTP\/1\.[01]$/;
/** What may start a request line before its end has arrived. */
const REQUEST_LINE_START = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+( (\S+( (H(T(T(P(\/(1(\.[01]?)?)?)?)?)?)?)?)?)?)?$/;
/** Longest HTTP/1.1 head we read before giving up. */
const MAX_HTTP1_HEAD = 16384;

/**
 * Reads the first octets of a connection and decides: a TLS handshake (when the server has TLS),
 * the HTTP/2 preface (h2c with prior knowledge), an HTTP/1.1 request (Upgrade: h2c, else the 308
 * to https or the 505 hint), or neither — then, as RFC 9113 §3.4 asks, a connection error
 * PROTOCOL_ERROR: GOAWAY and close. One deadline, from accept, covers the first octets, the TLS
 * handshake and (in the session) the client's preface and SETTINGS.
 */
function sniff(socket: net.Socket, port: Port): void {
  let buffered: Buffer = Buffer.alloc(0);
  const acceptedAt = Date.now();
  // until the first octets decide (over TLS, until the handshake is done; for h2c the session
  // takes over the same deadline)
  const deadline = port.handshakeMs > 0 ? setTimeout(() => socket.destroy(), port.handshakeMs) : undefined;
  deadline?.unref();
  const stopDeadline = (): void => {
    if (deadline !== undefined) clearTimeout(deadline);
  };
  const decided = (): void => {
    stopDeadline();
    socket.off('data', onData);
  };
  const onData = (chunk: Buffer): void => {
    try {
      decide(chunk);
    } catch {
      socket.destroy(); // a bug of ours ends this socket, not the process
    }
  };
  const decide = (chunk: Buffer): void => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    if (port.secureContext !== undefined && buffered[0] === TLS_HANDSHAKE) {
      socket.off('data', onData); // the deadline runs on until the handshake is done
      secure(socket, buffered, port, acceptedAt, stopDeadline);
      return;
    }
    const h2c = port.secureContext === undefined || port.cleartext === 'h2c';
    const n = Math.min(buffered.length, CLIENT_PREFACE.length);
    if (Buffer.compare(buffered.subarray(0, n), Buffer.from(CLIENT_PREFACE.subarray(0, n))) === 0) {
      if (n < CLIENT_PREFACE.length) return; // could still be the preface
      decided();
      if (!h2c) refuse(socket, 'this port speaks HTTP/2 over TLS only');
      else port.open(socket).start(buffered, acceptedAt);
      return;
    }
    const eol = buffered.indexOf('\r\n');
    // (a CR whose LF has not arrived yet is not part of the line)
    let line = buffered.subarray(0, eol < 0 ? Math.min(buffered.length, 8192) : eol).toString('latin1');
    if (eol < 0 && line.endsWith('\r')) line = line.slice(0, -1);
    if (eol < 0 ? !REQUEST_LINE_START.test(line) || buffered.length > 8192 : !REQUEST_LINE.test(line)) {
      decided();
      refuse(socket, 'invalid connection preface');
      return;
    }
    const end = buffered.indexOf('\r\n\r\n');
    if (end < 0) {
      if (buffered.length > MAX_HTTP1_HEAD) {
        decided();
        endAndLinger(socket, 'HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      }
      return;
    }
    decided();
    const head = buffered.subarray(0, end).toString('latin1').split('\r\n');
    const [method = '', path = '/'] = head[0]!.split(' ');
    const fields: HeaderField[] = [];
    for (const l of head.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) fields.push([l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()]);
    }
    const get = (k: string) => fields.find(([name]) => name === k)?.[1];
    const upgrade = get('upgrade')?.toLowerCase().split(/\s*,\s*/).includes('h2c');
    const settings = get('http2-settings');
    const hasBody = Number(get('content-length') ?? 0) > 0 || get('transfer-encoding') !== undefined;
    if (h2c && upgrade && settings !== undefined && !hasBody) {
      if (!validUpgradeSettings(settings)) {
        // RFC 7540 §3.2.1: the server must not upgrade with a bad HTTP2-Settings
        endAndLinger(socket, 'HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: 29\r\n\r\nHTTP2-Settings is not valid.\n');
        return;
      }
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n');
      const headers = fields.filter(([name]) => !['connection', 'upgrade', 'http2-settings', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'te'].includes(name))
        .map(([name, v]): HeaderField => (name === 'host' ? [':authority', v] : [name, v]));
      try {
        port.open(socket).startUpgraded(settings, { method, path, headers }, buffered.subarray(end + 4), acceptedAt);
      } catch {
        socket.destroy();
      }
      return;
    }
    if (port.secureContext !== undefined) redirectToHttps(socket, get('host'), path);
    else endAndLinger(socket, RESPONSE_505);
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
  socket.on('close', stopDeadline);
}

/**
 * TLS on the accepted socket: the octets read so far go back in front of the stream, a server
 * `TLSSocket` wraps it, and once the handshake is done ALPN `h2` starts a session (with the
 * deadline counted from accept); anything else gets the 505 hint over HTTP/1.1. A failed
 * handshake closes this socket only.
 */
function secure(raw: net.Socket, first: Buffer, port: Port, acceptedAt: number, handshakeDone: () => void): void {
  raw.pause();
  raw.unshift(first);
  const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: port.secureContext, ALPNCallback: chooseAlpn, highWaterMark: SOCKET_HWM } as tls.TLSSocketOptions);
  socket.on('error', () => socket.destroy());
  // 'secure': the handshake is complete (the server-side event of a TLSSocket made by its constructor)
  socket.once('secure', () => {
    try {
      handshakeDone();
      if (socket.alpnProtocol !== 'h2') {
        endAndLinger(socket, RESPONSE_505);
        return;
      }
      port.carries(raw);
      port.open(socket).start(undefined, acceptedAt);
    } catch {
      socket.destroy();
    }
  });
}

/** A `Host` header's host: a DNS name, an IPv4 address or a bracketed IPv6 literal, without its port. */
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{0,5})?$/;

/**
 * An HTTP/1.1 request on a TLS server's port: `308 Permanent Redirect` to `https://` + the host it
 * asked for (or the address it reached) + this port + its path. `cache-control: no-store` keeps a
 * browser from remembering the redirect after the server runs without TLS on the same port.
 */
function redirectToHttps(socket: net.Socket, hostHeader: string | undefined, target: string): void {
  let host = hostHeader === undefined ? undefined : HOST.exec(hostHeader)?.[1];
  if (host === undefined) {
    const local = socket.localAddress ?? '127.0.0.1';
    host = net.isIPv6(local) ? `[${local}]` : local;
  }
  let path = target;
  if (!path.startsWith('/')) {
    try {
      const u = new URL(path); // absolute-form (RFC 9112 §3.2.2)
      path = u.pathname + u.search;
    } catch {
      path = '/'; // '*' or authority-form
    }
  }
  // octets a Location must not carry as they are
  path = path.replace(/[^\x21-\x7e]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  const location = `https://${host}:${socket.localPort}${path}`;
  const body = `This server speaks HTTP/2; over HTTP/1.1 it redirects to TLS: ${location}\n`;
  endAndLinger(socket, `HTTP/1.1 308 Permanent Redirect\r\nlocation: ${location}\r\ncache-control: no-store\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
}

/** Whether an `HTTP2-Settings` value decodes into acceptable SETTINGS (checked before the 101 goes out). */
function validUpgradeSettings(value: string): boolean {
  try {
    new H2Connection({ clientSide: false }).initiateUpgradeConnection(value);
    return true;
  } catch {
    return false;
  }
}

/** RFC 9113 §3.4: not the preface — our SETTINGS, GOAWAY PROTOCOL_ERROR, and the socket closes. */
function refuse(socket: net.Socket, why: string): void {
  const c = new H2Connection({ clientSide: false });
  c.initiateConnection();
  c.closeConnection(ErrorCode.PROTOCOL_ERROR, { debugData: Buffer.from(why) });
  endAndLinger(socket, c.dataToSend());
}

/** Writes a last answer, stops reading, and closes the socket within a second whatever the peer does. */
function endAndLinger(socket: net.Socket, last: string | Uint8Array): void {
  socket.pause();
  socket.end(last);
  setTimeout(() => socket.destroy(), 1000).unref();
}
