/**
 * Shared by the Node peer proxies: the config the harness passes in BENCH_PEER_CONFIG (JSON:
 * { port, targets: [{ url, weight }], routes?: [{ host, prefix, header: { name, value } }] }) and a
 * smooth weighted round-robin pick, so a 3:1 split is exact and interleaved like nginx's.
 */
export function loadConfig() {
  const cfg = JSON.parse(process.env.BENCH_PEER_CONFIG ?? 'null');
  if (!cfg || !cfg.port || !Array.isArray(cfg.targets) || cfg.targets.length === 0) {
    throw new Error('BENCH_PEER_CONFIG must be {"port":N,"targets":[{"url":"http://127.0.0.1:P","weight":1}]}');
  }
  return cfg;
}

/** Returns a function giving the index of the next target. */
export function weightedPicker(targets) {
  if (targets.length === 1) return () => 0;
  const weights = targets.map((t) => t.weight ?? 1);
  const total = weights.reduce((a, b) => a + b, 0);
  const current = weights.map(() => 0);
  return () => {
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i] += weights[i];
      if (current[i] > current[best]) best = i;
    }
    current[best] -= total;
    return best;
  };
}

export function onListening(name, port) {
  process.stdout.write(`${name} listening on 127.0.0.1:${port}\n`);
}
