/**
 * Static checks of examples/compose (no Docker engine here): the config directory is valid, every
 * backendRef names a compose service on a port that service listens on, and the Dockerfile has its
 * stages (pnpm package in the builder, the single executable on a distroless base), a non-root USER,
 * a HEALTHCHECK through `gatehouse healthcheck`, ENTRYPOINT gatehouse and CMD run /etc/gatehouse.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { compile, hasErrors } from '@gatehouse/core';
import { loadResources } from '../../src/load/index.js';

const DIR = resolve(import.meta.dirname, '../../../../examples/compose');

interface ComposeService {
  command?: string[];
  expose?: string[];
  ports?: string[];
  volumes?: string[];
  build?: { context: string; dockerfile: string };
}

const compose = parse(readFileSync(join(DIR, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };

/** The port a compose service listens on: `--port N` in its command. */
function listenPort(s: ComposeService): number | null {
  const c = s.command ?? [];
  const i = c.indexOf('--port');
  return i >= 0 ? Number(c[i + 1]) : null;
}

t.test('every backendRef is a compose service, on the port it listens on', async (t) => {
  const loaded = await loadResources(join(DIR, 'gateway'));
  t.notOk(hasErrors(loaded.diagnostics), loaded.diagnostics.map((d) => d.message).join('; '));
  const services = compose.services;
  let refs = 0;
  for (const route of loaded.resources.httpRoutes) {
    for (const rule of route.spec.rules ?? []) {
      for (const ref of rule.backendRefs ?? []) {
        refs++;
        const svc = services[ref.name];
        t.ok(svc, `backendRef ${ref.name} is a compose service`);
        if (!svc) continue;
        t.equal(listenPort(svc), ref.port, `${ref.name} listens on ${ref.port}`);
        t.ok((svc.expose ?? []).includes(String(ref.port)), `${ref.name} exposes ${ref.port}`);
        t.ok(svc.command?.includes('echo') && svc.command.includes('0.0.0.0'), `${ref.name} runs gatehouse echo on all interfaces`);
      }
    }
  }
  t.ok(refs >= 2, `${refs} backendRefs`);
  const { table, diagnostics } = compile(loaded.resources, {});
  t.notOk(hasErrors(diagnostics));
  t.ok(table.backends.length >= 2);
  for (const b of table.backends) t.equal(b.resolution, 'DNS', `${b.id} resolves through the DNS fallback`);
  const listener = table.ports[0];
  const gw = services.gateway;
  t.ok(gw.ports?.some((p) => p.endsWith(`:${listener.port}`)), `gateway publishes the listener port ${listener.port}`);
  t.ok(gw.volumes?.some((v) => v.startsWith('./gateway:/etc/gatehouse')), 'config dir mounted as a volume');
  t.equal(gw.command?.[0], 'run');
  t.equal(gw.command?.[1], '/etc/gatehouse');
  t.equal(gw.build?.dockerfile, 'examples/compose/Dockerfile');
});

t.test('Dockerfile: multi-stage, non-root, HEALTHCHECK via gatehouse healthcheck, ENTRYPOINT, config volume', async (t) => {
  const lines = readFileSync(join(DIR, 'Dockerfile'), 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const froms = lines.filter((l) => /^FROM /i.test(l));
  t.ok(froms.length >= 2, `${froms.length} stages`);
  t.ok(froms.every((f) => / AS \w+/i.test(f)), 'every stage is named');
  const build = lines.slice(lines.indexOf(froms[0]), lines.indexOf(froms[froms.length - 1]));
  t.ok(build.some((l) => /^RUN .*pnpm install --frozen-lockfile/.test(l)), 'the build stage installs with the lockfile');
  t.ok(build.some((l) => /^RUN .*pnpm package/.test(l)), 'and builds the single executable with pnpm package');
  t.ok(build.some((l) => /^ARG GATEHOUSE_COMMIT/.test(l)), 'the commit comes in as a build arg (.git is not in the context)');
  const lastFrom = lines.lastIndexOf(froms[froms.length - 1]);
  const final = lines.slice(lastFrom);
  t.match(final[0], /^FROM (gcr\.io\/distroless\/cc-debian\d+|debian:\w+-slim)\S* AS \w+$/, 'the runtime base is distroless (or debian-slim): no node, no shell needed');
  t.ok(final.some((l) => /^COPY --from=\w+ \S+ \/usr\/local\/bin\/gatehouse$/.test(l)), 'the executable is copied to /usr/local/bin/gatehouse');
  t.ok(final.some((l) => /^ENV PATH=.*\/usr\/local\/bin/.test(l)), 'which is on PATH');
  const user = final.find((l) => /^USER /.test(l));
  t.ok(user, 'USER in the final stage');
  t.notMatch(user ?? '', /^USER (root|0)(:|$)/, 'not root');
  t.match(final.find((l) => /^HEALTHCHECK /.test(l)) ?? '', /CMD \["gatehouse", "healthcheck"/, 'HEALTHCHECK runs gatehouse healthcheck (exec form)');
  t.equal(final.find((l) => /^ENTRYPOINT /.test(l)), 'ENTRYPOINT ["gatehouse"]', 'exec-form ENTRYPOINT gatehouse');
  t.match(final.find((l) => /^CMD /.test(l)) ?? '', /^CMD \["run", "\/etc\/gatehouse"/, 'CMD run /etc/gatehouse');
  t.ok(final.some((l) => /^VOLUME .*\/etc\/gatehouse/.test(l)), 'config dir is a volume');
  t.notOk(final.some((l) => /pnpm|tsc|npm |^RUN /.test(l)), 'no build tools, and nothing run, in the final stage (distroless has no shell)');
  const ignore = readFileSync(join(DIR, 'Dockerfile.dockerignore'), 'utf8').split('\n');
  for (const p of ['**/node_modules', '**/dist', 'dist-bin', '.git']) t.ok(ignore.includes(p), `.dockerignore: ${p}`);
});

t.test('compose: the gateway runs read-only, without capabilities; the commit is passed to the build', async (t) => {
  const raw = parse(readFileSync(join(DIR, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { read_only?: boolean; cap_drop?: string[]; security_opt?: string[]; build?: { args?: Record<string, string> } }>;
  };
  const gw = raw.services.gateway;
  t.equal(gw.read_only, true);
  t.same(gw.cap_drop, ['ALL']);
  t.ok(gw.security_opt?.includes('no-new-privileges:true'));
  t.match(gw.build?.args?.GATEHOUSE_COMMIT ?? '', /GATEHOUSE_COMMIT/);
});
