/**
 * Server entry points on Node sockets. Plaintext: h2c with prior knowledge (the client preface),
 * or HTTP/1.1 `Upgrade: h2c` (RFC 7540 §3.2); any other HTTP/1.1 request gets a clear 505 with a
 * hint instead of a hang, and octets that are neither get GOAWAY PROTOCOL_ERROR (RFC 9113 §3.4).
 * TLS: 1.2 or later, ciphers allowed by RFC 9113 §9.2.2, ALPN `h2` only. Each connection is a
 * Session; the server keeps them so that `close()` can drain them all gracefully, and `stats()`
 * tells what they hold.
 */
import net from 'node:net';
import tls from 'node:tls';
import { CLIENT_PREFACE, ErrorCode } from '../constants.js';
import { H2Connection } from '../connection/connection.js';
import type { HeaderField } from '../hpack/types.js';
import { type StreamCounts, timerMs } from './endpoint.js';
import { type Handler, Session, type SessionOptions } from './session.js';

/** Options of {@link createH2Server}. */
export interface H2ServerOptions extends SessionOptions {
  /** TLS certificate and key (PEM): serve TLS with ALPN h2 instead of plaintext h2c. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * Sockets open at once (sessions, handshakes and sniffing included); beyond it a new socket is
   * closed at accept and counted (`stats().refused`, `onRefused`). Default 10000; 0 = no cap.
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
  let server: net.Server;
  if (options.tls) {
    // the TLS handshake has handshakeTimeout (Node closes the socket after it: tlsClientError)
    const handshakeTimeout = handshakeMs > 0 ? handshakeMs : 2 ** 31 - 1;
    server = tls.createServer({ ...H2_TLS_OPTIONS, ...options.tls, ALPNProtocols: ['h2'], highWaterMark: SOCKET_HWM, handshakeTimeout }, (socket) => {
      if (socket.alpnProtocol !== 'h2') {
        endAndLinger(socket, `HTTP/1.1 505 HTTP Version Not Supported\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: ${HINT.length}\r\n\r\n${HINT}`);
        return;
      }
      open(socket).start();
    });
  } else {
    server = net.createServer({ highWaterMark: SOCKET_HWM }, (socket) => sniff(socket, open, handshakeMs));
  }
  // Node closes sockets beyond maxConnections at accept and says so with 'drop'
  const cap = options.maxConnections ?? 10000;
  if (cap > 0) server.maxConnections = cap;
  let refused = 0;
  server.on('drop', () => {
    refused++;
    try {
      options.onRefused?.(refused);
    } catch {
      /* a logging callback's failure is not the server's */
    }
  });
  const sockets = new Set<net.Socket>();
  server.on(options.tls ? 'secureConnection' : 'connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // a TLS handshake that fails never becomes a connection: its socket is closed, nothing escapes
  server.on('tlsClientError', (_e: Error, socket: net.Socket) => socket.destroy());
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
      // sockets still being sniffed (no session yet) had no request accepted: they close now
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
 * Reads the first bytes of a plaintext connection and decides: the HTTP/2 preface (h2c with prior
 * knowledge), an HTTP/1.1 request (Upgrade: h2c, or the 505 hint), or neither — then, as RFC 9113
 * §3.4 asks, a connection error PROTOCOL_ERROR: GOAWAY and close.
 */
function sniff(socket: net.Socket, open: (s: net.Socket) => Session, handshakeMs: number): void {
  let buffered: Buffer = Buffer.alloc(0);
  const acceptedAt = Date.now();
  // until the first octets decide (and, for h2c, the session takes over the same deadline)
  const deadline = handshakeMs > 0 ? setTimeout(() => socket.destroy(), handshakeMs) : undefined;
  deadline?.unref();
  const decided = (): void => {
    if (deadline !== undefined) clearTimeout(deadline);
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
    const n = Math.min(buffered.length, CLIENT_PREFACE.length);
    if (Buffer.compare(buffered.subarray(0, n), Buffer.from(CLIENT_PREFACE.subarray(0, n))) === 0) {
      if (n < CLIENT_PREFACE.length) return; // could still be the preface
      decided();
      open(socket).start(buffered, acceptedAt);
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
    if (upgrade && settings !== undefined && !hasBody) {
      if (!validUpgradeSettings(settings)) {
        // RFC 7540 §3.2.1: the server must not upgrade with a bad HTTP2-Settings
        endAndLinger(socket, 'HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: 29\r\n\r\nHTTP2-Settings is not valid.\n');
        return;
      }
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n');
      const headers = fields.filter(([name]) => !['connection', 'upgrade', 'http2-settings', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'te'].includes(name))
        .map(([name, v]): HeaderField => (name === 'host' ? [':authority', v] : [name, v]));
      try {
        open(socket).startUpgraded(settings, { method, path, headers }, buffered.subarray(end + 4), acceptedAt);
      } catch {
        socket.destroy();
      }
      return;
    }
    endAndLinger(socket, `HTTP/1.1 505 HTTP Version Not Supported\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: ${HINT.length}\r\n\r\n${HINT}`);
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
  socket.on('close', () => { if (deadline !== undefined) clearTimeout(deadline); });
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
