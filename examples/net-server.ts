// h2sched on a plain net.Server: the engine parses, the sender schedules, this file does the I/O.
// Every response is the request path repeated to `size` bytes (?size=N), highest priority first.
import net from 'node:net';
import { H2Connection, Sender } from '../lib/index.js';

export function createServer(): net.Server {
  return net.createServer((socket) => {
    const conn = new H2Connection({ clientSide: false });
    const write = () => {
      sender.flush();
      const out = conn.dataToSend();
      if (out.length > 0 && !socket.write(out)) socket.once('drain', write);
    };
    const sender = new Sender(conn, { scheduler: 'tree', onWritable: () => queueMicrotask(write) });
    conn.initiateConnection();
    socket.on('data', (chunk) => {
      try {
        const events = conn.receiveData(chunk);
        sender.handle(events);
        for (const e of events) {
          if (e.type === 'DataReceived') conn.acknowledgeReceivedData(e.flowControlledLength, e.streamId);
          if (e.type !== 'RequestReceived') continue;
          const path = e.headers.find(([name]) => name === ':path')?.[1] ?? '/';
          const size = Number(new URL(path, 'http://x').searchParams.get('size') ?? 100);
          conn.sendHeaders(e.streamId, [[':status', '200'], ['content-length', String(size)]]);
          sender.write(e.streamId, Buffer.alloc(size, path));
          sender.end(e.streamId);
        }
      } catch {
        socket.end(conn.dataToSend()); // a connection error: GOAWAY is queued, then close
        return;
      }
      write();
    });
    socket.on('error', () => socket.destroy());
  });
}
