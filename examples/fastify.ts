// Fastify on h2sched: a plain Fastify app whose server is h2sched's compatibility server, so the
// client's HTTP/2 priorities (RFC 7540 tree or RFC 9218) decide which response gets the wire.
//   const app = createApp(); await app.listen({ port: 8080 });
//   curl --http2-prior-knowledge http://127.0.0.1:8080/
import type { Http2Server } from 'node:http2';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { type CompatListener, createCompatServer, type SchedulerName } from '../lib/index.js';

export function createApp(scheduler: SchedulerName = 'tree'): FastifyInstance<Http2Server> {
  const app = Fastify<Http2Server>({
    http2: true,
    // Fastify's types know only node's servers: hence the casts
    serverFactory: (handler) => createCompatServer({ scheduler }, handler as unknown as CompatListener) as unknown as Http2Server,
  });
  app.get('/', async () => ({ hello: 'world' }));
  app.post('/echo', async (req) => ({ received: req.body }));
  app.get('/stream', async (_req, reply) => reply.type('text/plain').send(Readable.from(['streamed ', 'by ', 'the scheduler\n'])));
  return app;
}
