/** Peer: node:http server + http-proxy, keep-alive agent to the backends. */
import http from 'node:http';
import httpProxy from 'http-proxy';
import { loadConfig, onListening, weightedPicker } from './common.js';

const cfg = loadConfig();
const agent = new http.Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 64 });
const proxy = httpProxy.createProxyServer({ agent });
proxy.on('error', (_err, _req, res) => {
  if (res.writeHead && !res.headersSent) res.writeHead(502);
  res.end();
});
const pick = weightedPicker(cfg.targets);
const server = http.createServer((req, res) => proxy.web(req, res, { target: cfg.targets[pick()].url }));
server.keepAliveTimeout = 75_000;
server.listen(cfg.port, '127.0.0.1', () => onListening('http-proxy', cfg.port));
