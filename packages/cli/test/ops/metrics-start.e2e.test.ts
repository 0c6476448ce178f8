/**
 * /metrics right after `gatehouse run` is ready, before any request (operations.md "Metrics"): the
 * series that exist at prepare time are there with zeros; request counters keyed by a status code
 * appear with the first request of that code.
 */
import t from 'tap';
import http from 'node:http';
import { gatehouse, quickstartEnv, waitReady, withTimeout } from './e2e-helpers.js';

const LISTENER = 'default/demo/http';

function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && line.split(' ')[0] !== name) continue;
    const open = line.indexOf('{');
    const close = line.lastIndexOf('}');
    const got: Record<string, string> = {};
    if (open !== -1) for (const m of line.slice(open + 1, close).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) got[m[1]] = m[2];
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

t.test('/metrics right after start: zeros where a series can exist honestly, no invented status codes', async (t) => {
  const env = await quickstartEnv();
  t.teardown(env.close);
  const p = gatehouse(['run', env.dir, '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'off', '--no-watch']);
  t.teardown(() => void p.child.kill('SIGKILL'));
  await waitReady(env.admin, p);
  const text = await (await fetch(`http://127.0.0.1:${env.admin}/metrics`)).text();

  t.equal(sample(text, 'gatehouse_listener_connections_open', { listener: LISTENER }), 0, 'connections_open 0 for the listener');
  t.equal(sample(text, 'gatehouse_listener_request_duration_seconds_count', { gateway: 'default/demo', listener: LISTENER }), 0, 'duration histogram with count 0');
  t.equal(sample(text, 'gatehouse_listener_request_duration_seconds_bucket', { listener: LISTENER, le: '+Inf' }), 0);
  t.equal(sample(text, 'gatehouse_config_reloads_total', { result: 'failure' }), 0);
  t.equal(sample(text, 'gatehouse_config_last_reload_successful', {}), 1);
  t.equal(sample(text, 'gatehouse_process_errors_total', { kind: 'uncaughtException' }), 0);
  t.equal(sample(text, 'gatehouse_process_errors_total', { kind: 'unhandledRejection' }), 0);
  t.notMatch(text, /^gatehouse_listener_requests_total\{/m, 'no listener request series (they carry a status code)');
  t.notMatch(text, /^gatehouse_route_requests_total\{/m, 'no route request series');
  t.notMatch(text, /^gatehouse_backend_requests_total\{/m, 'no backend request series');

  const status = await new Promise<number>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: env.port, path: '/', headers: { host: 'www.example.com' }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
  t.equal(status, 200);
  const after = await (await fetch(`http://127.0.0.1:${env.admin}/metrics`)).text();
  t.equal(sample(after, 'gatehouse_listener_requests_total', { listener: LISTENER, method: 'GET', code: '200' }), 1, 'the first request creates its series');
  t.equal(sample(after, 'gatehouse_listener_request_duration_seconds_count', { listener: LISTENER }), 1);
  p.child.kill('SIGTERM');
  t.equal((await withTimeout(p.exited, 8000, 'exit')).code, 0);
});
