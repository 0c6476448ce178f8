/**
 * Peer: fastify + @fastify/reply-from (undici, keep-alive). With `routes` in the config it registers
 * them on fastify's router (host constraint + path prefix) and checks the header match in the handler.
 */
import Fastify from 'fastify';
import replyFrom from '@fastify/reply-from';
import { loadConfig, onListening, weightedPicker } from './common.js';

const cfg = loadConfig();
const app = Fastify({ logger: false, keepAliveTimeout: 75_000 });
const single = cfg.targets.length === 1;
await app.register(replyFrom, {
  ...(single ? { base: cfg.targets[0].url } : {}),
  undici: { connections: 64, pipelining: 1 },
});
const pick = weightedPicker(cfg.targets);
const forward = (req, reply) => (single ? reply.from(req.url) : reply.from(cfg.targets[pick()].url + req.url));

if (cfg.routes) {
  for (const r of cfg.routes) {
    const handler = (req, reply) => {
      if (req.headers[r.header.name] !== r.header.value) return reply.code(404).send();
      return forward(req, reply);
    };
    for (const url of [r.prefix, `${r.prefix}/*`]) {
      app.route({ method: ['GET', 'HEAD'], url, constraints: { host: r.host }, handler });
    }
  }
} else {
  app.all('/*', forward);
}
await app.listen({ port: cfg.port, host: '127.0.0.1' });
onListening('reply-from', cfg.port);
