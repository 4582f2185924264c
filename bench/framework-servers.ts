/**
 * The framework servers `npm run bench fastify` compares, as child processes, each answering the
 * same tiny JSON route:
 *   node dist-bench/bench/framework-servers.js fastify-h2sched|fastify-node PORT
 * `fastify-h2sched`: Fastify with `serverFactory` on createCompatServer (h2c); `fastify-node`:
 * Fastify with `http2: true` on node:http2 (h2c). Prints "ready" once listening.
 */
import type http2 from 'node:http2';
import Fastify, { type FastifyInstance } from 'fastify';
import { type CompatListener, createCompatServer } from '../lib/node/compat.js';

// a clean exit on SIGINT writes --cpu-prof profiles
process.on('SIGINT', () => process.exit(0));

const [kind, portArg] = process.argv.slice(2);
const app: FastifyInstance<http2.Http2Server> | undefined = kind === 'fastify-h2sched'
  // Fastify's types know only node's servers
  ? Fastify<http2.Http2Server>({ http2: true, serverFactory: (handler) => createCompatServer(handler as unknown as CompatListener) as unknown as http2.Http2Server })
  : kind === 'fastify-node' ? Fastify<http2.Http2Server>({ http2: true }) : undefined;
if (app === undefined) {
  process.stderr.write('usage: framework-servers.js fastify-h2sched|fastify-node PORT\n');
  process.exit(2);
}
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ port: Number(portArg), host: '127.0.0.1' });
process.stdout.write('ready\n');
