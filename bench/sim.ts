/**
 * Scheduling quality: a deterministic link simulation that drives the real engine and Sender
 * with each scheduler. A client H2Connection and a server H2Connection + Sender talk over a
 * simulated link (1 ms ticks): a bottleneck of `bandwidth` octets per ms from server to client,
 * `rtt` ms round trip, and a small server send buffer (as on a well-tuned server:
 * tcp_notsent_lowat ≈ 16 KiB), so the scheduler decides close to the wire. The client requests
 * on a workload's schedule with its priority signals, reads and returns flow-control credit at
 * once (unless the workload stalls a stream), and records when each octet arrived.
 */
import { ErrorCode } from '../lib/constants.js';
import { H2Connection } from '../lib/connection/connection.js';
import type { H2Event } from '../lib/events.js';
import type { PriorityFields } from '../lib/frame/types.js';
import type { HeaderInput } from '../lib/hpack/types.js';
import { PriorityTree } from '../lib/priority/tree.js';
import type { SchedulerName } from '../lib/priority/scheduler.js';
import { Sender } from '../lib/sender/sender.js';
import { FileSource, type FileIO, type FileReadMode } from '../lib/node/file-source.js';

export type Cls = 'html' | 'css' | 'js' | 'font' | 'img' | 'other';

export interface SimRequest {
  readonly id: number;
  readonly path: string;
  readonly cls: Cls;
  readonly size: number;
  /** When the client sends the request (ms). */
  readonly at: number;
  /** RFC 7540 fields on HEADERS. */
  readonly fields?: PriorityFields;
  /** RFC 9218 `priority` header value. */
  readonly priority?: string;
  /** The client returns no credit for this stream until this time (a flow-control stall). */
  readonly stallUntil?: number;
}

export interface Workload {
  readonly name: string;
  readonly title: string;
  /** PRIORITY frames the client sends: at time `at` for stream `id` (idle anchors, reprioritizations). */
  readonly priorityFrames: ReadonlyArray<{ at: number; id: number; fields: PriorityFields }>;
  readonly requests: readonly SimRequest[];
  /** Classes whose completion is the critical set (render-blocking). */
  readonly critical: readonly Cls[];
  /** Streams whose completion measures preemption (late high-priority requests). */
  readonly late?: readonly number[];
  /** Flat workloads: GPS shares are defined while every stream is backlogged. */
  readonly flat?: boolean;
}

export interface Link {
  /** Octets per ms on the bottleneck (server → client). 200 = 1.6 Mbit/s ("3G Fast"). */
  readonly bandwidth: number;
  /** Round trip in ms. */
  readonly rtt: number;
  /** Server send buffer in octets (what is committed to the wire and can no longer be reordered). */
  readonly sendBuffer: number;
  /** The client's initial stream window. */
  readonly clientWindow: number;
}

/** Bodies from files: each response body is a FileSource over a simulated disk. */
export interface SimFiles {
  /** How the FileSource reads (see lib/node/file-source.ts). */
  readonly mode: FileReadMode;
  /** Ticks (ms) an asynchronous read takes; synchronous reads take none. */
  readonly latency: number;
}

/**
 * A disk for the simulation: files are zero-filled octets, a positioned read completes `latency`
 * ticks after it is issued (in issue order), a synchronous one at once. Counts both.
 */
export class SimDisk implements FileIO {
  private readonly files = new Map<number, number>();
  private readonly pending: Array<{ at: number; run: () => void }> = [];
  private next = 3;
  now = 0;
  asyncReads = 0;
  syncReads = 0;
  constructor(readonly latency: number) {}
  open(size: number): number {
    const fd = this.next++;
    this.files.set(fd, size);
    return fd;
  }
  read(fd: number, buffer: Buffer, offset: number, length: number, position: number, callback: (err: NodeJS.ErrnoException | null, bytesRead: number) => void): void {
    this.asyncReads++;
    const n = Math.max(0, Math.min(length, (this.files.get(fd) ?? 0) - position));
    this.pending.push({ at: this.now + this.latency, run: () => callback(null, n) });
  }
  readSync(fd: number, _buffer: Buffer, _offset: number, length: number, position: number): number {
    this.syncReads++;
    return Math.max(0, Math.min(length, (this.files.get(fd) ?? 0) - position));
  }
  /** Completes the reads due by `t`. */
  tick(t: number): void {
    this.now = t;
    while (this.pending.length > 0 && this.pending[0]!.at <= t) this.pending.shift()!.run();
  }
}

export const LINK_3G: Link = { bandwidth: 200, rtt: 150, sendBuffer: 16384, clientWindow: 65535 };

export interface StreamTrace {
  readonly req: SimRequest;
  /** [time, cumulative octets] at each arrival. */
  readonly arrivals: Array<[number, number]>;
  firstByte: number;
  done: number;
}

export interface SimResult {
  readonly workload: string;
  readonly scheduler: SchedulerName;
  readonly streams: StreamTrace[];
  /** Octets of DATA sent for a stream while one of its RFC 7540 ancestors was schedulable. */
  readonly inversionOctets: number;
  /** Ticks where the link was idle although data and window were available. */
  readonly idleTicks: number;
  readonly dataFrames: number;
  readonly totalTime: number;
  /** With file bodies: reads the simulated disk served. */
  readonly disk?: { asyncReads: number; syncReads: number };
}

/** Runs one workload with one scheduler. Deterministic: same inputs, same trace. */
export function simulate(w: Workload, scheduler: SchedulerName, link: Link = LINK_3G, horizon = 600_000, files?: SimFiles): SimResult {
  const disk = files === undefined ? undefined : new SimDisk(files.latency);
  const failures: string[] = [];
  const client = new H2Connection({ clientSide: true, localSettings: { initialWindowSize: link.clientWindow, enablePush: false } });
  // The server engine keeps at most about one frame: the send buffer below is the only queue.
  const server = new H2Connection({ clientSide: false, outboundHighWaterMark: 1 });
  const sender = new Sender(server, { scheduler });
  const declared = new PriorityTree({ maxIdle: 1000, maxClosed: 1000 });
  const traces = new Map<number, StreamTrace>();
  for (const r of w.requests) traces.set(r.id, { req: r, arrivals: [], firstByte: -1, done: -1 });
  const stalledCredit = new Map<number, number>();

  let inversionOctets = 0;
  let dataFrames = 0;
  const sendData = server.sendData.bind(server);
  server.sendData = (id, data, options) => {
    dataFrames++;
    // an ancestor (as the client declared the tree) that could have sent instead
    for (let a = declared.nodeInfo(id)?.parent ?? null; a !== null && a !== 0; a = declared.nodeInfo(a)?.parent ?? null) {
      if (sender.queued(a) > 0 && server.localFlowControlWindow(a) > 0) {
        inversionOctets += data.length;
        break;
      }
    }
    sendData(id, data, options);
  };

  client.initiateConnection();
  server.initiateConnection();
  const up: Array<[number, Uint8Array]> = []; // client → server, [arrival, bytes]
  const down: Array<[number, Uint8Array]> = []; // server → client on the wire
  const buffered: Uint8Array[] = []; // server send buffer
  let bufferedOctets = 0;
  const half = link.rtt / 2;
  const pendingFrames = [...w.priorityFrames].sort((a, b) => a.at - b.at);
  const pendingRequests = [...w.requests].sort((a, b) => a.at - b.at);
  let idleTicks = 0;
  let remaining = w.requests.length;
  let t = 0;

  const serverEvents = (events: H2Event[]) => {
    sender.handle(events);
    for (const e of events) {
      // the tree as the client declared it, as the server learns it (for counting inversions)
      try {
        if (e.type === 'RequestReceived' && !declared.has(e.streamId)) declared.insertStream(e.streamId);
        if (e.type === 'PriorityUpdated') {
          const p = { dependsOn: e.dependsOn, weight: e.weight, exclusive: e.exclusive };
          if (declared.has(e.streamId)) declared.reprioritize(e.streamId, p);
          else declared.prioritize(e.streamId, p);
        }
      } catch {
        // a signal RFC 7540 says to ignore (e.g. self-dependency)
      }
      if (e.type === 'RequestReceived') {
        const tr = traces.get(e.streamId);
        const size = tr?.req.size ?? 0;
        server.sendHeaders(e.streamId, [[':status', '200'], ['content-length', String(size)]], { endStream: size === 0 });
        if (size > 0 && disk !== undefined) {
          const source = new FileSource(disk.open(size), 0, size, { mode: files!.mode, io: disk });
          sender.sendSource(e.streamId, source).catch((err: Error) => failures.push(`stream ${e.streamId}: ${err.message}`));
        } else if (size > 0) {
          sender.write(e.streamId, new Uint8Array(size));
          sender.end(e.streamId);
        }
      }
    }
  };

  for (t = 0; t < horizon && remaining > 0; t++) {
    // client: scheduled requests and PRIORITY frames
    while (pendingFrames.length > 0 && pendingFrames[0]!.at <= t) {
      const f = pendingFrames.shift()!;
      try {
        client.prioritize(f.id, f.fields);
      } catch {
        // a PRIORITY for a stream the client may no longer signal (or a self-dependency): not sent
      }
    }
    while (pendingRequests.length > 0 && pendingRequests[0]!.at <= t) {
      const r = pendingRequests.shift()!;
      const headers: HeaderInput[] = [[':method', 'GET'], [':scheme', 'https'], [':authority', 'sim'], [':path', r.path]];
      if (r.priority !== undefined) headers.push(['priority', r.priority]);
      client.sendHeaders(r.id, headers, { endStream: true, priority: r.fields });
    }
    // client credit for stalls that end now
    for (const [id, n] of stalledCredit) {
      const r = traces.get(id)!.req;
      if ((r.stallUntil ?? 0) <= t && n > 0) {
        client.acknowledgeReceivedData(n, id);
        stalledCredit.set(id, 0);
      }
    }
    const fromClient = client.dataToSend();
    if (fromClient.length > 0) up.push([t + half, fromClient]);
    // the disk: reads due now complete (and may make streams ready)
    disk?.tick(t);
    // server: what arrived from the client
    while (up.length > 0 && up[0]![0] <= t) serverEvents(server.receiveData(up.shift()![1]));
    // server: fill the send buffer, frame by frame, in scheduler order
    for (;;) {
      const space = link.sendBuffer - bufferedOctets;
      if (space <= 0) break;
      sender.flush();
      const out = server.dataToSend(space);
      if (out.length === 0) break;
      buffered.push(out);
      bufferedOctets += out.length;
    }
    // the bottleneck: `bandwidth` octets per tick leave the send buffer
    let budget = link.bandwidth;
    const sent: Uint8Array[] = [];
    while (budget > 0 && buffered.length > 0) {
      const head = buffered[0]!;
      const n = Math.min(budget, head.length);
      sent.push(head.subarray(0, n));
      if (n === head.length) buffered.shift();
      else buffered[0] = head.subarray(n);
      budget -= n;
      bufferedOctets -= n;
    }
    if (budget > 0 && remaining > 0 && t > link.rtt && sender.queuedTotal > 0 && server.sendWindow.size > 0 && readyStream(sender, server)) idleTicks++;
    if (sent.length > 0) down.push([t + half, Buffer.concat(sent)]);
    // client: what arrived
    while (down.length > 0 && down[0]![0] <= t) {
      for (const e of client.receiveData(down.shift()![1])) {
        if (e.type === 'DataReceived') {
          const tr = traces.get(e.streamId);
          if (tr) {
            const total = (tr.arrivals.at(-1)?.[1] ?? 0) + e.data.length;
            tr.arrivals.push([t, total]);
            if (tr.firstByte < 0) tr.firstByte = t;
            if (tr.req.stallUntil !== undefined && tr.req.stallUntil > t) stalledCredit.set(e.streamId, (stalledCredit.get(e.streamId) ?? 0) + e.flowControlledLength);
            else client.acknowledgeReceivedData(e.flowControlledLength, e.streamId);
          }
        } else if (e.type === 'StreamEnded') {
          const tr = traces.get(e.streamId);
          if (tr && tr.done < 0) {
            tr.done = t;
            if (tr.firstByte < 0) tr.firstByte = t;
            remaining--;
          }
        } else if (e.type === 'StreamReset' && e.errorCode !== ErrorCode.NO_ERROR) {
          throw new Error(`${w.name}/${scheduler}: stream ${e.streamId} reset (${e.errorCode})`);
        }
      }
    }
  }
  if (failures.length > 0) throw new Error(`${w.name}/${scheduler}: file bodies failed: ${failures.join('; ')}`);
  if (remaining > 0) throw new Error(`${w.name}/${scheduler}: ${remaining} streams unfinished after ${horizon} ms`);
  return {
    workload: w.name, scheduler, streams: [...traces.values()], inversionOctets, idleTicks, dataFrames, totalTime: t,
    ...(disk === undefined ? {} : { disk: { asyncReads: disk.asyncReads, syncReads: disk.syncReads } }),
  };
}

function readyStream(sender: Sender, server: H2Connection): boolean {
  for (const s of server.streams.live.values()) if (sender.queued(s.id) > 0 && s.send.size > 0) return true;
  return false;
}

// ---------------------------------------------------------------- metrics

export interface Metrics {
  criticalTime: number;
  /** HTML and CSS only: what blocks the first render when scripts are deferred. */
  renderTime: number;
  totalTime: number;
  perClass: Record<string, { p50: number; p95: number }>;
  lateTime?: number;
  jain?: number;
  maxLag?: number;
  longestStall: number;
  inversionOctets: number;
  idleTicks: number;
  dataFrames: number;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))]!;
}

export function metrics(w: Workload, r: SimResult): Metrics {
  const byClass = new Map<string, number[]>();
  for (const s of r.streams) {
    const list = byClass.get(s.req.cls) ?? [];
    list.push(s.done - s.req.at);
    byClass.set(s.req.cls, list);
  }
  const perClass: Metrics['perClass'] = {};
  for (const [c, xs] of byClass) perClass[c] = { p50: quantile(xs, 0.5), p95: quantile(xs, 0.95) };
  const critical = r.streams.filter((s) => w.critical.includes(s.req.cls));
  const m: Metrics = {
    criticalTime: Math.max(...critical.map((s) => s.done)),
    renderTime: Math.max(...r.streams.filter((s) => s.req.cls === 'html' || s.req.cls === 'css').map((s) => s.done)),
    totalTime: Math.max(...r.streams.map((s) => s.done)),
    perClass,
    longestStall: Math.max(...r.streams.map((s) => {
      let gap = 0;
      for (let i = 1; i < s.arrivals.length; i++) gap = Math.max(gap, s.arrivals[i]![0] - s.arrivals[i - 1]![0]);
      return gap;
    })),
    inversionOctets: r.inversionOctets,
    idleTicks: r.idleTicks,
    dataFrames: r.dataFrames,
  };
  if (w.late) m.lateTime = Math.max(...r.streams.filter((s) => w.late!.includes(s.req.id)).map((s) => s.done - s.req.at));
  if (w.flat) {
    // while every stream is backlogged (until the first completes): GPS gives each w_i/W of the link
    const end = Math.min(...r.streams.map((s) => s.done)) - 1;
    const start = Math.min(...r.streams.map((s) => s.firstByte));
    const weights = r.streams.map((s) => s.req.fields?.weight ?? 16);
    const W = weights.reduce((a, b) => a + b, 0);
    const at = (s: StreamTrace, time: number) => {
      let v = 0;
      for (const [tt, c] of s.arrivals) if (tt <= time) v = c; else break;
      return v;
    };
    const x = r.streams.map((s, i) => at(s, end) / weights[i]!);
    const sum = x.reduce((a, b) => a + b, 0);
    m.jain = (sum * sum) / (x.length * x.reduce((a, b) => a + b * b, 0));
    let lag = 0;
    for (let time = start; time <= end; time += 10) {
      const delivered = r.streams.reduce((a, s) => a + at(s, time), 0);
      r.streams.forEach((s, i) => { lag = Math.max(lag, Math.abs(at(s, time) - (delivered * weights[i]!) / W)); });
    }
    m.maxLag = lag;
  }
  return m;
}
