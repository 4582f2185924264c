/**
 * H2Stream: one stream's record — its state (changed only through the state table), both
 * flow-control windows, which header blocks each side has sent (a half-state per side:
 * none → informational → final → trailers, or final → tunnel for an established CONNECT), and
 * the content-length accounting.
 */
import { SendWindow, RecvWindow } from '../flow/window.js';
import { ClosedBy, StreamState, type StateHolder } from './state.js';

/**
 * Header blocks one side has sent on a stream. TUNNEL (both sides at once): a CONNECT stream got
 * its 2xx response, so it is a tunnel (RFC 9113 §8.5) and carries no more header blocks.
 */
export const Phase = { NONE: 0, INFORMATIONAL: 1, FINAL: 2, TRAILERS: 3, TUNNEL: 4 } as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

export class H2Stream implements StateHolder {
  readonly id: number;
  state: StreamState;
  closedBy: ClosedBy;
  readonly send: SendWindow;
  readonly recv: RecvWindow;
  sentPhase: Phase;
  recvPhase: Phase;
  /** Request method (for HEAD: responses carry no body). */
  method: string | undefined;
  /** `:authority` of the request (ALTSVC on a stream inherits it). */
  authority: string | undefined;
  /** Expected body length from content-length, or undefined. */
  expectedLength: number | undefined;
  receivedLength: number;

  constructor(id: number, sendWindow: number, recvWindow: number) {
    this.id = id;
    this.state = StreamState.IDLE;
    this.closedBy = ClosedBy.NONE;
    this.send = new SendWindow(sendWindow);
    this.recv = new RecvWindow(recvWindow);
    this.sentPhase = Phase.NONE;
    this.recvPhase = Phase.NONE;
    this.method = undefined;
    this.authority = undefined;
    this.expectedLength = undefined;
    this.receivedLength = 0;
  }
}
