import http from 'node:http';
import t from 'tap';
import { gateway } from '../helpers/gateway.js';
import { backend, freePort, table } from '../helpers/ir.js';
import { upstream } from '../helpers/upstream.js';

const MiB = 1024 * 1024;
const TOTAL = 50 * MiB;

t.test('50 MiB up and 50 MiB down stream through without buffering', async (t) => {
  // upstream: counts the upload, then streams TOTAL bytes back
  let upSent = 0;
  let upReceived = 0;
  const up = await upstream((req, res) => {
    let n = 0;
    // read the upload slowly at first: back-pressure must reach the client
    req.pause();
    setTimeout(() => req.resume(), 400);
    req.on('data', (c: Buffer) => {
      n += c.length;
      upReceived = n;
    });
    req.on('end', () => {
      res.writeHead(200, { 'x-uploaded': String(n) });
      const chunk = Buffer.alloc(64 * 1024, 120);
      let sent = 0;
      const pump = (): void => {
        while (sent < TOTAL) {
          sent += chunk.length;
          upSent = sent;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
  });
  const port = await freePort();
  const tbl = table([{ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], [backend('up', [{ address: '127.0.0.1', port: up.port }])]);
  const { rt, port: gw } = await gateway(tbl);
  t.teardown(async () => {
    await rt.close(100);
    await up.close();
  });
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  let downWhilePaused = 0;
  let clientSent = 0;
  let upWhilePaused = -1;
  setTimeout(() => {
    upWhilePaused = clientSent;
  }, 350);
  const result = await new Promise<{ status: number; uploaded: string; down: number }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: gw, method: 'PUT', path: '/big', headers: { host: 'x', 'content-length': String(TOTAL) } }, (res) => {
      let down = 0;
      // read slowly at first so back-pressure has to hold the upstream
      res.pause();
      setTimeout(() => {
        downWhilePaused = upSent;
        res.resume();
      }, 400);
      res.on('data', (c: Buffer) => (down += c.length));
      res.on('end', () => resolve({ status: res.statusCode!, uploaded: String(res.headers['x-uploaded']), down }));
      res.on('error', reject);
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(64 * 1024, 97);
    let sent = 0;
    const pump = (): void => {
      while (sent < TOTAL) {
        sent += chunk.length;
        clientSent = sent;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
  clearInterval(timer);
  t.equal(result.status, 200);
  t.equal(result.uploaded, String(TOTAL), 'all bytes uploaded');
  t.equal(result.down, TOTAL, 'all bytes downloaded');
  t.ok(upWhilePaused >= 0 && upWhilePaused < 16 * MiB, `upload held back while the upstream does not read (${(upWhilePaused / MiB).toFixed(1)} MiB sent)`);
  t.ok(downWhilePaused < 16 * MiB, `download held back while the client does not read (${(downWhilePaused / MiB).toFixed(1)} MiB sent by upstream)`);
  void upReceived;
  const growth = (peak - rss0) / MiB;
  // client, gateway and upstream share this process (garbage included): 200 MiB of buffers pass through
  t.ok(growth < 120, `RSS growth stays bounded (${growth.toFixed(1)} MiB for 100 MiB moved)`);
});
