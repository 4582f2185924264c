/**
 * Server entry points on Node sockets. One port serves every client; the first octets decide:
 * - a TLS handshake record (0x16, a ClientHello), when `tls` is given: TLS 1.2 or later, ciphers
 *   allowed by RFC 9113 §9.2.2, ALPN `h2` (a client offering only `http/1.1`, or no ALPN, gets an
 *   HTTP/1.1 505 with a hint; one offering neither gets the `no_application_protocol` alert);
 * - the HTTP/2 connection preface: h2c with prior knowledge (RFC 9113 §3.3);
 * - an HTTP/1.1 request with `Upgrade: h2c` (RFC 7540 §3.2): upgraded;
 * - any other HTTP/1.1 request: with `tls`, 308 to the `https://` URL of the same host, port and
 *   path; without, 505 with a hint instead of a hang; a malformed one (no or several `Host`
 *   fields, an invalid `Host`, a request target that is neither a path nor an http(s) URL, an
 *   invalid `Content-Length`, a bad field line) gets 400 (RFC 9112 §3.2, §3.2.2, §5, §6.3);
 * - anything else: GOAWAY PROTOCOL_ERROR (RFC 9113 §3.4).
 * TLS connections are handed to a `tls.Server` that never listens (its 'secureConnection' and
 * 'tlsClientError' events, TLS errors after the handshake on the socket); renegotiation is refused
 * (RFC 9113 §9.2.1: GOAWAY PROTOCOL_ERROR), a corrupt record closes the connection at once.
 * Each connection is a Session; the server keeps them so that `close()` can drain them all
 * gracefully, and `stats()` tells what they hold.
 */
import net from 'node:net';
import tls from 'node:tls';
import { CLIENT_PREFACE, ErrorCode } from '../constants.js';
import { H2Connection } from '../connection/connection.js';
import type { HeaderField } from '../hpack/types.js';
import { UsageError } from '../errors.js';
import { connectionWindowOf, MAX_TIMER, type StreamCounts, timerMs } from './endpoint.js';
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
   *   with `Upgrade: h2c`, `Connection: Upgrade, HTTP2-Settings` and one `HTTP2-Settings` is
   *   upgraded, and any other HTTP/1.1 request gets `308 Permanent Redirect` (with
   *   `cache-control: no-store`) to `https://` + the host it asked for (an absolute-form target's
   *   authority, else its `Host`, else the address it reached) + that authority's port (else this
   *   port) + its path.
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
  handshakeMs: number;
  /** Takes a raw socket whose first octets (put back in front of it) are a TLS handshake. */
  tls: ((raw: net.Socket, sniffed: Sniffed) => void) | undefined;
  cleartext: 'h2c' | 'redirect';
}

/** What the sniffing of a socket hands to the TLS server: when it was accepted, and how to stop its deadline. */
interface Sniffed {
  acceptedAt: number;
  handshakeDone: () => void;
}

export function createH2Server(handler: Handler, options: H2ServerOptions = {}): H2Server {
  const sessions = new Set<Session>();
  let idle: (() => void) | undefined;
  const withSession = new WeakSet<net.Socket>();
  const handshakeMs = timerMs(options.handshakeTimeout, 10000);
  const open = (socket: net.Socket): Session => {
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
  };
  const port: Port = {
    open,
    handshakeMs,
    tls: options.tls ? tlsPort(options.tls, handshakeMs, open, (raw) => withSession.add(raw)) : undefined,
    cleartext: options.cleartext ?? 'h2c',
  };
  connectionWindowOf(options.connectionWindow); // a bad value fails here, not per connection
  const cap = options.maxConnections ?? 10000;
  if (!Number.isInteger(cap) || cap < 0) throw new UsageError(`maxConnections is a whole number (0 = no cap), not ${String(cap)}`);
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
 * to https or the 505 hint, or 400 when it is malformed), or neither — then, as RFC 9113 §3.4
 * asks, a connection error PROTOCOL_ERROR: GOAWAY and close. One deadline, from accept, covers
 * the first octets, the TLS handshake and (in the session) the client's preface and SETTINGS.
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
    if (port.tls !== undefined && buffered[0] === TLS_HANDSHAKE) {
      socket.off('data', onData); // the deadline runs on until the handshake is done
      socket.pause();
      socket.unshift(buffered);
      port.tls(socket, { acceptedAt, handshakeDone: stopDeadline });
      return;
    }
    const h2c = port.tls === undefined || port.cleartext === 'h2c';
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
    http1(socket, port, h2c, buffered.subarray(0, end).toString('latin1'), buffered.subarray(end + 4), acceptedAt);
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
  socket.on('close', stopDeadline);
}

/** A field name: a token (RFC 9110 §5.1). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A field value: visible octets, obs-text, SP and HTAB; no other control (RFC 9110 §5.5). */
const FIELD_VALUE = /^[\x20\x09\x21-\x7e\x80-\xff]*$/;
/** Octets a request target never carries: controls (RFC 9112 §3.2). */
const TARGET_CTL = /[\x00-\x20\x7f]/;
/** Connection-specific fields an upgraded request does not carry into HTTP/2 (RFC 9113 §8.2.2). */
const HOP_BY_HOP = new Set(['connection', 'upgrade', 'http2-settings', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'te', 'host']);

/** A request's target, classified (RFC 9112 §3.2). */
type Target =
  | { form: 'origin'; path: string; authority?: undefined }
  | { form: 'absolute'; path: string; authority: Authority }
  | { form: 'asterisk'; path: '*'; authority?: undefined };

/** A validated host and its port as the client wrote them. */
interface Authority {
  /** A DNS name, an IPv4 address, or a bracketed IPv6 literal. */
  host: string;
  /** The port written after it, when there was one. */
  port: number | undefined;
}

/** A `Host` value or an http(s) URI's authority: a DNS name, an IPv4 address or a bracketed IPv6 literal, then an optional port; nothing else (no userinfo). */
const AUTHORITY = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]{1,253}))(?::(\d{0,5}))?$/;

/** `value` as host and port (RFC 3986 §3.2.2–3, the subset a browser or curl sends), or undefined when it is not one. */
function parseAuthority(value: string): Authority | undefined {
  const m = AUTHORITY.exec(value);
  if (m === null) return undefined;
  if (m[1] !== undefined && !net.isIPv6(m[1])) return undefined;
  const port = m[3] === undefined || m[3] === '' ? undefined : Number(m[3]);
  if (port !== undefined && port > 65535) return undefined;
  return { host: m[1] !== undefined ? `[${m[1]}]` : m[2]!, port };
}

/** The target's form, or undefined when it is one this port cannot answer (authority-form, another scheme, userinfo, a fragment, controls): 400. */
function classifyTarget(method: string, target: string): Target | undefined {
  if (TARGET_CTL.test(target) || target.includes('#')) return undefined;
  if (target.startsWith('/')) return { form: 'origin', path: target };
  if (target === '*') return method === 'OPTIONS' ? { form: 'asterisk', path: '*' } : undefined;
  const m = /^https?:\/\/([^/?]*)(.*)$/i.exec(target);
  if (m === null) return undefined;
  const authority = parseAuthority(m[1]!);
  if (authority === undefined) return undefined;
  const rest = m[2]!;
  return { form: 'absolute', authority, path: rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest };
}

/** The comma-separated tokens of every field named `name`, lowercased (RFC 9110 §5.6.1). */
function tokens(fields: readonly HeaderField[], name: string): string[] {
  const out: string[] = [];
  for (const [n, v] of fields) {
    if (n !== name) continue;
    for (const t of v.split(',')) {
      const x = t.trim().toLowerCase();
      if (x !== '') out.push(x);
    }
  }
  return out;
}

/**
 * A whole HTTP/1.x request head on the one port: `Upgrade: h2c` (RFC 7540 §3.2) when allowed and
 * asked for as RFC 9110 §7.8 says, else the 308 to https (or the 505 hint without TLS); 400 for a
 * malformed request (RFC 9112 §3.2: a missing, repeated or invalid `Host`; a target this port does
 * not answer; a bad field line; an invalid `Content-Length`, §6.3).
 */
function http1(socket: net.Socket, port: Port, h2c: boolean, head: string, rest: Buffer, acceptedAt: number): void {
  const lines = head.split('\r\n');
  const [method = '', target = '', version = ''] = lines[0]!.split(' ');
  const fields: HeaderField[] = [];
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    const colon = l.indexOf(':');
    const name = l.slice(0, colon);
    const value = l.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    // no colon, space before it, obs-fold, a bare CR or LF, a control in the value: RFC 9112 §5
    if (colon <= 0 || !TOKEN.test(name) || !FIELD_VALUE.test(value)) return badRequest(socket, 'a header field line is malformed');
    fields.push([name.toLowerCase(), value]);
  }
  const hosts = fields.filter(([n]) => n === 'host');
  const http11 = version === 'HTTP/1.1';
  if (hosts.length === 0 && http11) return badRequest(socket, 'an HTTP/1.1 request needs a Host header field');
  if (hosts.length > 1) return badRequest(socket, 'the request has more than one Host header field');
  const host = hosts.length === 1 ? parseAuthority(hosts[0]![1]) : undefined;
  if (hosts.length === 1 && host === undefined) return badRequest(socket, 'the Host header field is not a valid host[:port]');
  const lengths = tokens(fields, 'content-length');
  if (lengths.some((l) => !/^\d{1,15}$/.test(l) || Number(l) !== Number(lengths[0]))) return badRequest(socket, 'the Content-Length header field is not valid');
  const t = classifyTarget(method, target);
  if (t === undefined) return badRequest(socket, 'the request target is neither a path nor an http(s) URL');
  // RFC 9112 §3.2.2: an absolute-form target's authority wins over Host
  const authority = t.authority ?? host;

  // Upgrade: h2c — not in HTTP/1.0 (RFC 9110 §7.8), only when listed in Connection with HTTP2-Settings (RFC 7540 §3.2)
  const connection = tokens(fields, 'connection');
  const asksUpgrade = h2c && http11 && tokens(fields, 'upgrade').includes('h2c') && connection.includes('upgrade') && connection.includes('http2-settings');
  const settings = fields.filter(([n]) => n === 'http2-settings');
  const hasBody = (lengths.length > 0 && Number(lengths[0]) > 0) || fields.some(([n]) => n === 'transfer-encoding');
  if (asksUpgrade && settings.length > 0 && !hasBody) {
    // RFC 7540 §3.2.1: exactly one HTTP2-Settings, and a valid one, or no upgrade
    if (settings.length > 1) return badRequest(socket, 'the request has more than one HTTP2-Settings header field');
    if (!validUpgradeSettings(settings[0]![1])) return badRequest(socket, 'HTTP2-Settings is not valid');
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n');
    const headers: HeaderField[] = [];
    if (authority !== undefined) headers.push([':authority', authority.port === undefined ? authority.host : `${authority.host}:${authority.port}`]);
    for (const [n, v] of fields) if (!HOP_BY_HOP.has(n)) headers.push([n, v]);
    try {
      port.open(socket).startUpgraded(settings[0]![1], { method, path: t.path, headers }, rest, acceptedAt);
    } catch {
      socket.destroy();
    }
    return;
  }
  if (port.tls === undefined) return endAndLinger(socket, RESPONSE_505);
  if (t.form === 'asterisk') return badRequest(socket, 'OPTIONS * has nothing to redirect to');
  redirectToHttps(socket, authority, t.path);
}

/** 400 with a line saying why, and the socket closes (RFC 9112 §3.2). */
function badRequest(socket: net.Socket, why: string): void {
  const body = `${why}.\n`;
  endAndLinger(socket, `HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
}

/**
 * The raw socket under a server `TLSSocket`, among those handed to the TLS server: Node keeps it
 * as `_parent`; failing that, the one with the same peer address and port (one TCP connection).
 */
function rawOf(socket: tls.TLSSocket, pending: ReadonlyMap<net.Socket, Sniffed>): net.Socket | undefined {
  const parent = (socket as unknown as { _parent?: unknown })._parent;
  if (parent instanceof net.Socket && pending.has(parent)) return parent;
  for (const raw of pending.keys()) if (raw.remotePort === socket.remotePort && raw.remoteAddress === socket.remoteAddress) return raw;
  return undefined;
}

/**
 * TLS on accepted sockets: a `tls.Server` that never listens takes each one (`emit('connection')`,
 * the octets sniffed put back in front of it), so that its TLS errors are events — a failed
 * handshake is 'tlsClientError' (the socket closes), and after the handshake a TLS error (a corrupt
 * record, renegotiation) is the socket's 'error'. Renegotiation is disabled (RFC 9113 §9.2.1: a
 * connection error PROTOCOL_ERROR, so a GOAWAY PROTOCOL_ERROR goes out when it still can); any
 * other TLS error closes the socket at once. Once the handshake is done ALPN `h2` starts a session
 * (with the deadline counted from accept); `http/1.1` gets the 505 hint.
 */
function tlsPort(material: { cert: string | Buffer; key: string | Buffer }, handshakeMs: number, open: (socket: net.Socket) => Session, carries: (raw: net.Socket) => void): (raw: net.Socket, sniffed: Sniffed) => void {
  const server = tls.createServer({
    ...H2_TLS_OPTIONS,
    ...material,
    ALPNCallback: chooseAlpn,
    // our deadline from accept closes the raw socket first; this is only a backstop
    handshakeTimeout: handshakeMs > 0 ? handshakeMs : MAX_TIMER,
  });
  // sockets in their handshake (each leaves at its end or when it closes)
  const pending = new Map<net.Socket, Sniffed>();
  server.on('tlsClientError', (_e: Error, socket: tls.TLSSocket) => socket.destroy());
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    const raw = rawOf(socket, pending);
    const sniffed = raw === undefined ? undefined : pending.get(raw);
    if (raw !== undefined) pending.delete(raw);
    let session: Session | undefined;
    socket.on('error', (e: NodeJS.ErrnoException) => {
      // (registered before the session's own listener: the GOAWAY goes out before it ends)
      if ((e.code === 'ERR_TLS_RENEGOTIATION_DISABLED' || e.code === 'ERR_TLS_SESSION_ATTACK') && session !== undefined && !session.isClosed) {
        session.abort(ErrorCode.PROTOCOL_ERROR, 'TLS renegotiation is not allowed (RFC 9113 §9.2.1)');
        return;
      }
      socket.destroy(); // a TLS error: nothing more can be said on this connection
    });
    try {
      sniffed?.handshakeDone();
      socket.disableRenegotiation();
      if (socket.alpnProtocol !== 'h2') {
        endAndLinger(socket, RESPONSE_505);
        return;
      }
      if (raw !== undefined) carries(raw);
      session = open(socket);
      session.start(undefined, sniffed?.acceptedAt ?? Date.now());
    } catch {
      socket.destroy();
    }
  });
  return (raw, sniffed) => {
    pending.set(raw, sniffed);
    raw.once('close', () => pending.delete(raw));
    server.emit('connection', raw);
  };
}

/**
 * An HTTP/1.1 request on a TLS server's port: `308 Permanent Redirect` to `https://` + the host it
 * asked for (or the address it reached) + the port it asked for (else this port) + its path.
 * `cache-control: no-store` keeps a browser from remembering the redirect after the server runs
 * without TLS on the same port.
 */
function redirectToHttps(socket: net.Socket, authority: Authority | undefined, target: string): void {
  let host = authority?.host;
  if (host === undefined) {
    const local = socket.localAddress ?? '127.0.0.1';
    host = net.isIPv6(local) ? `[${local}]` : local;
  }
  // the port the client used (behind a port mapping it is not ours), else ours
  const portNumber = authority?.port ?? socket.localPort;
  // octets a Location must not carry as they are
  const path = target.replace(/[^\x21-\x7e]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  const location = `https://${host}:${portNumber}${path}`;
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
