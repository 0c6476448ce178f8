import t from 'tap';
import { REDACTED, serializeTable, stableStringify, type RoutingTable } from '../../src/index.js';

const table: RoutingTable = {
  hash: 'abc',
  ports: [],
  backends: [{ resolution: 'DNS', id: 'Service default/web:80', protocol: 'http1', endpoints: [{ port: 80, address: 'web', unix: false, dns: true }] }],
  certificates: [{ secret: 'default/cert', cert: 'CERT', key: 'SECRET KEY', hostnames: ['a.example.com'] }],
};

t.test('keys are sorted at every level, 2-space indent, trailing newline', async (t) => {
  const out = serializeTable(table);
  t.ok(out.endsWith('}\n'));
  t.match(out, /^\{\n {2}"backends": \[/);
  const keys = [...out.matchAll(/^ {6}"(\w+)":/gm)].map((m) => m[1]);
  t.same(keys, ['endpoints', 'id', 'protocol', 'resolution', 'cert', 'hostnames', 'key', 'secret']);
  t.same(Object.keys(JSON.parse(out)), ['backends', 'certificates', 'hash', 'ports']);
});

t.test('certificate keys are redacted unless asked not to', async (t) => {
  t.notMatch(serializeTable(table), /SECRET KEY/);
  t.equal(JSON.parse(serializeTable(table)).certificates[0].key, REDACTED);
  t.match(serializeTable(table, { redactKeys: false }), /SECRET KEY/);
  t.equal(table.certificates[0].key, 'SECRET KEY', 'the table itself is not modified');
});

t.test('the same content in another key order serialises identically', async (t) => {
  const shuffled = JSON.parse(JSON.stringify(table), (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
  ) as RoutingTable;
  t.equal(serializeTable(shuffled), serializeTable(table));
  t.equal(stableStringify({ b: 1, a: [{ d: 1, c: undefined }] }), '{\n  "a": [\n    {\n      "d": 1\n    }\n  ],\n  "b": 1\n}');
});
