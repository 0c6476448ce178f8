import { VERSION } from '@gatehouse/core';

export const usage = 'version';

export async function run(_argv: string[]): Promise<number> {
  process.stdout.write(`gatehouse ${VERSION} (node ${process.version})\n`);
  return 0;
}
