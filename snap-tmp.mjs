import net from 'node:net';
import v8 from 'node:v8';
import { createH2Server } from './dist/node/server.js';
import { H2Connection } from './dist/connection/connection.js';
const h2 = createH2Server((req, res) => { res.respond(200); res.end('x'); });
await new Promise((r) => h2.server.listen(0, '127.0.0.1', r));
const port = h2.server.address().port;
const socks = [];
async function open(n) {
  for (let i = 0; i < n; i++) { const s = net.connect(port, '127.0.0.1'); await new Promise((r) => s.once('connect', r)); const c = new H2Connection({ clientSide: true }); c.initiateConnection(); s.write(c.dataToSend()); s.on('data', (d) => { c.receiveData(d); const o = c.dataToSend(); if (o.length) s.write(o); }); s.on('error', () => {}); socks.push(s); }
  await new Promise((r) => setTimeout(r, 500));
}
await open(5);
global.gc(); const a = process.memoryUsage().heapUsed;
await open(400);
global.gc(); const b = process.memoryUsage().heapUsed;
console.log('per connection KiB (server + client sides in one process)', ((b - a) / 400 / 1024).toFixed(2));
v8.writeHeapSnapshot('/tmp/conns.heapsnapshot');
process.exit(0);
