/**
 * StreamStore: the live streams, the highest stream id each side has used, counts of open
 * streams per side and of the peer's reserved (promised) streams (kept up to date on every state
 * change, so MAX_CONCURRENT_STREAMS and push budget checks are O(1)), and a bounded FIFO memory of recently closed streams and how they closed, so that late
 * frames get the RFC's answer (RFC 9113 §5.1) without memory growing with the connection's age.
 */
import { H2Stream } from './stream.js';
import { ClosedBy, countsAsOpen, type StreamInput, StreamState, transition, type Cell } from './state.js';

export class StreamStore {
  readonly live: Map<number, H2Stream>;
  /** Closed streams, oldest first, with how they closed. */
  private readonly closed: Map<number, ClosedBy>;
  readonly maxClosed: number;
  /** Highest id opened or reserved by each side. */
  highestLocal: number;
  highestRemote: number;
  openLocal: number;
  openRemote: number;
  /** Streams in "reserved (remote)": promised by the peer, not yet answered or reset. */
  reservedRemote: number;
  private readonly clientSide: boolean;

  constructor(clientSide: boolean, maxClosed: number) {
    this.live = new Map();
    this.closed = new Map();
    this.maxClosed = maxClosed;
    this.highestLocal = 0;
    this.highestRemote = 0;
    this.openLocal = 0;
    this.openRemote = 0;
    this.reservedRemote = 0;
    this.clientSide = clientSide;
  }

  /** True when `id` belongs to streams we initiate (odd for a client, even for a server). */
  isLocal(id: number): boolean {
    return (id % 2 === 1) === this.clientSide;
  }

  get(id: number): H2Stream | undefined {
    return this.live.get(id);
  }

  /** How a stream that is not live closed; `undefined` when it is idle (never used). */
  closedBy(id: number): ClosedBy | undefined {
    const by = this.closed.get(id);
    if (by !== undefined) return by;
    const highest = this.isLocal(id) ? this.highestLocal : this.highestRemote;
    // Below the highest id: closed, implicitly or long ago (its state is forgotten).
    return id <= highest ? ClosedBy.END_STREAM : undefined;
  }

  /** Remembered in the bounded closed memory (not just implicitly closed). */
  remembers(id: number): boolean {
    return this.closed.has(id);
  }

  create(id: number, sendWindow: number, recvWindow: number): H2Stream {
    const s = new H2Stream(id, sendWindow, recvWindow);
    this.add(s);
    return s;
  }

  /** Stores a stream built elsewhere, advancing the highest id of its side. */
  add(s: H2Stream): void {
    this.live.set(s.id, s);
    if (this.isLocal(s.id)) this.highestLocal = Math.max(this.highestLocal, s.id);
    else this.highestRemote = Math.max(this.highestRemote, s.id);
  }

  /** Applies a state-table input, keeping the open counts and the closed memory right. */
  apply(s: H2Stream, input: StreamInput): Cell | undefined {
    const before = s.state;
    const c = transition(s, input);
    if (c === undefined) return undefined;
    const after = s.state;
    if (after !== before) {
      const was = countsAsOpen(before);
      const now = countsAsOpen(after);
      if (was !== now) {
        const d = now ? 1 : -1;
        if (this.isLocal(s.id)) this.openLocal += d;
        else this.openRemote += d;
      }
      if (before === StreamState.RESERVED_REMOTE) this.reservedRemote--;
      else if (after === StreamState.RESERVED_REMOTE) this.reservedRemote++;
    }
    if (s.state === StreamState.CLOSED && this.live.get(s.id) === s) this.retire(s);
    else if (s.state === StreamState.CLOSED) this.closed.set(s.id, s.closedBy);
    return c;
  }

  private retire(s: H2Stream): void {
    this.live.delete(s.id);
    this.closed.delete(s.id);
    this.closed.set(s.id, s.closedBy);
    if (this.closed.size > this.maxClosed) this.closed.delete(this.closed.keys().next().value!);
  }

  /** Records that a remembered closed stream got a stream error answer (we reset it). */
  markReset(id: number): void {
    // (a stream closed implicitly, or forgotten, is remembered from now on: RFC 9113 §5.4.2 asks
    // that frames after our RST_STREAM be ignored, not answered with another one)
    this.closed.delete(id);
    this.closed.set(id, ClosedBy.SEND_RST);
    if (this.closed.size > this.maxClosed) this.closed.delete(this.closed.keys().next().value!);
  }

  /** Number of remembered closed streams. */
  get closedCount(): number {
    return this.closed.size;
  }
}
