/**
 * Abuse budgets: per-connection token buckets for the frames that cost us work without giving
 * the peer anything useful (the 2019 HTTP/2 DoS family, Rapid Reset, MadeYouReset), and a cap on
 * the automatic replies waiting in the outbound buffer for a peer that does not read. A budget
 * that runs dry is a connection error ENHANCE_YOUR_CALM (RFC 9113 §5.4.1, §10.5).
 *
 * Buckets hold `burst` tokens and refill at `perSecond`; each counted frame takes one. The
 * defaults are far above what browsers, curl, nghttp and h2load send (tested), and far below the
 * rates an attack needs: at wire speed a flood drains a bucket within milliseconds.
 *
 * The engine stays sans-IO: time comes from the `clock` option (milliseconds; default
 * `performance.now`), which tests replace.
 */
import { ErrorCode, FrameType } from '../constants.js';
import { ConnectionError, UsageError } from '../errors.js';
import type { Frame, KnownFrame } from '../frame/types.js';

/** A token bucket: `burst` frames at once, `perSecond` sustained. */
export interface RateLimit {
  readonly burst: number;
  readonly perSecond: number;
}

/** Per-connection abuse budgets. `false` turns a budget off. */
export interface AbuseLimitsInput {
  /** PING frames (each needs an ACK; CVE-2019-9512). Default 1000 burst, 100/s. */
  pings?: RateLimit | false;
  /** SETTINGS frames (each needs an ACK and may touch every stream; CVE-2019-9515). Default 100 burst, 10/s. */
  settings?: RateLimit | false;
  /** PRIORITY and PRIORITY_UPDATE frames (tree churn; CVE-2019-9513). Default 2000 burst, 200/s. */
  prioritySignals?: RateLimit | false;
  /** RST_STREAM from the peer on a live stream (Rapid Reset, CVE-2023-44487). Default 1000 burst, 33/s. */
  peerResets?: RateLimit | false;
  /** RST_STREAM we send because of the peer's frames (CVE-2019-9514, MadeYouReset). Default 1000 burst, 33/s. */
  provokedResets?: RateLimit | false;
  /** DATA frames without payload or END_STREAM (CVE-2019-9518). Default 1000 burst, 100/s. */
  emptyFrames?: RateLimit | false;
  /** WINDOW_UPDATE increments below 1024 octets (Data Dribble, CVE-2019-9511). Default 1000 burst, 100/s. */
  tinyWindowUpdates?: RateLimit | false;
  /**
   * PUSH_PROMISE frames a client refuses because `maxReservedStreams` promised streams are
   * already waiting (a server promising without end). Default 200 burst, 20/s.
   */
  refusedPushes?: RateLimit | false;
  /**
   * Client: promised streams (PUSH_PROMISE) held in "reserved (remote)" at once. A promise beyond
   * it is refused with RST_STREAM(REFUSED_STREAM) on the promised id (its header block is still
   * decoded, so HPACK stays in step), and counts against `refusedPushes`. Reserved streams do not
   * count towards SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §5.1.2), so without this a server
   * could make a client hold any number of them. Default 100; `false`: no limit.
   */
  maxReservedStreams?: number | false;
  /**
   * Automatic replies (PING and SETTINGS ACKs, RST_STREAM, WINDOW_UPDATE) queued while the
   * outbound buffer has not been drained by `dataToSend()` — a peer that sends without reading
   * (CVE-2019-9512/9514/9515). Default 10000.
   */
  maxQueuedReplies?: number | false;
}

/** The budgets in force when nothing is configured. */
export const DEFAULT_ABUSE_LIMITS: Required<AbuseLimitsInput> = {
  pings: { burst: 1000, perSecond: 100 },
  settings: { burst: 100, perSecond: 10 },
  prioritySignals: { burst: 2000, perSecond: 200 },
  peerResets: { burst: 1000, perSecond: 33 },
  provokedResets: { burst: 1000, perSecond: 33 },
  emptyFrames: { burst: 1000, perSecond: 100 },
  tinyWindowUpdates: { burst: 1000, perSecond: 100 },
  refusedPushes: { burst: 200, perSecond: 20 },
  maxReservedStreams: 100,
  maxQueuedReplies: 10000,
};

/** WINDOW_UPDATE increments below this are counted as dribbling. */
export const TINY_WINDOW_INCREMENT = 1024;

class Bucket {
  private tokens: number;
  private last: number;
  constructor(readonly name: string, readonly limit: RateLimit, now: number) {
    this.tokens = limit.burst;
    this.last = now;
  }

  /** Takes a token; false when none is left. */
  take(now: number): boolean {
    const elapsed = now - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(this.limit.burst, this.tokens + (elapsed * this.limit.perSecond) / 1000);
      this.last = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

type CapName = 'maxQueuedReplies' | 'maxReservedStreams';
type BucketName = Exclude<keyof AbuseLimitsInput, CapName>;

/** The budgets of one connection. */
export class AbuseGuard {
  private readonly buckets = new Map<BucketName, Bucket>();
  private readonly maxQueuedReplies: number;
  /** Promised streams a client holds in "reserved (remote)" at most (Infinity: no limit). */
  readonly maxReservedStreams: number;
  /** Automatic replies queued since the outbound buffer was last empty. */
  queuedReplies = 0;
  /** How many frames each budget has refused (a connection ends at the first). */
  readonly tripped: Partial<Record<BucketName | 'maxQueuedReplies', number>> = {};

  constructor(input: AbuseLimitsInput = {}, private readonly clock: () => number = () => performance.now()) {
    const now = clock();
    for (const key of Object.keys(DEFAULT_ABUSE_LIMITS) as Array<keyof AbuseLimitsInput>) {
      if (key === 'maxQueuedReplies' || key === 'maxReservedStreams') continue;
      const v = input[key] === undefined ? DEFAULT_ABUSE_LIMITS[key] : input[key];
      if (v !== false) this.buckets.set(key, new Bucket(key, validLimit(key, v), now));
    }
    this.maxQueuedReplies = validCap('maxQueuedReplies', input.maxQueuedReplies);
    this.maxReservedStreams = validCap('maxReservedStreams', input.maxReservedStreams);
  }

  /** Charges a received frame to its budget (before it is processed). */
  inspect(received: Frame, liveStream: (id: number) => boolean): void {
    const frame = received as KnownFrame; // unknown types are never counted
    switch (frame.type) {
      case FrameType.PING:
        if (!frame.ack) this.charge('pings', 'PING frames');
        break;
      case FrameType.SETTINGS:
        if (!frame.ack) this.charge('settings', 'SETTINGS frames');
        break;
      case FrameType.PRIORITY:
      case FrameType.PRIORITY_UPDATE:
        this.charge('prioritySignals', 'priority signals');
        break;
      case FrameType.RST_STREAM:
        if (liveStream(frame.streamId)) this.charge('peerResets', 'stream resets (rapid reset)');
        break;
      case FrameType.DATA:
        if (frame.data.length === 0 && !frame.endStream) this.charge('emptyFrames', 'empty DATA frames');
        break;
      case FrameType.WINDOW_UPDATE:
        if (frame.increment < TINY_WINDOW_INCREMENT) this.charge('tinyWindowUpdates', 'tiny WINDOW_UPDATE increments (data dribble)');
        break;
      default:
        break;
    }
  }

  /** We answered one of the peer's frames with RST_STREAM. */
  provokedReset(): void {
    this.charge('provokedResets', 'frames provoking RST_STREAM (reset flood)');
  }

  /**
   * The peer opened a stream above the last id of our GOAWAY: discarded (RFC 9113 §6.8), but a
   * peer that goes on opening them after the GOAWAY reached it costs us HPACK work for nothing —
   * charged to the rapid-reset budget, since each one is a stream opened and thrown away.
   */
  ignoredStream(): void {
    this.charge('peerResets', 'streams opened after our GOAWAY');
  }

  /** A client refused a PUSH_PROMISE: too many promised streams wait already. */
  refusedPush(): void {
    this.charge('refusedPushes', 'refused PUSH_PROMISE frames (promises beyond maxReservedStreams)');
  }

  /** An automatic reply was queued; refuses when too many wait for a peer that does not read. */
  replyQueued(): void {
    this.queuedReplies++;
    if (this.queuedReplies > this.maxQueuedReplies) {
      this.tripped.maxQueuedReplies = (this.tripped.maxQueuedReplies ?? 0) + 1;
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `${this.queuedReplies} automatic replies queued and not read (limit ${this.maxQueuedReplies})`);
    }
  }

  /** The outbound buffer was drained. */
  drained(): void {
    this.queuedReplies = 0;
  }

  private charge(name: BucketName, what: string): void {
    const b = this.buckets.get(name);
    if (b === undefined || b.take(this.clock())) return;
    this.tripped[name] = (this.tripped[name] ?? 0) + 1;
    throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `too many ${what} (budget ${b.limit.burst} at once, ${b.limit.perSecond}/s)`);
  }
}

function validCap(name: CapName, v: number | false | undefined): number {
  if (v === undefined) return DEFAULT_ABUSE_LIMITS[name] as number;
  if (v === false) return Number.POSITIVE_INFINITY;
  if (typeof v !== 'number' || !(v >= 0)) throw new UsageError(`limits.${name}: expected a non-negative number or false`);
  return v;
}

function validLimit(name: string, v: unknown): RateLimit {
  const l = v as RateLimit;
  if (typeof l !== 'object' || l === null || !(l.burst >= 1) || !(l.perSecond >= 0)) {
    throw new UsageError(`limits.${name}: expected { burst ≥ 1, perSecond ≥ 0 } or false`);
  }
  return l;
}
