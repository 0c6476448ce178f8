/** Peer: node:http server + fast-proxy (undici pool per backend, keep-alive). */
import http from 'node:http';
import fastProxy from 'fast-proxy';
import { loadConfig, onListening, weightedPicker } from './common.js';

const cfg = loadConfig();
const proxies = cfg.targets.map((t) => fastProxy({ base: t.url, undici: { connections: 64, pipelining: 1 } }).proxy);
const pick = weightedPicker(cfg.targets);
const server = http.createServer((req, res) => proxies[pick()](req, res, req.url, {}));
server.keepAliveTimeout = 75_000;
server.listen(cfg.port, '127.0.0.1', () => onListening('fast-proxy', cfg.port));
