#!/usr/bin/env node
/**
 * `pnpm conformance [--run A,B] [--must-pass expected|core|none] [--conformance-dir DIR]
 *  [--request-timeout MS] [--test-timeout MS] [--suite-timeout MS] [--consistency MS] [--keep] [--no-write]`
 * Exit 0 when every must-pass test passed, 1 when one did not, 2 on usage errors.
 */
import { renderPublished, runConformance, type ConformanceOptions } from './index.js';

const USAGE = `usage: gatehouse-conformance [options]
  --run NAME[,NAME...]        run only these upstream tests (ShortName)
  --must-pass core|expected|none
                              which tests decide the exit code: every Core GATEWAY-HTTP test (default),
                              the tests in cases/expected-pass.json, or none
  --conformance-dir DIR       upstream manifests (default $GATEHOUSE_CONFORMANCE_DIR or /work/shared/conformance)
  --request-timeout MS        per request (default 5000)
  --test-timeout MS           per test (default 60000)
  --suite-timeout MS          whole run; tests after it are SKIPped (default 480000)
  --consistency MS            how long a failing request is retried before it counts as failed (default 500)
  --backend-resolution strict|default
                              compile's backend resolution (default strict: Services must exist, as in Kubernetes)
  --http-engine node|fast     the proxy's HTTP/1.1 engine (default: the proxy's default, fast); both must pass alike
  --keep                      keep the assembled directories (printed at the end)
  --no-write                  do not write results/latest.json, RESULTS.md and the README's conformance block
  --render                    run nothing: render RESULTS.md and the README block from results/latest.json again
`;

function parse(argv: string[]): (ConformanceOptions & { render?: boolean }) | string {
  const o: ConformanceOptions & { render?: boolean } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const num = (): number => {
      const n = Number(val());
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${a} needs a positive number`);
      return n;
    };
    switch (a) {
      case '--run': o.only = val().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--must-pass': {
        const v = val();
        if (v !== 'expected' && v !== 'core' && v !== 'none') return `--must-pass: expected, core or none`;
        o.mustPass = v;
        break;
      }
      case '--conformance-dir': o.conformanceDir = val(); break;
      case '--request-timeout': o.requestTimeoutMs = num(); break;
      case '--test-timeout': o.testTimeoutMs = num(); break;
      case '--suite-timeout': o.suiteTimeoutMs = num(); break;
      case '--consistency': o.consistencyMs = num(); break;
      case '--backend-resolution': {
        const v = val();
        if (v !== 'strict' && v !== 'default') return '--backend-resolution: strict or default';
        o.backendResolution = v;
        break;
      }
      case '--http-engine': o.httpEngine = val(); break;
      case '--keep': o.keepDirs = true; break;
      case '--no-write': o.write = false; break;
      case '--render': o.render = true; break;
      case '-h': case '--help': return '';
      default: return `unknown option ${a}`;
    }
  }
  return o;
}

async function main(): Promise<number> {
  let o: (ConformanceOptions & { render?: boolean }) | string;
  try {
    o = parse(process.argv.slice(2));
  } catch (e) {
    o = (e as Error).message;
  }
  if (typeof o === 'string') {
    if (o) process.stderr.write(`gatehouse-conformance: ${o}\n`);
    process.stderr.write(USAGE);
    return o ? 2 : 0;
  }
  if (o.render) {
    renderPublished();
    return 0;
  }
  const { exitCode } = await runConformance(o);
  return exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Echo pods and runtimes are closed; anything left (a stuck socket) must not keep CI waiting.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`gatehouse-conformance: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
