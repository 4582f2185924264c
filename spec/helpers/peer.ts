/**
 * ScriptedPeer: drives an H2Connection under test from the other end of the wire. It sends frames
 * built with the frame builders (its own HPACK encoder), and decodes what the connection sends
 * (its own HPACK decoder), so tests compare frames structurally:
 *
 *   const { conn, peer } = serverWithPeer();
 *   peer.handshake();
 *   peer.send(peer.frames.headers(1).request('GET', '/').eos());
 *   peer.expect({ type: FrameType.HEADERS, streamId: 1 });
 */
import { CLIENT_PREFACE, FrameType } from '../../lib/constants.js';
import { ConnectionError } from '../../lib/errors.js';
import type { H2Event } from '../../lib/events.js';
import { FrameDecoder } from '../../lib/frame/decoder.js';
import type { Frame, HeadersFrame } from '../../lib/frame/types.js';
import { HpackDecoder } from '../../lib/hpack/decoder.js';
import type { HeaderField } from '../../lib/hpack/types.js';
import { H2Connection, type H2ConnectionOptions } from '../../lib/connection/connection.js';
import { frameFactory } from './frames.js';

type Sendable = { encode(maxFrameSize?: number): Uint8Array } | Uint8Array;

const SPLIT = (globalThis as { H2SCHED_SPLIT_INPUT?: boolean }).H2SCHED_SPLIT_INPUT === true;

export class ScriptedPeer {
  private seed = 12345;
  readonly frames: ReturnType<typeof frameFactory> = frameFactory();
  /** Every event the connection produced, in order. */
  readonly events: H2Event[] = [];
  /** The ConnectionError the last send provoked, if any. */
  error: ConnectionError | undefined;
  private readonly decoder: FrameDecoder;
  private readonly hpack = new HpackDecoder();
  private readonly inbox: Frame[] = [];

  constructor(readonly conn: H2Connection) {
    // what the connection sends: a client sends the preface first
    this.decoder = new FrameDecoder({ expectPreface: conn.clientSide, expectSettingsFirst: true, maxFrameSize: 16777215 });
  }

  /** Both prefaces and SETTINGS exchanged and acknowledged; the connection's output drained. */
  handshake(settings = this.frames.settings()): H2Event[] {
    this.conn.initiateConnection();
    const evs = this.send(this.conn.clientSide ? settings.encode() : concatBytes(CLIENT_PREFACE, settings.encode()));
    this.send(this.frames.settings().ack());
    this.received();
    return evs;
  }

  /**
   * Feeds bytes to the connection; returns the events (a ConnectionError is kept in `error`).
   * In the `split` jest project every send is cut at pseudo-random offsets first.
   */
  send(...items: Sendable[]): H2Event[] {
    const out: H2Event[] = [];
    for (const item of items) {
      const bytes = item instanceof Uint8Array ? item : item.encode();
      for (const piece of SPLIT ? this.cut(bytes) : [bytes]) {
        try {
          out.push(...this.conn.receiveData(piece));
        } catch (e) {
          if (!(e instanceof ConnectionError)) throw e;
          this.error = e;
          out.push(...(e.events as H2Event[]));
        }
      }
    }
    this.events.push(...out);
    return out;
  }

  private cut(bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let o = 0; o < bytes.length;) {
      this.seed = (this.seed * 1103515245 + 12345) % 2147483648;
      const n = 1 + (this.seed % 23);
      out.push(Uint8Array.from(bytes.subarray(o, o + n)));
      o += n;
    }
    return out;
  }

  /** Every frame the connection has sent since the last call (header blocks decoded into `fields`). */
  received(): Array<Frame & { fields?: HeaderField[] }> {
    this.decoder.push(this.conn.dataToSend());
    for (let f = this.decoder.next(); f; f = this.decoder.next()) {
      if (f.type === FrameType.HEADERS || f.type === FrameType.PUSH_PROMISE) {
        this.inbox.push({ ...f, fields: this.hpack.decode((f as HeadersFrame).headerBlock) } as Frame & { fields: HeaderField[] });
      } else {
        this.inbox.push(f);
      }
    }
    return this.inbox.splice(0);
  }

  /** Asserts the connection sent exactly one frame matching `partial`, and returns it. */
  expect(partial: Record<string, unknown>): Frame & { fields?: HeaderField[] } {
    const got = this.received();
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject(partial);
    return got[0]!;
  }

  /** Asserts the connection sent nothing. */
  expectNothing(): void {
    expect(this.received()).toEqual([]);
  }
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function serverWithPeer(options: H2ConnectionOptions = {}): { conn: H2Connection; peer: ScriptedPeer } {
  const conn = new H2Connection({ ...options, clientSide: false });
  return { conn, peer: new ScriptedPeer(conn) };
}

export function clientWithPeer(options: H2ConnectionOptions = {}): { conn: H2Connection; peer: ScriptedPeer } {
  const conn = new H2Connection({ ...options, clientSide: true });
  return { conn, peer: new ScriptedPeer(conn) };
}

/** Two connections wired back to back; `pump` moves bytes both ways until both are quiet. */
export function pair(clientOptions: H2ConnectionOptions = {}, serverOptions: H2ConnectionOptions = {}) {
  const client = new H2Connection({ ...clientOptions, clientSide: true });
  const server = new H2Connection({ ...serverOptions, clientSide: false });
  client.initiateConnection();
  server.initiateConnection();
  const clientEvents: H2Event[] = [];
  const serverEvents: H2Event[] = [];
  const pump = (onServer?: (e: H2Event) => void, onClient?: (e: H2Event) => void, chunk?: () => number): void => {
    for (let i = 0; i < 10000; i++) {
      const a = client.dataToSend();
      const b = server.dataToSend();
      if (a.length === 0 && b.length === 0) return;
      for (const piece of cut(a, chunk)) for (const e of server.receiveData(piece)) { serverEvents.push(e); onServer?.(e); }
      for (const piece of cut(b, chunk)) for (const e of client.receiveData(piece)) { clientEvents.push(e); onClient?.(e); }
    }
    throw new Error('pump did not settle');
  };
  return { client, server, clientEvents, serverEvents, pump };
}

function cut(b: Uint8Array, chunk?: () => number): Uint8Array[] {
  if (b.length === 0) return [];
  if (!chunk) return [b];
  const out: Uint8Array[] = [];
  for (let o = 0; o < b.length;) {
    const n = Math.max(1, chunk());
    out.push(Uint8Array.from(b.subarray(o, o + n)));
    o += n;
  }
  return out;
}
