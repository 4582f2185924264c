/**
 * The error classes. Everything this library throws is an {@link H2SchedError}: protocol errors
 * carry an RFC 9113 §7 error code and a scope ({@link ConnectionError} → GOAWAY,
 * {@link StreamError} → RST_STREAM), while a {@link UsageError} means the caller broke the API
 * and nothing was changed or queued.
 */
import { errorCodeName } from './constants.js';

/** Root of every error this library throws. */
export class H2SchedError extends Error {
  override get name(): string {
    return this.constructor.name;
  }
}

/** A protocol error with the RFC error code to send to the peer. */
export class H2Error extends H2SchedError {
  /** RFC 9113 §7 error code. */
  readonly errorCode: number;
  constructor(errorCode: number, message: string) {
    super(`${errorCodeName(errorCode)}: ${message}`);
    this.errorCode = errorCode;
  }
}

/**
 * A connection error (RFC 9113 §5.4.1): the connection answers with GOAWAY and is closed.
 * `events` holds what the same `receiveData` call produced before the error, so nothing is lost.
 */
export class ConnectionError extends H2Error {
  /** Events produced earlier in the call that failed (filled in by the connection). */
  events: readonly object[] = [];
}

/** A stream error (RFC 9113 §5.4.2): that stream gets RST_STREAM, the connection goes on. */
export class StreamError extends H2Error {
  readonly streamId: number;
  constructor(streamId: number, errorCode: number, message: string) {
    super(errorCode, `stream ${streamId}: ${message}`);
    this.streamId = streamId;
  }
}

/** The caller broke the API (bad argument, illegal call in this state). Nothing was sent. */
export class UsageError extends H2SchedError {}

/**
 * The stream (or its connection) closed while an operation on it was pending: a `pipe` whose
 * stream was reset, a request whose connection went away. Not the caller's mistake.
 */
export class StreamClosedError extends H2SchedError {}
