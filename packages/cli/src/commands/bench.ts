/**
 * `gatehouse bench DIR`: load-benchmark a set of routing rules (docs/bench-command.md).
 *
 * Requests are derived from the compiled routes (one per HTTP listener/route/rule/match) or read from
 * `--requests FILE`, then driven through an in-process gateway on DIR whose backends are replaced by
 * local echo servers (on the compiled table only; the files are never touched), or through a running
 * gateway (`--target URL`, loopback unless `--allow-remote`). `--offline` times the matcher alone.
 * The report: throughput, latency percentiles and histogram, status codes, per rule counts, each
 * backend's share against the configured weights, and the requests that reached no route or another
 * rule than expected. Exit 0 after a run (whatever it measured), 1 when DIR does not load or the run
 * cannot start, 2 on usage errors.
 */
import { readFile } from 'node:fs/promises';
import type { CompileOptions } from '@gatehouse/core';
import { formatBenchReport } from '../bench/report.js';
import {
  deriveRequests,
  parseRequestsFile,
  ruleKey,
  ruleLabel,
  type BenchRequest,
  type Derivation,
} from '../bench/requests.js';
import { runLoadBench, runOfflineBench, type BenchReport, type BenchSettings, type Progress } from '../bench/run.js';
import { loadAndCompile } from './routes.js';

export const usage =
  'bench DIR [--duration 10s] [--requests N|FILE] [--connections 32] [--rate R] [--mix KEY=W,...] [--target URL [--allow-remote]] [--offline] [-o json]';

const HELP = `usage: gatehouse ${usage}

Load-benchmark the routing rules in DIR. By default the requests are derived from the routes (one per
listener/route/rule/match) and sent through a gateway started in-process on DIR, with every backend
replaced by a local echo server and every HTTP listener moved to a free port on 127.0.0.1.

  --duration D           how long to send (default 10s; at most ${MAX_DURATION_TEXT()}; --offline: default 2s)
  --requests N           stop after N requests (still bounded by the duration)
  --requests FILE        send the requests in FILE instead of derived ones (JSON lines, or
                         "METHOD URL [Name: value]..." lines; see docs/bench-command.md)
  --connections N        concurrent keep-alive connections (default 32)
  --rate R               at most R requests per second in total (default: as fast as possible)
  --mix KEY=W,...        weights in the round-robin mix; KEY is a route "ns/name", a rule "ns/name#N"
                         or a request "#ID" (default: every request weight 1)
  --target URL           send to an already running gateway instead (backend shares need echo-style
                         answers with a "pod"/"service" field); loopback only unless --allow-remote
  --allow-remote         allow a --target that is not a loopback address
  --offline              time the matcher alone (selectGroup + match per request), no sockets
  --timeout D            per-request timeout (default 10s)
  --quiet                no progress on stderr
  -o, --output json|text the report format (default text)
  --gateway-class NAME   serve only Gateways of this class (repeatable)
  --backend-resolution default|strict
`;

const MAX_DURATION_MS = 5 * 60_000;

/** `10s`, `500ms`, `1m`, `1.5s` or a bare number of seconds → milliseconds. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s.trim());
  if (!m) throw new Error(`invalid duration "${s}" (e.g. 10s, 500ms, 1m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000));
}
function MAX_DURATION_TEXT(): string {
  return '5m';
}
const MAX_CONNECTIONS = 1024;

interface BenchArgs {
  dir: string;
  durationMs: number | null;
  maxRequests: number | null;
  requestsFile: string | null;
  connections: number;
  rate: number | null;
  mix: Map<string, number>;
  target: string | null;
  allowRemote: boolean;
  offline: boolean;
  timeoutMs: number;
  quiet: boolean;
  output: 'text' | 'json';
  options: CompileOptions;
  help: boolean;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs | string {
  const a: BenchArgs = {
    dir: '',
    durationMs: null,
    maxRequests: null,
    requestsFile: null,
    connections: 32,
    rate: null,
    mix: new Map(),
    target: null,
    allowRemote: false,
    offline: false,
    timeoutMs: 10_000,
    quiet: false,
    output: 'text',
    options: {},
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      const v = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') throw new Error(`${flag} expects a value`);
      return v;
    };
    try {
      switch (flag) {
        case '-h':
        case '--help':
          a.help = true;
          break;
        case '--duration': {
          const ms = parseDuration(value());
          if (ms <= 0) return '--duration must be positive';
          a.durationMs = ms;
          break;
        }
        case '--requests': {
          const v = value();
          if (/^\d+$/.test(v)) {
            a.maxRequests = Number(v);
            if (a.maxRequests < 1) return '--requests N must be at least 1';
          } else a.requestsFile = v;
          break;
        }
        case '--connections':
        case '-c': {
          const v = value();
          const n = Number(v);
          if (!/^\d+$/.test(v) || n < 1 || n > MAX_CONNECTIONS) return `--connections must be an integer from 1 to ${MAX_CONNECTIONS} (got "${v}")`;
          a.connections = n;
          break;
        }
        case '--rate': {
          const v = value();
          const n = Number(v);
          if (!(n > 0) || !Number.isFinite(n)) return `--rate must be a positive number of requests per second (got "${v}")`;
          a.rate = n;
          break;
        }
        case '--mix':
          for (const part of value().split(',')) {
            const m = /^\s*(#\d+|[^=\s]+\/[^=\s#]+(?:#\d+)?)\s*=\s*(\d+)\s*$/.exec(part);
            if (m === null) return `--mix expects KEY=WEIGHT,... with KEY "ns/name", "ns/name#N" or "#ID" (got "${part}")`;
            a.mix.set(m[1]!, Number(m[2]));
          }
          break;
        case '--target':
          a.target = value();
          break;
        case '--allow-remote':
          a.allowRemote = true;
          break;
        case '--offline':
          a.offline = true;
          break;
        case '--timeout':
          a.timeoutMs = parseDuration(value());
          break;
        case '--quiet':
        case '-q':
          a.quiet = true;
          break;
        case '-o':
        case '--output': {
          const v = value();
          if (v !== 'json' && v !== 'text') return `${flag} expects "json" or "text"`;
          a.output = v;
          break;
        }
        case '--gateway-class':
          (a.options.gatewayClasses ??= []).push(value());
          break;
        case '--backend-resolution': {
          const v = value();
          if (v !== 'default' && v !== 'strict') return '--backend-resolution expects "default" or "strict"';
          a.options.backendResolution = v;
          break;
        }
        default:
          if (arg.startsWith('-') && arg !== '-') return `unknown flag ${arg}`;
          if (a.dir) return `unexpected argument ${arg} (gatehouse bench takes one DIR)`;
          a.dir = arg;
      }
    } catch (e) {
      return `${flag}: ${(e as Error).message}`;
    }
  }
  if (a.help) return a;
  if (!a.dir) return 'missing DIR';
  if (a.durationMs !== null && a.durationMs > MAX_DURATION_MS) return `--duration is capped at ${MAX_DURATION_TEXT()} (got ${a.durationMs / 1000}s)`;
  if (a.offline && a.target) return '--offline and --target do not go together';
  if (a.target) {
    const err = checkTarget(a.target, a.allowRemote);
    if (err) return err;
  }
  return a;
}

/** `--target` must be an http(s) URL on a loopback address unless remote targets are allowed. */
export function checkTarget(url: string, allowRemote: boolean): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `--target must be a URL like http://127.0.0.1:8080 (got "${url}")`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `--target must be http:// or https:// (got "${url}")`;
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  if (!loopback && !allowRemote) return `--target ${u.host} is not a loopback address: bench traffic stays on this machine unless you add --allow-remote`;
  return null;
}

/** Applies `--mix`: the most specific key wins (#ID, then ns/name#N, then ns/name). */
function applyMix(requests: BenchRequest[], mix: Map<string, number>): string | null {
  const used = new Set<string>();
  for (const r of requests) {
    const rule = r.expected ?? r.predicted.rule;
    const keys = [`#${r.id}`, ...(rule ? [ruleKey(rule), rule.route] : [])];
    for (const k of keys) {
      const w = mix.get(k);
      if (w !== undefined) {
        r.weight = w;
        used.add(k);
        break;
      }
    }
  }
  const unused = [...mix.keys()].filter((k) => !used.has(k));
  return unused.length ? `--mix: no request for ${unused.join(', ')}` : null;
}

function makeProgress(quiet: boolean): Progress | undefined {
  if (quiet) return undefined;
  const err = process.stderr;
  const tty = Boolean(err.isTTY);
  let total = 0;
  let max: number | null = null;
  let lastPrint = 0;
  let lastLine = '';
  return {
    start(totalMs, maxRequests) {
      total = totalMs;
      max = maxRequests;
    },
    update(p) {
      const frac = Math.min(1, Math.max(p.elapsedMs / total, max ? p.completed / max : 0));
      const rate = p.elapsedMs > 0 ? Math.round((p.completed / p.elapsedMs) * 1000) : 0;
      const text = `${(p.elapsedMs / 1000).toFixed(1)}s/${(total / 1000).toFixed(0)}s  ${p.completed} responses  ${rate} req/s  ${p.errors} errors`;
      if (tty) {
        const width = 24;
        const filled = Math.round(frac * width);
        lastLine = `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`;
        err.write(lastLine + '\x1b[K');
      } else if (p.elapsedMs - lastPrint >= 1000) {
        lastPrint = p.elapsedMs;
        err.write(`bench: ${text}\n`);
      }
    },
    done() {
      if (tty && lastLine) err.write('\r\x1b[K');
    },
  };
}

function usageError(msg: string): number {
  process.stderr.write(`gatehouse bench: ${msg}\nusage: gatehouse ${usage}\n`);
  return 2;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseBenchArgs(argv);
  if (typeof args === 'string') return usageError(args);
  if (args.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const compiled = await loadAndCompile('bench', args.dir, args.options);
  if (typeof compiled === 'number') return compiled;
  const table = compiled.table;

  let requests: BenchRequest[];
  let derivation: Derivation | null = null;
  const notes: string[] = [];
  const all = deriveRequests(table);
  if (args.requestsFile !== null) {
    let text: string;
    try {
      text = await readFile(args.requestsFile, 'utf8');
    } catch (e) {
      process.stderr.write(`gatehouse bench: cannot read ${args.requestsFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
      return 1;
    }
    const parsed = parseRequestsFile(text, table, args.requestsFile);
    if (typeof parsed === 'string') {
      process.stderr.write(`gatehouse bench: ${parsed}\n`);
      return 1;
    }
    requests = parsed;
  } else {
    derivation = all;
    requests = all.requests;
    notes.push(...all.notes);
  }
  if (requests.length === 0) {
    process.stderr.write(`gatehouse bench: no HTTP request to send: ${args.dir} has no HTTP routes on plain-HTTP listeners\n`);
    return 1;
  }
  const mixErr = applyMix(requests, args.mix);
  if (mixErr) return usageError(mixErr);

  const coveredKeys = new Set(
    requests.filter((r) => r.weight > 0 && r.predicted.rule).map((r) => ruleKey(r.predicted.rule!)),
  );
  const coverage: BenchReport['coverage'] = {
    rules: all.rules.length,
    covered: all.rules.filter((r) => coveredKeys.has(ruleKey(r))).length,
    uncovered: all.rules.filter((r) => !coveredKeys.has(ruleKey(r))).map(ruleLabel),
    skipped: derivation?.skipped ?? [],
  };
  if (args.target) {
    notes.push(
      'counting backend shares needs echo-style answers (a JSON body with "pod"/"service"); answers from other backends count as requests but not per backend',
    );
    notes.push(`every request goes to ${args.target} with the Host header of its URL (listener ports are not mapped)`);
  }

  const settings: BenchSettings = {
    dir: args.dir,
    mode: args.offline ? 'offline' : args.target ? 'target' : 'in-process',
    target: args.target,
    connections: args.connections,
    durationMs: args.durationMs ?? (args.offline ? 2000 : 10_000),
    maxRequests: args.maxRequests,
    rate: args.rate,
    timeoutMs: args.timeoutMs,
  };

  let report: BenchReport;
  if (settings.mode === 'offline') {
    report = runOfflineBench({ settings, table, status: compiled.status, requests, coverage, notes });
  } else {
    let stop: (() => void) | null = null;
    let interrupts = 0;
    const onSigint = (): void => {
      interrupts++;
      if (interrupts > 1) process.exit(130);
      process.stderr.write('\ngatehouse bench: interrupted, finishing the requests in flight (Ctrl-C again to quit)\n');
      stop?.();
    };
    process.on('SIGINT', onSigint);
    try {
      report = await runLoadBench({
        settings,
        table,
        status: compiled.status,
        requests,
        coverage,
        notes,
        progress: makeProgress(args.quiet),
        onStart: (s) => {
          stop = s;
          if (interrupts > 0) s();
        },
      });
    } catch (e) {
      process.stderr.write(`gatehouse bench: ${(e as Error).message}\n`);
      return 1;
    } finally {
      process.off('SIGINT', onSigint);
    }
  }
  process.stdout.write(args.output === 'json' ? JSON.stringify(report, null, 2) + '\n' : formatBenchReport(report));
  return 0;
}
