// The admin port is a browser target too (the dashboard). A DNS-rebinding page reaches 127.0.0.1 with its
// own hostname in Host; a cross-site form posts with a foreign Origin. Both must be refused before they
// can trigger a reload, while scrapers reading /metrics by service name keep working.
import t from 'tap';
import * as http from 'node:http';
import { AdminServer, type AdminSource } from '../../src/admin.js';
import { Metrics } from '../../src/metrics.js';

function request(port: number, path: string, method: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, setHost: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('rebinding and cross-site requests are refused; scripts and same-origin pages are not', async (t) => {
  let reloads = 0;
  const src: AdminSource = {
    ready: () => true,
    draining: () => false,
    table: () => null,
    status: () => ({}),
    reload: async () => {
      reloads++;
      return { result: 'unchanged' };
    },
    version: () => ({ version: 'test' }),
  };
  const admin = new AdminServer({ source: src, metrics: new Metrics({ version: 'test' }), dashboard: { live: null } });
  await admin.listen('127.0.0.1', 0);
  t.teardown(() => admin.close());
  const port = admin.address().port;
  const self = `127.0.0.1:${port}`;

  t.equal(await request(port, '/reload', 'POST', { host: 'evil.example:9901', origin: 'http://evil.example:9901' }), 403, 'rebinding page: no reload');
  t.equal(await request(port, '/reload', 'POST', { host: 'evil.example:9901', 'sec-fetch-site': 'same-origin' }), 403, 'rebinding page without Origin: no reload');
  t.equal(await request(port, '/reload', 'POST', { host: self, origin: 'http://evil.example' }), 403, 'cross-site form: no reload');
  t.equal(await request(port, '/', 'GET', { host: 'evil.example' }), 403, 'dashboard refuses a rebinding host');
  t.equal(reloads, 0, 'nothing was reloaded');

  t.equal(await request(port, '/reload', 'POST', { host: self }), 200, 'curl -X POST from the machine');
  t.equal(await request(port, '/reload', 'POST', { host: `localhost:${port}`, origin: `http://localhost:${port}` }), 200, 'the dashboard itself');
  t.equal(await request(port, '/', 'GET', { host: self }), 200, 'dashboard by IP');
  t.equal(await request(port, '/metrics', 'GET', { host: 'gatehouse:9901' }), 200, 'a scraper by compose service name');
  t.equal(await request(port, '/reload', 'POST', { host: 'gatehouse:9901' }), 200, 'a script in another container, by service name');
  t.equal(reloads, 3);
});
