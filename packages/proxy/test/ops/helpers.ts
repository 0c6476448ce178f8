import type { RoutingTable } from '@gatehouse/core';
import type { RequestRecord } from '../../src/api.js';

/** A small table: one HTTP port with one listener, one route with two rules, two backends. */
export function sampleTable(): RoutingTable {
  return {
    hash: 'h1',
    ports: [
      {
        key: '0.0.0.0:8080/tcp',
        address: null,
        port: 8080,
        transport: 'tcp',
        protocol: 'HTTP',
        listeners: [
          { id: 'default/gw/http', gateway: 'default/gw', name: 'http', protocol: 'HTTP', port: 8080, hostname: null, tls: null, group: 0 },
        ],
        httpGroups: [
          {
            hostname: null,
            listeners: [0],
            secure: false,
            listenerPort: 8080,
            entries: [],
            rules: [
              { route: 'default/web', routeKind: 'HTTPRoute', ruleIndex: 0, ruleName: null, filters: [], backendRefs: [], timeouts: { requestMs: null, backendRequestMs: null }, retry: null },
              { route: 'default/web', routeKind: 'HTTPRoute', ruleIndex: 1, ruleName: null, filters: [], backendRefs: [], timeouts: { requestMs: null, backendRequestMs: null }, retry: null },
            ],
          },
        ],
        tlsRoutes: [],
        l4Route: null,
      },
      {
        key: '0.0.0.0:5353/udp', address: null, port: 5353, transport: 'udp', protocol: 'UDP',
        listeners: [{ id: 'default/gw/dns', gateway: 'default/gw', name: 'dns', protocol: 'UDP', port: 5353, hostname: null, tls: null, group: -1 }],
        httpGroups: [], tlsRoutes: [], l4Route: null,
      },
    ],
    backends: [
      { id: 'Service default/web:80', resolution: 'EndpointSlice', protocol: 'http1', endpoints: [{ address: '127.0.0.1', port: 18081, dns: false, unix: false }] },
    ],
    certificates: [{ secret: 'default/tls', cert: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', key: '-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----\n', hostnames: ['a.example.com'] }],
  } as RoutingTable;
}

export function sampleRequest(over: Partial<RequestRecord> = {}): RequestRecord {
  return {
    gateway: 'default/gw',
    listener: 'default/gw/http',
    route: 'default/web',
    rule: 0,
    backend: 'Service default/web:80',
    endpoint: '127.0.0.1:18081',
    method: 'GET',
    status: 200,
    durationMs: 12.5,
    upstreamMs: 10.25,
    bytesIn: 0,
    bytesOut: 123,
    error: null,
    host: 'www.example.com',
    path: '/secret/path?q=1',
    client: '10.1.2.3',
    startTime: Date.UTC(2026, 10, 26, 12, 0, 0),
    ...over,
  };
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A strict parser of the Prometheus text exposition format (0.0.4): every line must be a HELP, a TYPE,
 * or a sample `name{label="value",...} value [timestamp]`; label values escape only \\, \" and \n;
 * TYPE comes before the samples of its family; a family is not split.
 */
export function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  const seenFamilies = new Set<string>();
  let current = '';
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const lines = text.slice(0, -1).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line === '') continue;
    let m: RegExpExecArray | null;
    if ((m = /^# HELP ([^ ]+) (.*)$/.exec(line))) {
      if (!NAME.test(m[1])) throw new Error(`bad metric name in HELP, ${where}`);
      if (helps.has(m[1])) throw new Error(`duplicate HELP, ${where}`);
      helps.add(m[1]);
      continue;
    }
    if ((m = /^# TYPE ([^ ]+) (counter|gauge|histogram|summary|untyped)$/.exec(line))) {
      if (types.has(m[1])) throw new Error(`duplicate TYPE, ${where}`);
      if (seenFamilies.has(m[1])) throw new Error(`TYPE after samples, ${where}`);
      types.set(m[1], m[2]);
      current = m[1];
      continue;
    }
    if (line.startsWith('#')) throw new Error(`unexpected comment, ${where}`);
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([^ ]+)( -?\d+)?$/.exec(line);
    if (!m) throw new Error(`not a sample, ${where}`);
    const name = m[1];
    const labels: Record<string, string> = {};
    if (m[3] !== undefined && m[3] !== '') {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
      let pos = 0;
      const body = m[3];
      while (pos < body.length) {
        re.lastIndex = pos;
        const lm = re.exec(body);
        if (!lm) throw new Error(`bad label set at ${pos}, ${where}`);
        if (lm[1] in labels) throw new Error(`duplicate label ${lm[1]}, ${where}`);
        labels[lm[1]] = lm[2].replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
        pos = re.lastIndex;
      }
    }
    const vs = m[4];
    // Values follow Go's strconv.ParseFloat (what Prometheus uses): NaN/Inf case-insensitive.
    if (!/^(nan|[+-]?inf(inity)?|[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)$/i.test(vs)) throw new Error(`bad value, ${where}`);
    const lv = vs.toLowerCase();
    const value = lv === 'nan' ? NaN : /inf/.test(lv) ? (lv.startsWith('-') ? -Infinity : Infinity) : Number(vs);
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count|total|created)$/, '');
    const fam = types.has(name) ? name : types.has(family) ? family : name;
    if (fam !== current) {
      if (seenFamilies.has(fam)) throw new Error(`family ${fam} split, ${where}`);
    }
    seenFamilies.add(fam);
    samples.push({ name, labels, value });
  }
  return { samples, types };
}

export function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}
