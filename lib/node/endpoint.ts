/**
 * The socket loop shared by server sessions and clients: reads feed the engine, the sender
 * schedules bodies, writes respect the socket's back-pressure ('drain'), a missing SETTINGS ACK
 * and an idle connection time out, and a GOAWAY drain ends the socket once the last stream is done.
 *
 * Every callback registered here (socket events, the scheduled flush, timers) runs under the
 * connection's guard: whatever escapes — a bug of ours, a handler's synchronous throw — ends this
 * connection with GOAWAY INTERNAL_ERROR, never the process. A connection that failed stops
 * reading, sends its GOAWAY, ends, and is destroyed after `lingerMs` whatever the peer does; a
 * graceful drain has a hard deadline (`drainTimeoutMs`). When the socket closes, `onFinish`
 * releases every stream (sources destroyed, promises settled) exactly once.
 */
import type { Socket } from 'node:net';
import { ErrorCode, MAX_INT31 } from '../constants.js';
import { ConnectionError, UsageError } from '../errors.js';
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
  /**
   * After a fatal error (ours or the peer's) the GOAWAY is sent and the socket ended; it is
   * destroyed after this long (ms) even if the peer keeps it open. Default 1000.
   */
  lingerMs?: number;
  /**
   * A graceful drain (`shutdown()`, server `close()`) lasts at most this long (ms); then the
   * streams still open are reset (CANCEL) and the socket closed. Default 30000; 0 = no deadline.
   */
  drainTimeoutMs?: number;
  /**
   * A header block (HEADERS or PUSH_PROMISE without END_HEADERS) must be completed by its
   * CONTINUATION frames within this long (ms), else connection error PROTOCOL_ERROR: an open
   * block stops every other stream of the connection. Default 10000; 0 = no deadline.
   */
  headerTimeout?: number;
  /**
   * A response that cannot progress because the peer keeps the stream's or the connection's
   * window at 0 for this long (ms) is reset (CANCEL), like nginx's `send_timeout`; a socket that
   * accepts nothing for this long is closed. Default 60000; 0 = no deadline.
   */
  sendTimeout?: number;
  /**
   * The connection's receive window (octets): how much body all streams together may have in
   * flight while the application has not read it. A body nobody reads holds at most its stream's
   * window (SETTINGS_INITIAL_WINDOW_SIZE, 65,535 by default), so the default of 1 MiB leaves room
   * for 16 such streams before the others wait. Raised with a WINDOW_UPDATE after our SETTINGS;
   * 65,535 (the RFC's initial size) sends none. At most 2^31-1.
   */
  connectionWindow?: number;
}

/** Default {@link EndpointOptions.connectionWindow}: 16 stream windows of 64 KiB. */
export const DEFAULT_CONNECTION_WINDOW: number = 1 << 20;

/**
 * The connection window option, checked.
 * @throws UsageError outside 65,535..2^31-1 or not a whole number.
 */
export function connectionWindowOf(value: number | undefined): number {
  if (value === undefined) return DEFAULT_CONNECTION_WINDOW;
  if (!Number.isInteger(value) || value < 65535 || value > 0x7fffffff) throw new UsageError(`connectionWindow is a whole number of octets in 65535..2147483647, not ${String(value)}`);
  return value;
}

/** The deadlines a connection watches, resolved (0 = off). */
export interface Deadlines {
  handshakeAt: number;
  header: number;
  body: number;
  send: number;
}

/** Counts for a log line, passed when the endpoint ends. */
export interface EndpointStats {
  requests: number;
  bytesIn: number;
  bytesOut: number;
  error?: string;
}

/** What one connection holds, for tests and leak checks: every count is 0 once it is closed. */
export interface StreamCounts {
  /** Streams the application layer holds (server exchanges, client requests). */
  exchanges: number;
  /** Outbound records in the sender. */
  senderStreams: number;
  /** Streams in the send scheduler. */
  schedulerStreams: number;
  /** Live (not closed) streams in the engine. */
  engineStreams: number;
}

/** The longest delay a Node timer takes (longer ones fire after 1 ms). */
export const MAX_TIMER: number = 2 ** 31 - 1;

/**
 * A timeout option in ms: the default when absent, at most {@link MAX_TIMER} (Node would turn a
 * longer one into 1 ms).
 * @throws UsageError for a negative or non-integer value.
 */
export function timerMs(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw new UsageError(`a timeout is a whole number of milliseconds, not ${String(value)}`);
  return Math.min(value, MAX_TIMER);
}

/** The PING payload of a graceful shutdown's round trip (RFC 9113 §6.8). */
const SHUTDOWN_PING = Buffer.from('h2s-shut');

export abstract class Endpoint {
  private readonly connectionWindow: number;
  readonly conn: H2Connection;
  readonly sender: Sender;
  protected closed = false;
  protected readonly stats: EndpointStats = { requests: 0, bytesIn: 0, bytesOut: 0 };
  private blocked = false;
  private scheduled = false;
  /** Our final GOAWAY went out (or theirs came in): end once the last stream is done. */
  private draining = false;
  /** The socket is being ended after a fatal error: nothing more is read or written. */
  private terminating = false;
  private awaitingShutdownAck = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private noticeTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private readonly settingsTimer: NodeJS.Timeout;
  private readonly idleMs: number;
  private readonly lingerMs: number;
  private readonly drainMs: number;
  /** Streams whose END_STREAM the sender queued during a flush: acted on after it returns. */
  private readonly outboundDone: number[] = [];
  /** Deadlines, and the one coarse timer that checks them while there is something to watch. */
  protected readonly deadlines: Deadlines;
  private watchTimer: NodeJS.Timeout | undefined;
  /** Time of the last read (one clock reading per read, not per frame). */
  protected lastReadAt: number = Date.now();
  private headerBlockSince = 0;
  private blockedSince = 0;
  private drains = 0;
  private drainsSeen = 0;

  protected constructor(protected readonly socket: Socket, clientSide: boolean, endpointOptions: EndpointOptions, idleDefault: number) {
    // A small outbound buffer keeps scheduling decisions close to the wire.
    this.conn = new H2Connection({ outboundHighWaterMark: 65536, ...endpointOptions.connection, clientSide });
    this.sender = new Sender(this.conn, {
      scheduler: endpointOptions.scheduler ?? 'tree',
      onWritable: () => this.schedule(),
      onStreamDone: (id) => this.outboundDone.push(id),
      onDrain: (id) => this.onStreamDrain(id),
    });
    this.connectionWindow = connectionWindowOf(endpointOptions.connectionWindow);
    this.idleMs = timerMs(endpointOptions.idleTimeout, idleDefault);
    this.lingerMs = timerMs(endpointOptions.lingerMs, 1000);
    this.drainMs = timerMs(endpointOptions.drainTimeoutMs, 30000);
    this.deadlines = {
      handshakeAt: 0, // set by a server session (see startDeadline)
      header: timerMs(endpointOptions.headerTimeout, 10000),
      body: 0, // a server option (bodyTimeout)
      send: timerMs(endpointOptions.sendTimeout, 60000),
    };

    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.guarded(this.receive, chunk));
    socket.on('drain', () => this.guarded(this.onDrain, undefined));
    socket.on('error', (e: Error) => this.guarded(this.finish, e.message));
    socket.on('close', () => this.guarded(this.onSocketClose, undefined));
    this.settingsTimer = setTimeout(() => this.guarded(this.onSettingsTimeout, undefined), timerMs(endpointOptions.settingsTimeout, 10000) || MAX_TIMER);
    this.settingsTimer.unref();
  }

  /** Reacts to the engine's events (the sender has seen them already). */
  protected abstract handleEvents(events: H2Event[]): void;
  /** Called once when the connection is done, with the reason when it was an error: release every stream. */
  protected abstract onFinish(error?: string): void;
  /** Called after each flush with the streams whose END_STREAM (or trailers) went to the engine. */
  protected abstract onOutboundDone(streamId: number): void;
  /** Streams the application layer holds. */
  protected abstract get exchangeCount(): number;
  /** Checks the per-stream deadlines at `now`; true while some stream needs watching. */
  protected abstract watchStreams(now: number): boolean;
  /** A stream's body queue fell below the sender's high-water mark after `write` returned false (runs inside a flush). */
  protected onStreamDrain(_streamId: number): void {}

  /** Octets this connection holds for the peer: body queues, the engine's buffer, the socket's. */
  get bufferedOctets(): number {
    return this.sender.queuedTotal + this.conn.outboundBufferSize + this.socket.writableLength;
  }

  /** Octets written to the socket so far. */
  get bytesOut(): number {
    return this.stats.bytesOut;
  }

  /** True once the connection is closed or closing. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** What this connection holds now (all 0 once it is closed). */
  counts(): StreamCounts {
    return {
      exchanges: this.exchangeCount,
      senderStreams: this.sender.size,
      schedulerStreams: this.sender.scheduler.size,
      engineStreams: this.conn.streams.live.size,
    };
  }

  /**
   * Graceful shutdown. A server first sends GOAWAY with the last stream id 2^31-1 and a PING
   * (RFC 9113 §6.8: requests the client sent before it saw the GOAWAY are still accepted), then,
   * after that round trip, the real GOAWAY; the socket closes once the open streams end, or when
   * `drainTimeoutMs` runs out (the remaining streams are reset).
   */
  shutdown(): void {
    if (this.closed || this.draining || this.awaitingShutdownAck) return;
    try {
      if (this.conn.clientSide || this.conn.goawaySent !== undefined) this.finalGoaway();
      else {
        this.conn.closeConnection(ErrorCode.NO_ERROR, { lastStreamId: MAX_INT31 });
        this.conn.ping(SHUTDOWN_PING);
        this.awaitingShutdownAck = true;
        // a peer that never answers the PING gets the real GOAWAY anyway
        this.noticeTimer = setTimeout(() => this.guarded(this.finalGoaway, undefined), Math.max(this.lingerMs, 100));
        this.noticeTimer.unref();
      }
    } catch {
      this.finalGoaway();
    }
    if (this.drainMs > 0) {
      this.drainTimer = setTimeout(() => this.guarded(this.onDrainTimeout, undefined), this.drainMs);
      this.drainTimer.unref();
    }
    this.flush();
    this.maybeEnd();
  }

  /** Ends at once: GOAWAY with `code`, every stream released, the socket ended and destroyed after `lingerMs`. */
  abort(code: number, why: string): void {
    if (this.closed) return;
    try {
      this.conn.closeConnection(code, { debugData: Buffer.from(why.slice(0, 256)) });
    } catch {
      /* the engine is closed already */
    }
    this.terminate(why);
  }

  /** Raises the connection's receive window from the RFC's 65,535 to `connectionWindow` (after our SETTINGS). */
  protected openConnectionWindow(): void {
    const extra = this.connectionWindow - 65535;
    if (extra > 0) this.conn.incrementFlowControlWindow(extra);
  }

  /** @internal Returns flow-control credit for `n` inbound octets of `streamId` the application has read. */
  credit(streamId: number, n: number): void {
    if (this.closed || n === 0) return;
    try {
      this.conn.acknowledgeReceivedData(n, streamId);
    } catch {
      // the connection went away meanwhile
    }
    this.schedule();
  }

  /** Resets a stream from our side: RST_STREAM, and the sender drops its queue. */
  protected resetLocal(streamId: number, code: number): void {
    if (this.closed) return;
    try {
      this.conn.resetStream(streamId, code);
    } catch {
      /* already closed in the engine */
    }
    this.sender.release(streamId, `stream ${streamId} was reset (error code ${code})`);
    this.schedule();
  }

  /**
   * Runs `fn` under this connection's guard: whatever it throws ends the connection with GOAWAY
   * INTERNAL_ERROR (one error line through `onFinish`), never the process.
   */
  protected guarded<A>(fn: (this: this, arg: A) => void, arg: A): void {
    try {
      fn.call(this, arg);
    } catch (e) {
      this.crash(e);
    }
  }

  /** Something escaped: this connection ends, nothing else does. */
  protected crash(e: unknown): void {
    if (this.closed) return;
    const why = `internal error: ${e instanceof Error ? e.message : String(e)}`;
    try {
      this.abort(ErrorCode.INTERNAL_ERROR, why);
    } catch {
      this.socket.destroy();
    }
  }

  protected receive(chunk: Uint8Array): void {
    if (this.closed) return;
    this.stats.bytesIn += chunk.length;
    this.lastReadAt = Date.now();
    this.touch();
    let events: H2Event[];
    try {
      events = this.conn.receiveData(chunk);
    } catch (e) {
      if (!(e instanceof ConnectionError)) throw e;
      // the GOAWAY is queued; the events before it concern streams that die with the connection,
      // so no handler is started for them: every stream is released with this reason
      this.terminate(e.message);
      return;
    }
    this.sender.handle(events);
    if (this.awaitingShutdownAck) this.checkShutdownAck(events);
    this.handleEvents(events);
    if (this.conn.decoder.headerBlockPending) {
      if (this.headerBlockSince === 0) this.headerBlockSince = this.lastReadAt;
    } else this.headerBlockSince = 0;
    this.flush();
    this.maybeEnd();
    // only when something is watched: a read on a quiet connection arms no timer
    if (this.deadlines.handshakeAt > 0 || this.headerBlockSince > 0 || this.exchangeCount > 0) this.watch();
  }

  /** Arms the watchdog when there is something to watch (one timer per connection, re-armed). */
  protected watch(): void {
    if (this.watchTimer !== undefined || this.closed) return;
    // a quarter of the shortest deadline (20 ms .. 1 s), and never past the handshake's
    const d = this.deadlines;
    let every = 1000;
    for (const ms of [d.header, d.body, d.send]) if (ms > 0 && ms / 4 < every) every = ms / 4;
    if (d.handshakeAt > 0) every = Math.min(every, d.handshakeAt - Date.now());
    this.watchTimer = setTimeout(() => this.guarded(this.onWatch, undefined), Math.max(20, Math.floor(every)));
    this.watchTimer.unref();
  }

  private onWatch(): void {
    this.watchTimer = undefined;
    if (this.closed) return;
    const now = Date.now();
    const d = this.deadlines;
    let again = false;
    if (d.handshakeAt > 0) {
      if (now >= d.handshakeAt) {
        // nothing to tell a peer that never started: the socket just goes
        this.finish('handshake timeout: no connection preface and SETTINGS in time');
        this.socket.destroy();
        return;
      }
      again = true;
    }
    if (this.headerBlockSince > 0 && d.header > 0) {
      if (now - this.headerBlockSince >= d.header) {
        this.abort(ErrorCode.PROTOCOL_ERROR, `header block not completed within ${d.header} ms`);
        return;
      }
      again = true;
    }
    if (this.blocked && d.send > 0) {
      // progress is a 'drain' since the last look: a socket that blocks again at once is still moving
      if (this.blockedSince === 0 || this.drains !== this.drainsSeen) {
        this.blockedSince = now;
        this.drainsSeen = this.drains;
      } else if (now - this.blockedSince >= d.send) {
        this.stats.error = `the socket accepted nothing for ${d.send} ms`;
        this.finish(this.stats.error);
        this.socket.destroy();
        return;
      }
      again = true;
    } else this.blockedSince = 0;
    if (this.watchStreams(now)) again = true;
    if (again) this.watch();
  }

  /** @internal The peer's SETTINGS arrived: the handshake is complete. */
  protected handshakeDone(): void {
    this.deadlines.handshakeAt = 0;
  }

  /** A server session's handshake deadline: absolute time (ms since the epoch); 0 = none. */
  protected startDeadline(at: number): void {
    this.deadlines.handshakeAt = at;
    if (at > 0) this.watch();
  }

  /**
   * Flushes soon: once, after every read of this event-loop turn (`setImmediate`), however many
   * callers ask. Not in a microtask: the reads libuv delivers in one poll phase (a client's
   * requests split over several segments, a WINDOW_UPDATE and the next) are all applied before
   * the scheduler picks, so the first request to arrive does not take a window alone.
   */
  protected schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(this.onImmediate);
  }

  private readonly onImmediate = (): void => this.guarded(this.onScheduled, undefined);

  private onScheduled(): void {
    this.scheduled = false;
    this.flush();
    this.maybeEnd();
  }

  private onDrain(): void {
    this.drains++;
    this.blocked = false;
    this.flush();
    this.maybeEnd();
  }

  private onSettingsTimeout(): void {
    if (this.conn.localSettings.unacknowledged > 0) this.abort(ErrorCode.SETTINGS_TIMEOUT, 'SETTINGS not acknowledged');
  }

  private onSocketClose(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.finish();
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
      if (this.outboundDone.length > 0) this.afterOutboundDone();
      if (!this.writeOut()) return;
    }
  }

  private afterOutboundDone(): void {
    const done = this.outboundDone;
    // (releasing a stream never flushes, so nothing is added while this runs)
    for (let i = 0; i < done.length; i++) this.onOutboundDone(done[i]!);
    done.length = 0;
  }

  /** Writes what the engine queued; false when there was nothing. */
  private writeOut(): boolean {
    const pieces = this.conn.dataToSendPieces();
    if (pieces.length === 0) return false;
    const socket = this.socket;
    // a vectored write of the pieces as they are: body views are not copied on our side
    let ok = true;
    if (pieces.length > 1) socket.cork();
    for (const p of pieces) {
      this.stats.bytesOut += p.length;
      ok = socket.write(p);
    }
    if (pieces.length > 1) socket.uncork();
    if (!ok) {
      this.blocked = true;
      if (this.deadlines.send > 0) this.watch();
    }
    return true;
  }

  /** After the final GOAWAY either way, ends the socket once no stream is open and everything was written. */
  protected maybeEnd(): void {
    if (this.closed || !(this.draining || this.conn.goawayReceived !== undefined)) return;
    if (this.conn.openInboundStreams + this.conn.openOutboundStreams === 0 && this.conn.outboundBufferSize === 0 && this.exchangeCount === 0) {
      this.socket.end();
      this.lingerThenDestroy();
    }
  }

  private checkShutdownAck(events: readonly H2Event[]): void {
    for (const e of events) {
      if (e.type === 'PingAckReceived' && Buffer.compare(Buffer.from(e.pingData), SHUTDOWN_PING) === 0) this.finalGoaway();
    }
  }

  /** The GOAWAY that names the last stream we process (never higher than an earlier one). */
  private finalGoaway(): void {
    if (this.closed || this.draining) return;
    this.awaitingShutdownAck = false;
    if (this.noticeTimer) clearTimeout(this.noticeTimer);
    this.draining = true;
    try {
      this.conn.closeConnection(ErrorCode.NO_ERROR);
    } catch {
      /* closed meanwhile */
    }
    this.flush();
    this.maybeEnd();
  }

  /** The drain took too long: the streams still open are reset and the connection closes. */
  private onDrainTimeout(): void {
    if (this.closed) return;
    this.finalGoaway();
    for (const s of [...this.conn.streams.live.values()]) this.resetLocal(s.id, ErrorCode.CANCEL);
    this.terminate('drain timeout: open streams were reset');
  }

  /**
   * The connection is over: stop reading, write what is queued (the GOAWAY), release every
   * stream, end the socket and destroy it after `lingerMs` whatever the peer does.
   */
  protected terminate(why: string): void {
    if (this.terminating) return;
    this.terminating = true;
    this.socket.pause();
    this.socket.removeAllListeners('data');
    try {
      this.blocked = false;
      this.flushRaw();
    } finally {
      // the socket's end is settled before any callback runs: a throwing onClose cannot keep it open
      this.socket.end();
      this.lingerThenDestroy();
      this.finish(why);
    }
  }

  /** Writes the engine's queue (GOAWAY, RST) without moving more body. */
  private flushRaw(): void {
    if (!this.socket.writableEnded && !this.socket.destroyed) this.writeOut();
  }

  private lingerThenDestroy(): void {
    if (this.lingerTimer || this.socket.destroyed) return;
    this.lingerTimer = setTimeout(() => this.socket.destroy(), this.lingerMs);
    this.lingerTimer.unref();
  }

  protected touch(): void {
    if (this.idleMs <= 0) return;
    if (this.idleTimer) this.idleTimer.refresh();
    else {
      this.idleTimer = setTimeout(() => this.guarded(this.onIdle, undefined), this.idleMs);
      this.idleTimer.unref();
    }
  }

  private onIdle(): void {
    if (this.conn.openInboundStreams + this.conn.openOutboundStreams === 0) this.shutdown();
    else this.touch();
  }

  /** Runs once: timers cleared, every stream released (through `onFinish`), the sender emptied. */
  protected finish(error?: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.settingsTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.drainTimer) clearTimeout(this.drainTimer);
    if (this.noticeTimer) clearTimeout(this.noticeTimer);
    if (this.watchTimer) clearTimeout(this.watchTimer);
    if (error !== undefined) this.stats.error = error;
    const reason = `connection closed${error !== undefined ? `: ${error}` : ''}`;
    try {
      this.onFinish(error);
    } finally {
      this.sender.releaseAll(reason);
      if (!this.socket.destroyed && !this.terminating) this.lingerThenDestroy();
    }
  }
}
