/**
 * Peer: fastify + @fastify/reply-from (undici, keep-alive). With `routes` in the config the path
 * prefixes go on fastify's router and the handler checks the host and the header match.
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
  // find-my-way allows at most 31 host-constrained handlers per path, and this table has 100 hosts per
  // prefix: fastify routes on the prefix, the handler looks the host up and checks the header match.
  const byPrefix = new Map();
  for (const r of cfg.routes) {
    if (!byPrefix.has(r.prefix)) byPrefix.set(r.prefix, new Map());
    byPrefix.get(r.prefix).set(r.host, r);
  }
  for (const [prefix, hosts] of byPrefix) {
    const handler = (req, reply) => {
      const r = hosts.get(req.headers.host);
      if (!r || req.headers[r.header.name] !== r.header.value) return reply.code(404).send();
      return forward(req, reply);
    };
    for (const url of [prefix, `${prefix}/*`]) app.route({ method: ['GET', 'HEAD'], url, handler });
  }
} else {
  app.all('/*', forward);
}
await app.listen({ port: cfg.port, host: '127.0.0.1' });
onListening('reply-from', cfg.port);
