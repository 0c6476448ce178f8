import t from 'tap';
import { parseClientHello } from '../../src/match/sni.js';
import { captureClientHello, fragment } from './sni-capture.js';

t.test('smoke', async (t) => {
  const h = await captureClientHello({ servername: 'Foo.Example.com', ALPNProtocols: ['h2', 'http/1.1'] });
  t.same(parseClientHello(h), { status: 'ok', sni: 'foo.example.com', alpn: ['h2', 'http/1.1'] });
  t.same(parseClientHello(fragment(h, 7)), { status: 'ok', sni: 'foo.example.com', alpn: ['h2', 'http/1.1'] });
});
