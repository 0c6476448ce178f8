import t from 'tap';
import { parseClientHello } from '../../src/match/sni.js';
import type { ClientHelloResult } from '../../src/match/sni.js';
import { captureClientHello, fragment } from './sni-capture.js';

// ---------------------------------------------------------------------------------------------- builders

const u16 = (n: number): Buffer => Buffer.of(n >> 8, n & 0xff);
const vec16 = (b: Buffer): Buffer => Buffer.concat([u16(b.length), b]);
const ext = (type: number, data: Buffer): Buffer => Buffer.concat([u16(type), vec16(data)]);
const sniExt = (...names: (string | Buffer)[]): Buffer =>
  ext(0, vec16(Buffer.concat(names.map((n) => {
    const b = typeof n === 'string' ? Buffer.from(n, 'latin1') : n;
    return Buffer.concat([Buffer.of(0), vec16(b)]);
  }))));
const alpnExt = (...protos: string[]): Buffer =>
  ext(16, vec16(Buffer.concat(protos.map((p) => Buffer.concat([Buffer.of(p.length), Buffer.from(p, 'latin1')])))));

/** A hand-built ClientHello in one record. `extensions: null` omits the extensions block entirely. */
function hello(
  extensions: Buffer[] | null,
  o: { sessionId?: number; suites?: number; compression?: number; version?: number } = {},
): Buffer {
  const body = Buffer.concat([
    u16(o.version ?? 0x0303),
    Buffer.alloc(32, 7),
    Buffer.of(o.sessionId ?? 32),
    Buffer.alloc(o.sessionId ?? 32, 1),
    vec16(Buffer.alloc(o.suites ?? 4, 0x13)),
    Buffer.of(o.compression ?? 1, ...Buffer.alloc(o.compression ?? 1)),
    extensions === null ? Buffer.alloc(0) : vec16(Buffer.concat(extensions)),
  ]);
  const hs = Buffer.concat([Buffer.of(1, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff), body]);
  return Buffer.concat([Buffer.of(22, 3, 1), u16(hs.length), hs]);
}

const ok = (sni: string | null, alpn: string[] = []): ClientHelloResult => ({ status: 'ok', sni, alpn });
const status = (r: ClientHelloResult): string => r.status;

// ---------------------------------------------------------------------------------------------- real hellos

t.test('real ClientHellos from Node (OpenSSL)', async (t) => {
  const cases: { name: string; opts: Parameters<typeof captureClientHello>[0]; want: ClientHelloResult }[] = [
    { name: 'TLS 1.3, SNI + ALPN', opts: { servername: 'Foo.Example.com', ALPNProtocols: ['h2', 'http/1.1'] }, want: ok('foo.example.com', ['h2', 'http/1.1']) },
    { name: 'TLS 1.2 only', opts: { servername: 'db.example.com', maxVersion: 'TLSv1.2' }, want: ok('db.example.com') },
    { name: 'TLS 1.0 minimum', opts: { servername: 'a.b.c.example.org', minVersion: 'TLSv1', maxVersion: 'TLSv1.2' }, want: ok('a.b.c.example.org') },
    { name: 'no SNI (IP address)', opts: { ALPNProtocols: ['http/1.1'] }, want: ok(null, ['http/1.1']) },
    { name: 'long name', opts: { servername: `${'x'.repeat(63)}.${'y'.repeat(63)}.example.com` }, want: ok(`${'x'.repeat(63)}.${'y'.repeat(63)}.example.com`) },
  ];
  for (const c of cases) {
    const h = await captureClientHello(c.opts);
    t.same(parseClientHello(h), c.want, `${c.name}: complete`);
    t.same(parseClientHello(Buffer.concat([h, Buffer.from('trailing application bytes')])), c.want, `${c.name}: bytes after the hello are ignored`);

    // Every split point of the TCP stream: each prefix is a valid beginning.
    let bad = -1;
    for (let i = 0; i < h.length; i++) {
      if (status(parseClientHello(h.subarray(0, i))) !== 'need-more') {
        bad = i;
        break;
      }
    }
    t.equal(bad, -1, `${c.name}: every proper prefix (${h.length} of them) needs more`);

    // Re-fragmented into several records (the handshake message reassembled across them).
    for (const size of [8, 13, 50, 100, 255, 1000, 16384]) {
      const f = fragment(h, size);
      t.same(parseClientHello(f), c.want, `${c.name}: fragmented into ${size}-byte records`);
    }
    const f = fragment(h, 37);
    let badF = -1;
    for (let i = 0; i < f.length; i++) {
      if (status(parseClientHello(f.subarray(0, i))) !== 'need-more') {
        badF = i;
        break;
      }
    }
    t.equal(badF, -1, `${c.name}: every prefix of the fragmented form needs more`);
    t.same(parseClientHello(fragment(h, 1)).status, 'invalid', `${c.name}: 1-byte records are refused (too many records)`);
  }
});

// ---------------------------------------------------------------------------------------------- hand-built

t.test('hand-built hellos', async (t) => {
  const cases: [string, Buffer, ClientHelloResult | 'invalid'][] = [
    ['no extensions block', hello(null), ok(null)],
    ['empty extensions block', hello([]), ok(null)],
    ['SNI only', hello([sniExt('www.example.com')]), ok('www.example.com')],
    ['uppercase SNI lowercased', hello([sniExt('WWW.Example.COM')]), ok('www.example.com')],
    ['trailing dot removed', hello([sniExt('example.com.')]), ok('example.com')],
    ['ALPN before SNI', hello([alpnExt('h2'), sniExt('x.io')]), ok('x.io', ['h2'])],
    ['unknown extensions skipped', hello([ext(0xfe0d, Buffer.alloc(40, 9)), sniExt('a.io'), ext(43, Buffer.of(2, 3, 4))]), ok('a.io')],
    ['empty server_name extension means no SNI', hello([ext(0, Buffer.alloc(0))]), ok(null)],
    ['only a non-host_name entry', hello([ext(0, vec16(Buffer.concat([Buffer.of(7), vec16(Buffer.from('zz'))])))]), ok(null)],
    ['first host_name wins', hello([sniExt('one.io', 'two.io')]), ok('one.io')],
    ['no session id', hello([sniExt('s.io')], { sessionId: 0 }), ok('s.io')],
    ['TLS 1.0 legacy version', hello([sniExt('old.io')], { version: 0x0301 }), ok('old.io')],
    ['underscore and digits allowed', hello([sniExt('_svc.h0st-1.io')]), ok('_svc.h0st-1.io')],
    ['duplicate SNI extension', hello([sniExt('a.io'), sniExt('b.io')]), 'invalid'],
    ['duplicate ALPN extension', hello([alpnExt('h2'), alpnExt('h2')]), 'invalid'],
    ['NUL byte in SNI', hello([sniExt(Buffer.from('evil.com\u0000.good.com', 'latin1'))]), 'invalid'],
    ['space in SNI', hello([sniExt('a b.io')]), 'invalid'],
    ['UTF-8 in SNI', hello([sniExt(Buffer.from('bücher.de', 'utf8'))]), 'invalid'],
    ['empty label', hello([sniExt('a..io')]), 'invalid'],
    ['empty name', hello([sniExt('')]), 'invalid'],
    ['label longer than 63', hello([sniExt(`${'a'.repeat(64)}.io`)]), 'invalid'],
    ['empty ALPN name', hello([ext(16, vec16(Buffer.of(0)))]), 'invalid'],
    ['ALPN name overruns', hello([ext(16, vec16(Buffer.of(5, 0x68, 0x32)))]), 'invalid'],
    ['session id longer than 32', hello([sniExt('a.io')], { sessionId: 33 }), 'invalid'],
    ['odd cipher suites length', hello([sniExt('a.io')], { suites: 3 }), 'invalid'],
    ['no cipher suites', hello([sniExt('a.io')], { suites: 0 }), 'invalid'],
    ['no compression methods', hello([sniExt('a.io')], { compression: 0 }), 'invalid'],
    ['SSL 2 version', hello([sniExt('a.io')], { version: 0x0200 }), 'invalid'],
  ];
  for (const [name, buf, want] of cases) {
    const got = parseClientHello(buf);
    if (want === 'invalid') t.equal(got.status, 'invalid', name);
    else t.same(got, want, name);
  }

  // Inconsistent lengths inside a complete record.
  const h = hello([sniExt('len.io'), alpnExt('h2')]);
  const extStart = h.length - (sniExt('len.io').length + alpnExt('h2').length) - 2;
  const badExtLen = Buffer.from(h);
  badExtLen.writeUInt16BE(0xfff0, extStart);
  t.equal(parseClientHello(badExtLen).status, 'invalid', 'extensions length larger than the message');
  const badSniList = Buffer.from(h);
  badSniList.writeUInt16BE(0xff, extStart + 2 + 4); // server_name_list length
  t.equal(parseClientHello(badSniList).status, 'invalid', 'server_name list length wrong');
  const badName = Buffer.from(h);
  badName.writeUInt16BE(0xff, extStart + 2 + 4 + 2 + 1); // host_name length
  t.equal(parseClientHello(badName).status, 'invalid', 'host_name length overruns');
  const shortHs = Buffer.from(h);
  shortHs.writeUIntBE(10, 6, 3); // handshake length too small for any ClientHello
  t.equal(parseClientHello(shortHs).status, 'invalid', 'handshake length too small');
});

t.test('not a ClientHello', async (t) => {
  const cases: [string, Buffer][] = [
    ['plain HTTP', Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n')],
    ['SSLv2-style hello', Buffer.of(0x80, 0x2e, 0x01, 0x00, 0x02)],
    ['alert record', Buffer.of(21, 3, 3, 0, 2, 2, 40)],
    ['change_cipher_spec first', Buffer.of(20, 3, 3, 0, 1, 1)],
    ['bad record version', Buffer.of(22, 2, 0, 0, 4)],
    ['empty handshake record', Buffer.of(22, 3, 1, 0, 0)],
    ['record longer than 2^14', Buffer.of(22, 3, 1, 0x40, 0x01)],
    ['ServerHello instead of ClientHello', Buffer.of(22, 3, 3, 0, 4, 2, 0, 0, 0)],
    ['HTTP/2 preface', Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')],
  ];
  for (const [name, buf] of cases) t.equal(parseClientHello(buf).status, 'invalid', name);
  t.same(parseClientHello(new Uint8Array(0)), { status: 'need-more' }, 'empty input needs more');
  t.same(parseClientHello(Buffer.of(22)), { status: 'need-more' }, 'one byte needs more');
  t.same(parseClientHello(Buffer.of(22, 3, 1, 0, 200, 1, 0)), { status: 'need-more' }, 'partial record needs more');
  // A non-handshake record after the first fragment of the hello.
  const h = hello([sniExt('frag.io')]);
  const f = fragment(h, 20);
  const interleaved = Buffer.concat([f.subarray(0, 25), Buffer.of(21, 3, 3, 0, 2, 1, 0), f.subarray(25)]);
  t.equal(parseClientHello(interleaved).status, 'invalid', 'alert between hello fragments');
});

t.test('never throws: random garbage and mutated hellos (seeded)', async (t) => {
  let seed = 0x2545f491;
  const rnd = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  const base = await captureClientHello({ servername: 'fuzz.example.com', ALPNProtocols: ['h2'] });
  const counts: Record<string, number> = { ok: 0, 'need-more': 0, invalid: 0 };
  let threw = 0;
  for (let i = 0; i < 20_000; i++) {
    let buf: Buffer;
    if (i % 2 === 0) {
      buf = Buffer.from(base);
      const flips = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < flips; k++) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
      if (rnd() < 0.3) buf = buf.subarray(0, Math.floor(rnd() * buf.length));
    } else {
      buf = Buffer.alloc(Math.floor(rnd() * 600));
      for (let k = 0; k < buf.length; k++) buf[k] = Math.floor(rnd() * 256);
      if (rnd() < 0.5 && buf.length > 2) {
        buf[0] = 22;
        buf[1] = 3;
      }
    }
    try {
      const r = parseClientHello(buf);
      counts[r.status] = (counts[r.status] ?? 0) + 1;
      if (r.status === 'ok' && r.sni !== null && !/^[a-z0-9_.-]+$/.test(r.sni)) {
        t.fail(`unsafe SNI returned: ${JSON.stringify(r.sni)}`);
      }
    } catch {
      threw++;
    }
  }
  t.equal(threw, 0, 'no input throws');
  t.ok(counts.ok! > 0 && counts.invalid! > 0 && counts['need-more']! > 0, `all outcomes seen ${JSON.stringify(counts)}`);
});
