/** The command table (DESIGN.md §3). Each entry loads its module lazily so start-up stays fast. */
export interface CommandModule {
  run(argv: string[]): Promise<number>;
  usage: string;
}

type Loader = () => Promise<CommandModule>;

export const COMMANDS: Record<string, Loader> = {
  version: () => import('./version.js'),
  explain: () => import('./explain.js'),
  routes: () => import('./routes.js'),
  status: () => import('./status.js'),
  run: () => import('./run.js'),
  healthcheck: () => import('./healthcheck.js'),
  quickstart: () => import('./quickstart.js'),
  validate: () => import('./validate.js'),
  convert: () => import('./convert.js'),
  echo: () => import('./echo.js'),
  bench: () => import('./bench.js'),
  schema: () => import('./schema.js'),
};

export function printUsage(out: NodeJS.WritableStream): void {
  out.write(
    [
      'usage: gatehouse <command> [args]',
      '',
      '  run [DIR]                         serve the Gateway API YAML in DIR (default ./gateway), watch and reload',
      '  validate DIR [-o json]            load and check DIR; exit 0 ok, 1 errors',
      '  routes DIR [-o json]              the compiled, precedence-ordered routing table',
      "  explain DIR METHOD URL [-H 'k: v']...  which gateway/listener/route/rule wins and why",
      '  status DIR | --admin ADDR         kubectl-style status conditions',
      '  convert DIR                       print v1alpha1 objects as v1 YAML',
      '  echo --port N [--name X]          a JSON echo backend for demos and tests',
      '  quickstart                        run the bundled quickstart with its demo backends',
      '  bench DIR [--duration 10s] [-o json]  load-benchmark the routes with echo backends (or --offline, --target URL)',
      '  healthcheck [--admin ADDR]        exit 0 when /readyz answers 200',
      '  schema [KIND]                     JSON Schema of the config documents (for editors)',
      '  version                           print the version',
      '',
    ].join('\n'),
  );
}
