#!/usr/bin/env node
/**
 * `gatehouse` entry point: dispatches to one file per command under commands/. Each command module
 * exports `run(argv: string[]): Promise<number>` (the exit code) and `usage` (one line).
 * Exit codes: 0 ok, 1 errors in the config or at run time, 2 usage errors.
 */
import { COMMANDS, printUsage } from './commands/index.js';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    printUsage(process.stdout);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') return main(['version']);
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`gatehouse: unknown command "${name}"\n`);
    printUsage(process.stderr);
    return 2;
  }
  const mod = await load();
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    // Commands that keep serving (run, echo) resolve only when they are done.
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`gatehouse: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
