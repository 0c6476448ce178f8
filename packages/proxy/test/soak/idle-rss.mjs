// RSS per idle keep-alive connection of a `gatehouse run` process (docs/reliability.md).
// Usage: node packages/proxy/test/soak/idle-rss.mjs N   (e.g. 10000)
// Starts `gatehouse echo` and `gatehouse run` (separate processes), opens N connections from this
// process, each sending one request and then staying idle, and reads the gateway's VmRSS from /proc.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// tap picks up every file under test/: without an argument this is a no-op (a measurement, not a test)
if (process.argv[2] === undefined) {
  console.log('# idle-rss: a measurement; run with a connection count, e.g. `node idle-rss.mjs 10000`');
  process.exit(0);
}
const N = Number(process.argv[2]);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const bin = path.join(root, 'packages/cli/dist/bin.js');
async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}
const [BE, GW, ADMIN] = [await freePort(), await freePort(), await freePort()];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-idle-'));
fs.writeFileSync(path.join(dir, 'gw.yaml'), `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: gh}
spec: {controllerName: gatehouse.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: gh
  listeners: [{name: http, protocol: HTTP, port: ${GW}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: be, port: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: be, namespace: default}
spec: {ports: [{port: 80, targetPort: ${BE}}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: be, namespace: default, labels: {kubernetes.io/service-name: be}}
addressType: IPv4
ports: [{port: ${BE}}]
endpoints: [{addresses: ["127.0.0.1"], conditions: {ready: true}}]
`);
const echo = spawn('node', [bin, 'echo', '--port', String(BE)], { stdio: 'ignore' });
const gw = spawn('node', [bin, 'run', dir, '--bind', '127.0.0.1', '--admin', `127.0.0.1:${ADMIN}`, '--access-log', 'off', '--log-level', 'warn', '--no-watch', '--idle-timeout', '10m'], { stdio: 'inherit' });
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${gw.pid}/status`, 'utf8'))[1]) / 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function once(keep) {
  return new Promise((resolve) => {
    const s = net.connect(GW, '127.0.0.1');
    s.on('error', () => resolve(null));
    s.once('connect', () => s.write('GET /warm HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.once('data', () => resolve(keep ? s : (s.destroy(), null)));
  });
}
try {
  for (let i = 0; i < 100; i++) { if ((await once(false)) !== null || i > 50) break; await sleep(100); }
  for (let i = 0; i < 200; i++) await once(false); // warm JIT and pools
  await sleep(1000);
  const before = rss();
  const socks = [];
  for (let i = 0; i < N; i += 200) {
    const batch = await Promise.all(Array.from({ length: Math.min(200, N - i) }, () => once(true)));
    for (const s of batch) if (s) socks.push(s);
  }
  await sleep(3000);
  const after = rss();
  const out = { connections: socks.length, rssBeforeMiB: +before.toFixed(1), rssAfterMiB: +after.toFixed(1), kibPerConnection: +(((after - before) * 1024) / socks.length).toFixed(2) };
  console.log(JSON.stringify(out));
  for (const s of socks) s.destroy();
} finally {
  gw.kill('SIGINT');
  echo.kill();
  await sleep(500);
  gw.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
}
