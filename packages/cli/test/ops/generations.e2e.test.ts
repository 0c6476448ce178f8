/**
 * `gatehouse run --workers 2` as a user runs it: edit the Gateway's listener in the file, POST /reload,
 * and `/status` (and `gatehouse status --admin`) report observedGeneration 2 on the Gateway while the
 * untouched HTTPRoute stays at 1. About 2 s (two worker processes start).
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BIN, gatehouse, quickstartEnv, waitReady, withTimeout } from './e2e-helpers.js';

type Cond = { type: string; observedGeneration: number };
interface Status {
  gateways: { name: string; conditions: Cond[]; listeners: { name: string; conditions: Cond[] }[] }[];
  routes: { name: string; parents: { conditions: Cond[] }[] }[];
}

const gatewayGens = (s: Status) => {
  const gw = s.gateways.find((g) => g.name === 'default/demo')!;
  return [...gw.conditions, ...gw.listeners.flatMap((l) => l.conditions)].map((c) => c.observedGeneration);
};
const routeGens = (s: Status, name: string) =>
  s.routes.find((r) => r.name === name)!.parents.flatMap((p) => p.conditions.map((c) => c.observedGeneration));
const uniq = (xs: number[]) => [...new Set(xs)];

t.test('a listener edit + reload: Gateway conditions observedGeneration 1 -> 2, unchanged HTTPRoute stays 1', async (t) => {
  const env = await quickstartEnv();
  t.teardown(env.close);
  const p = gatehouse(['run', env.dir, '--workers', '2', '--no-watch', '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'off']);
  t.teardown(() => void p.child.kill('SIGKILL'));
  await waitReady(env.admin, p, 15_000);
  const status = async (): Promise<Status> => (await fetch(`http://127.0.0.1:${env.admin}/status`)).json() as Promise<Status>;

  const before = await status();
  t.same(uniq(gatewayGens(before)), [1], 'Gateway and listener conditions at 1');
  t.same(uniq(routeGens(before, 'default/www')), [1], 'HTTPRoute www at 1');

  // The user's edit: the listener also accepts routes from every namespace.
  const file = join(env.dir, 'gateway.yaml');
  const text = readFileSync(file, 'utf8');
  t.ok(text.includes('from: Same'), 'fixture has the field the test edits');
  writeFileSync(file, text.replace('from: Same', 'from: All'));
  const r = await fetch(`http://127.0.0.1:${env.admin}/reload`, { method: 'POST' });
  t.equal(((await r.json()) as { result: string }).result, 'ok', 'reload applied');

  const after = await status();
  t.same(uniq(gatewayGens(after)), [2], 'every Gateway and listener condition at observedGeneration 2');
  t.same(uniq(routeGens(after, 'default/www')), [1], 'the unchanged HTTPRoute stays at 1');

  // The same through the CLI a user would type.
  const { stdout } = await withTimeout(promisify(execFile)(process.execPath, [BIN, 'status', '--admin', `127.0.0.1:${env.admin}`, '-o', 'json']), 10_000, 'gatehouse status');
  const viaCli = JSON.parse(stdout) as Status;
  t.same(uniq(gatewayGens(viaCli)), [2], 'gatehouse status --admin: Gateway at 2');
  t.same(uniq(routeGens(viaCli, 'default/www')), [1], 'gatehouse status --admin: HTTPRoute at 1');
});
