/**
 * Server entry points on Node sockets. Plaintext: h2c with prior knowledge (the client preface),
 * or HTTP/1.1 `Upgrade: h2c` (RFC 7540 §3.2); any other HTTP/1.1 request gets a clear 505 with a
 * hint instead of a hang. TLS: ALPN `h2` only. Each connection is a Session; the server keeps
 * them so that `close()` can drain them all gracefully.
 */
import net from 'node:net';
import tls from 'node:tls';
import { CLIENT_PREFACE } from '../constants.js';
import type { HeaderField } from '../hpack/types.js';
import { type Handler, Session, type SessionOptions } from './session.js';

/** Options of {@link createH2Server}. */
export interface H2ServerOptions extends SessionOptions {
  /** TLS certificate and key (PEM): serve TLS with ALPN h2 instead of plaintext h2c. */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

/** A listening server with graceful shutdown. */
export interface H2Server {
  readonly server: net.Server;
  /** Sessions currently open. */
  readonly sessions: ReadonlySet<Session>;
  /** Stops accepting, drains every session with GOAWAY, resolves when all sockets closed. */
  close(): Promise<void>;
}

/** Socket buffer mark: large enough for a few frames per write, small enough that the scheduler decides close to the wire. */
const SOCKET_HWM = 131072;

const HINT = 'This server speaks HTTP/2 only. Use h2c with prior knowledge (curl --http2-prior-knowledge),\n' +
  'an HTTP/1.1 request with "Upgrade: h2c" and "HTTP2-Settings", or TLS with ALPN h2.\n';

export function createH2Server(handler: Handler, options: H2ServerOptions = {}): H2Server {
  const sessions = new Set<Session>();
  let idle: (() => void) | undefined;
  const withSession = new WeakSet<net.Socket>();
  const open = (socket: net.Socket): Session => {
    withSession.add(socket);
    const s = new Session(socket, handler, {
      ...options,
      onClose: (info) => {
        sessions.delete(s);
        options.onClose?.(info);
        idle?.();
      },
    });
    sessions.add(s);
    return s;
  };
  let server: net.Server;
  if (options.tls) {
    server = tls.createServer({ ...options.tls, ALPNProtocols: ['h2'], highWaterMark: SOCKET_HWM }, (socket) => {
      if (socket.alpnProtocol !== 'h2') {
        socket.end(`HTTP/1.1 505 HTTP Version Not Supported\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: ${HINT.length}\r\n\r\n${HINT}`);
        return;
      }
      open(socket).start();
    });
  } else {
    server = net.createServer({ highWaterMark: SOCKET_HWM }, (socket) => sniff(socket, open));
  }
  const sockets = new Set<net.Socket>();
  server.on(options.tls ? 'secureConnection' : 'connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return {
    server,
    sessions,
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
      // sockets still being sniffed (no session yet) just close
      for (const sock of sockets) if (!withSession.has(sock)) sock.end();
    }),
  };
}

/** Reads the first bytes of a plaintext connection and decides: h2 preface, Upgrade: h2c, or 505. */
function sniff(socket: net.Socket, open: (s: net.Socket) => Session): void {
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    buffered = Buffer.concat([buffered, chunk]);
    const n = Math.min(buffered.length, CLIENT_PREFACE.length);
    if (Buffer.compare(buffered.subarray(0, n), Buffer.from(CLIENT_PREFACE.subarray(0, n))) === 0) {
      if (n < CLIENT_PREFACE.length) return; // could still be the preface
      socket.off('data', onData);
      open(socket).start(buffered);
      return;
    }
    const end = buffered.indexOf('\r\n\r\n');
    if (end < 0) {
      if (buffered.length > 16384) socket.destroy();
      return;
    }
    socket.off('data', onData);
    const head = buffered.subarray(0, end).toString('latin1').split('\r\n');
    const [method = '', path = '/'] = head[0]!.split(' ');
    const fields: HeaderField[] = [];
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) fields.push([line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()]);
    }
    const get = (k: string) => fields.find(([n]) => n === k)?.[1];
    const upgrade = get('upgrade')?.toLowerCase().split(/\s*,\s*/).includes('h2c');
    const settings = get('http2-settings');
    const hasBody = Number(get('content-length') ?? 0) > 0 || get('transfer-encoding') !== undefined;
    if (upgrade && settings !== undefined && !hasBody) {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n');
      const headers = fields.filter(([n]) => !['connection', 'upgrade', 'http2-settings', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'te'].includes(n))
        .map(([n, v]): HeaderField => (n === 'host' ? [':authority', v] : [n, v]));
      try {
        open(socket).startUpgraded(settings, { method, path, headers }, buffered.subarray(end + 4));
      } catch {
        socket.destroy();
      }
      return;
    }
    socket.end(`HTTP/1.1 505 HTTP Version Not Supported\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: ${HINT.length}\r\n\r\n${HINT}`);
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
}
