/**
 * Flow-control windows (RFC 9113 §5.2, §6.9). A SendWindow is what the peer lets us send; a
 * RecvWindow is what we let the peer send, with the automatic, coalesced WINDOW_UPDATE policy of
 * `acknowledgeReceivedData`. Windows may go negative after a SETTINGS_INITIAL_WINDOW_SIZE
 * decrease; no window may exceed 2^31-1. Methods report overflow by returning false, so the
 * caller decides the scope (stream or connection) of the error.
 */
import { MAX_INT31 } from '../constants.js';

/** What we may send: the peer's grant. */
export class SendWindow {
  size: number;

  constructor(initial: number) {
    this.size = initial;
  }

  /** Bytes sent (padding included). */
  consume(n: number): void {
    this.size -= n;
  }

  /** WINDOW_UPDATE or a SETTINGS_INITIAL_WINDOW_SIZE delta; false (and unchanged) above 2^31-1. */
  adjust(delta: number): boolean {
    if (this.size + delta > MAX_INT31) return false;
    this.size += delta;
    return true;
  }
}

/**
 * What the peer may send us. `processed` counts bytes the application has acknowledged since
 * the last WINDOW_UPDATE; `acknowledge` turns them into one increment when worth it.
 *
 * Policy (python h2's, kept for compatibility of expectations): send an update when the window
 * is exhausted and more than min(1024, max/4) bytes are processed, or when at least max/2 are;
 * the increment is min(processed, max − current). In a healthy exchange that is one
 * WINDOW_UPDATE per half window.
 */
export class RecvWindow {
  /** Bytes the peer may still send. */
  current: number;
  /** The window size we aim to keep open. */
  max: number;
  /** Bytes processed by the application and not yet returned to the peer. */
  processed: number;

  constructor(initial: number) {
    this.current = initial;
    this.max = initial;
    this.processed = 0;
  }

  /** The peer sent `n` flow-controlled bytes; false when that overruns the window. */
  consume(n: number): boolean {
    this.current -= n;
    return this.current >= 0;
  }

  /** A manual increment we send (also raises the target); false above 2^31-1. */
  open(n: number): boolean {
    if (this.current + n > MAX_INT31) return false;
    this.current += n;
    if (this.current > this.max) this.max = this.current;
    return true;
  }

  /** Our SETTINGS_INITIAL_WINDOW_SIZE changed (stream windows only); false above 2^31-1. */
  resize(delta: number): boolean {
    if (this.current + delta > MAX_INT31) return false;
    this.current += delta;
    this.max += delta;
    return true;
  }

  /** The application processed `n` bytes: returns the increment to send now, or 0. */
  acknowledge(n: number): number {
    this.processed += n;
    if (this.processed === 0) return 0;
    const exhausted = this.current <= 0 && this.processed > Math.min(1024, this.max >>> 2);
    if (!exhausted && this.processed < this.max >>> 1) return 0;
    const increment = Math.min(this.processed, this.max - this.current);
    this.processed = 0;
    if (increment <= 0) return 0;
    this.current += increment;
    return increment;
  }
}
