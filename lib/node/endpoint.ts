/**
 * The socket loop shared by server sessions and clients: reads feed the engine, the sender
 * schedules bodies, writes respect the socket's back-pressure ('drain'), a missing SETTINGS ACK
 * and an idle connection time out, and a GOAWAY drain ends the socket once the last stream is done.
 * Errors stay inside the connection: a ConnectionError from the peer's bytes sends its GOAWAY and
 * closes this socket only.
 */
import type { Socket } from 'node:net';
import { ErrorCode } from '../constants.js';
import { ConnectionError } from '../errors.js';
import type { H2Event } from '../events.js';
import { H2Connection, type H2ConnectionOptions } from '../connection/connection.js';
import type { SchedulerName } from '../priority/scheduler.js';
import { Sender } from '../sender/sender.js';

/** Options shared by server sessions and clients. */
export interface EndpointOptions {
  /** Send scheduler for bodies. Default `'tree'`. */
  scheduler?: SchedulerName;
  /** Engine options (the role is set by the endpoint). The outbound high-water mark defaults to 64 KiB here. */
  connection?: H2ConnectionOptions;
  /** Close with SETTINGS_TIMEOUT when our SETTINGS stay unacknowledged this long (ms). Default 10000. */
  settingsTimeout?: number;
  /** Close gracefully after this long without any frame while no stream is open (ms); 0 = never. */
  idleTimeout?: number;
}

/** Counts for a log line, passed when the endpoint ends. */
export interface EndpointStats {
  requests: number;
  bytesIn: number;
  bytesOut: number;
  error?: string;
}

export abstract class Endpoint {
  readonly conn: H2Connection;
  readonly sender: Sender;
  protected closed = false;
  protected readonly stats: EndpointStats = { requests: 0, bytesIn: 0, bytesOut: 0 };
  private blocked = false;
  private scheduled = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly settingsTimer: NodeJS.Timeout;

  protected constructor(protected readonly socket: Socket, clientSide: boolean, private readonly endpointOptions: EndpointOptions, idleDefault: number) {
    // A small outbound buffer keeps scheduling decisions close to the wire.
    this.conn = new H2Connection({ outboundHighWaterMark: 65536, ...endpointOptions.connection, clientSide });
    this.sender = new Sender(this.conn, { scheduler: endpointOptions.scheduler ?? 'tree', onWritable: () => this.schedule() });
    this.idleMs = endpointOptions.idleTimeout ?? idleDefault;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.blocked = false;
      this.flush();
      this.maybeEnd();
    });
    socket.on('error', (e) => this.finish(e.message));
    socket.on('close', () => this.finish());
    this.settingsTimer = setTimeout(() => {
      if (this.conn.localSettings.unacknowledged > 0) this.abort(ErrorCode.SETTINGS_TIMEOUT, 'SETTINGS not acknowledged');
    }, endpointOptions.settingsTimeout ?? 10000);
    this.settingsTimer.unref();
  }

  private readonly idleMs: number;

  /** Reacts to the engine's events (the sender has seen them already). */
  protected abstract handleEvents(events: H2Event[]): void;
  /** Called once when the socket is done, with the reason when it was an error. */
  protected abstract onFinish(error?: string): void;

  /** Octets this connection holds for the peer: body queues, the engine's buffer, the socket's. */
  get bufferedOctets(): number {
    return this.sender.queuedTotal + this.conn.outboundBufferSize + this.socket.writableLength;
  }

  /** Octets written to the socket so far. */
  get bytesOut(): number {
    return this.stats.bytesOut;
  }

  /** True once the socket is closed or closing. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Graceful shutdown: GOAWAY, then close once the open streams end. */
  shutdown(): void {
    if (this.closed) return;
    try {
      this.conn.closeConnection(ErrorCode.NO_ERROR);
    } catch {
      /* already closed */
    }
    this.flush();
    this.maybeEnd();
  }

  /** Ends at once: GOAWAY with `code`, then the socket closes. */
  abort(code: number, why: string): void {
    try {
      this.conn.closeConnection(code, { debugData: Buffer.from(why) });
    } catch {
      /* closed */
    }
    this.flush();
    this.finish(why);
    this.socket.end();
  }

  /** @internal Returns flow-control credit for `n` inbound octets of `streamId` the application has read. */
  credit(streamId: number, n: number): void {
    if (this.closed) return;
    try {
      this.conn.acknowledgeReceivedData(n, streamId);
    } catch {
      // the connection went away meanwhile
    }
    this.schedule();
  }

  /** Resets a stream from our side: RST_STREAM, and the sender drops its queue. */
  protected resetLocal(streamId: number, code: number): void {
    try {
      this.conn.resetStream(streamId, code);
      this.sender.handle([{ type: 'StreamReset', streamId, errorCode: code, initiator: 'local' }]);
    } catch {
      /* already closed */
    }
    this.schedule();
  }

  protected onData(chunk: Uint8Array): void {
    try {
      this.receive(chunk);
    } catch (e) {
      // whatever escaped (a bug of ours or of a handler's synchronous code) ends this connection only
      if (!this.closed) this.abort(ErrorCode.INTERNAL_ERROR, `internal error: ${(e as Error)?.message ?? String(e)}`);
    }
  }

  private receive(chunk: Uint8Array): void {
    if (this.closed) return;
    this.stats.bytesIn += chunk.length;
    this.touch();
    let events: H2Event[];
    try {
      events = this.conn.receiveData(chunk);
    } catch (e) {
      if (!(e instanceof ConnectionError)) throw e;
      this.sender.handle(e.events as H2Event[]);
      this.handleEvents(e.events as H2Event[]);
      this.flush();
      this.finish(e.message);
      this.socket.end();
      return;
    }
    this.sender.handle(events);
    this.handleEvents(events);
    this.flush();
    this.maybeEnd();
  }

  /** Flushes soon (once per microtask turn, however many callers ask). */
  protected schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.flush();
      this.maybeEnd();
    });
  }

  /**
   * Moves bytes to the socket. The sender stops at the engine's high-water mark, so this loops
   * until the socket pushes back ('drain' resumes) or nothing is left; stopping after one round
   * would leave the rest waiting for the next inbound frame.
   */
  protected flush(): void {
    const socket = this.socket;
    // after end() (drain finished, or an error answered) nothing more may be written
    while (!this.closed && !this.blocked && !socket.writableEnded) {
      this.sender.flush();
      const pieces = this.conn.dataToSendPieces();
      if (pieces.length === 0) return;
      // a vectored write of the pieces as they are: body views are not copied on our side
      let ok = true;
      if (pieces.length > 1) socket.cork();
      for (const p of pieces) {
        this.stats.bytesOut += p.length;
        ok = socket.write(p);
      }
      if (pieces.length > 1) socket.uncork();
      if (!ok) this.blocked = true;
    }
  }

  /** After a GOAWAY either way, ends the socket once no stream is open and everything was written. */
  protected maybeEnd(): void {
    if (this.closed) return;
    const draining = this.conn.goawaySent !== undefined || this.conn.goawayReceived !== undefined;
    if (draining && this.conn.openInboundStreams + this.conn.openOutboundStreams === 0 && this.conn.outboundBufferSize === 0) {
      this.socket.end();
    }
  }

  protected touch(): void {
    if (this.idleMs <= 0) return;
    if (this.idleTimer) this.idleTimer.refresh();
    else {
      this.idleTimer = setTimeout(() => {
        if (this.conn.openInboundStreams + this.conn.openOutboundStreams === 0) this.shutdown();
        else this.touch();
      }, this.idleMs);
      this.idleTimer.unref();
    }
  }

  protected finish(error?: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.settingsTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (error !== undefined) this.stats.error = error;
    this.onFinish(error);
  }
}
